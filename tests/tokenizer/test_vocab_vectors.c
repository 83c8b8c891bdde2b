/* test_vocab_vectors.c — llama.cpp's tokenizer test vectors: for every
 * ../shared/vocab/ggml-vocab-<name>.gguf with .inp/.out, each input
 * tokenizes (no BOS, no special parsing) to exactly the expected ids, and
 * detokenizes back to the input (SPM: with the leading space it adds). */
#include <string.h>

#include "test.h"
#include "tok_test_util.h"

#define SEP "\n__ggml_vocab_test__\n"

/* Splits .inp as llama.cpp's test-tokenizer-0 does: every input ends with
 * "\n__ggml_vocab_test__\n". */
static size_t split_inputs(char *raw, char **inp, size_t *inp_len, size_t max)
{
    size_t n = 0;
    char *pos = raw;
    char *hit;
    while (n < max && (hit = strstr(pos, SEP)) != NULL) {
        inp[n] = pos;
        inp_len[n] = (size_t)(hit - pos);
        n++;
        pos = hit + strlen(SEP);
    }
    return n;
}

/* Parses one line of space-separated ids. */
static size_t parse_ids(const char *line, const char *end, int32_t *ids, size_t max)
{
    size_t n = 0;
    while (line < end && n < max) {
        while (line < end && *line == ' ')
            line++;
        if (line >= end)
            break;
        ids[n++] = (int32_t)strtol(line, (char **)&line, 10);
    }
    return n;
}

static void check_vocab(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "vocab/ggml-vocab-%s.gguf", name);
    const char *gguf_path = test_shared_path(rel);
    char inp_path[4096], out_path[4096];
    snprintf(inp_path, sizeof inp_path, "%s.inp", gguf_path);
    snprintf(out_path, sizeof out_path, "%s.out", gguf_path);
    char *inp_raw = test_read_file(inp_path, NULL);
    char *out_raw = test_read_file(out_path, NULL);
    smc_vocab *v = load_vocab(gguf_path);
    CHECK_MSG(inp_raw && out_raw && v, "cannot load %s", name);
    if (!inp_raw || !out_raw || !v)
        goto done;

    char *inp[128];
    size_t inp_len[128];
    size_t n_inp = split_inputs(inp_raw, inp, inp_len, 128);
    CHECK_MSG(n_inp >= 40, "%s: only %zu inputs", name, n_inp);

    bool spm = !strcmp(smc_vocab_model(v), "llama");
    int mismatches = 0, detok_mismatches = 0;
    const char *line = out_raw;
    for (size_t t = 0; t < n_inp; t++) {
        const char *eol = strchr(line, '\n');
        if (!eol)
            eol = line + strlen(line);
        int32_t want[1024];
        size_t n_want = parse_ids(line, eol, want, 1024);
        line = *eol ? eol + 1 : eol;

        smc_error err = {{0}};
        int32_t *ids = NULL;
        size_t n_ids = 0;
        int rc = smc_tokenize(v, inp[t], inp_len[t], false, false, &ids, &n_ids, &err);
        CHECK_MSG(rc == 0, "%s #%zu: %s", name, t, err.msg);
        bool same = rc == 0 && n_ids == n_want && (n_ids == 0 || !memcmp(ids, want, n_ids * 4));
        if (!same) {
            mismatches++;
            fprintf(stderr, "%s #%zu \"%.*s\": got", name, t, (int)inp_len[t], inp[t]);
            for (size_t i = 0; i < n_ids; i++)
                fprintf(stderr, " %d", ids[i]);
            fprintf(stderr, "\n   want");
            for (size_t i = 0; i < n_want; i++)
                fprintf(stderr, " %d", want[i]);
            fputc('\n', stderr);
        }
        /* Detokenizing gives back the input; SPM adds one leading space to
         * non-empty text. */
        char *text = NULL;
        size_t len = 0;
        if (rc == 0 && smc_detokenize(v, ids, n_ids, false, &text, &len, &err) == 0) {
            size_t skip = (spm && inp_len[t] > 0 && len > 0 && text[0] == ' ') ? 1 : 0;
            bool ok = len - skip == inp_len[t] && !memcmp(text + skip, inp[t], inp_len[t]) &&
                      (!spm || inp_len[t] == 0 || skip == 1);
            if (!ok) {
                detok_mismatches++;
                fprintf(stderr, "%s #%zu: detokenized to \"%s\"\n", name, t, text);
            }
        } else {
            detok_mismatches++;
        }
        free(text);
        free(ids);
    }
    fprintf(stderr, "%s: %zu inputs, %d id mismatches, %d detokenize mismatches\n", name, n_inp,
            mismatches, detok_mismatches);
    CHECK_EQ_INT(mismatches, 0);
    CHECK_EQ_INT(detok_mismatches, 0);
done:
    free(inp_raw);
    free(out_raw);
    smc_vocab_free(v);
}

void run_tests(void)
{
    REQUIRE_SHARED();
    const char *names[] = {"llama-spm", "phi-3", "gpt-2", "starcoder", "deepseek-coder"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        check_vocab(names[i]);
}
