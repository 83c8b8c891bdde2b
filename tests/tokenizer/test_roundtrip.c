/* test_roundtrip.c — property tests over real vocabularies: tokenizing then
 * detokenizing random byte strings (invalid UTF-8 included) gives them back
 * (byte-level BPE and SPM with byte fallback are lossless), every id's
 * detokenization equals its token bytes, GPT-2's byte map matches an
 * independent construction, and long inputs tokenize in reasonable time. */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "test.h"
#include "tok_test_util.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

/* A random string mixing raw bytes, ASCII words, whitespace runs, digits and
 * multi-byte characters. */
static size_t random_text(char *buf, size_t max)
{
    static const char *pieces[] = {" ", "  ", "\n", "\t", "\r\n", "the", " world", "'s", "'LL",
                                   "123", "4567", "Привет", "中文", "🦙", "é", "\xE2\x96\x81",
                                   "<|endoftext|>", "<s>", "()", "==", "\xC3", "\xA9", "\xF0\x9F",
                                   "\xED\xA0\x80", "\xFF", "\xC0\xAF", "\x00", "Molecule: CC(=O)O"};
    size_t n = 0, target = rnd() % max;
    while (n < target) {
        uint32_t kind = rnd() % 4;
        if (kind == 0) { /* one random byte */
            buf[n++] = (char)(rnd() & 0xFF);
        } else {
            const char *p = pieces[rnd() % (sizeof pieces / sizeof pieces[0])];
            size_t k = p[0] ? strlen(p) : 1; /* "\x00" is one NUL byte */
            if (n + k > max)
                break;
            memcpy(buf + n, p, k);
            n += k;
        }
    }
    return n;
}

/* Round trips of random text. Bytes that no token spells alone (some BPE
 * vocabularies lack bytes never seen in training, e.g. 0xF1) are replaced by
 * 'x'; SPM inputs avoid U+2581, which SentencePiece reads as a space, and
 * special-token parsing, which puts a space after each special token. */
static void check_lossless(const char *label, smc_vocab *v, int rounds)
{
    bool spm = smc_vocab_add_space_prefix(v);
    bool spelled[256] = {false};
    for (int32_t id = 0; id < smc_vocab_n_tokens(v); id++) {
        smc_str b = smc_vocab_token_bytes(v, id);
        if (b.len == 1)
            spelled[(unsigned char)b.ptr[0]] = true;
    }
    int n_spelled = 0;
    for (int b = 0; b < 256; b++)
        n_spelled += spelled[b];
    fprintf(stderr, "%s: %d of 256 bytes have a token of their own\n", label, n_spelled);
    char buf[512];
    int failures = 0;
    for (int r = 0; r < rounds; r++) {
        size_t len = random_text(buf, sizeof buf);
        for (size_t i = 0; i < len; i++) {
            if (!spelled[(unsigned char)buf[i]])
                buf[i] = 'x';
            if (spm && i + 3 <= len && !memcmp(buf + i, "\xE2\x96\x81", 3))
                buf[i] = 'y';
        }
        bool parse_special = !spm && (r & 1) != 0; /* special texts round-trip when parsed */
        smc_error err = {{0}};
        int32_t *ids = NULL;
        size_t n = 0;
        char *back = NULL;
        size_t blen = 0;
        int rc = smc_tokenize(v, buf, len, false, parse_special, &ids, &n, &err);
        if (rc == 0)
            rc = smc_detokenize(v, ids, n, parse_special, &back, &blen, &err);
        size_t skip = (spm && len > 0) ? 1 : 0;
        bool ok = rc == 0 && blen == len + skip && (!skip || back[0] == ' ') &&
                  !memcmp(back + skip, buf, len);
        if (!ok && failures++ < 3) {
            size_t d = 0;
            while (back && d < len && d + skip < blen && back[d + skip] == buf[d])
                d++;
            fprintf(stderr, "%s: round trip failed (%s), %zu -> %zu bytes, first difference at %zu:",
                    label, err.msg, len, blen, d);
            for (size_t i = 0; i < len; i++)
                fprintf(stderr, " %02x", (unsigned char)buf[i]);
            fputc('\n', stderr);
        }
        free(ids);
        free(back);
    }
    CHECK_MSG(failures == 0, "%s: %d of %d round trips failed", label, failures, rounds);
}

/* smc_detokenize([id]) == smc_vocab_token_bytes(id) for every id, and
 * control tokens render as their text only when asked. */
static void check_single_ids(const char *label, smc_vocab *v)
{
    int bad = 0;
    for (int32_t id = 0; id < smc_vocab_n_tokens(v); id++) {
        smc_error err = {{0}};
        char *t = NULL;
        size_t len = 0;
        smc_str b = smc_vocab_token_bytes(v, id);
        if (smc_detokenize(v, &id, 1, false, &t, &len, &err) != 0 || len != b.len ||
            memcmp(t, b.ptr, len) != 0)
            bad++;
        free(t);
        if (smc_vocab_token_attr(v, id) == SMC_TOKEN_CONTROL) {
            smc_str txt = smc_vocab_token_text(v, id);
            if (b.len != 0 || smc_detokenize(v, &id, 1, true, &t, &len, &err) != 0 ||
                len != txt.len || memcmp(t, txt.ptr, len) != 0)
                bad++;
            free(t);
        }
    }
    CHECK_MSG(bad == 0, "%s: %d ids whose detokenization is not their bytes", label, bad);
}

/* GPT-2's bytes_to_unicode built independently: printable bytes keep their
 * code point, the other 68 take 256, 257, ... in order. Every byte's
 * single-character token must decode to exactly that byte. */
static void check_byte_map(smc_vocab *v)
{
    int next = 256, bad = 0;
    for (int b = 0; b < 256; b++) {
        int keep = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
        int cpt = keep ? b : next++;
        char utf8[3];
        size_t k;
        if (cpt < 0x80) {
            utf8[0] = (char)cpt;
            k = 1;
        } else {
            utf8[0] = (char)(0xC0 | (cpt >> 6));
            utf8[1] = (char)(0x80 | (cpt & 0x3F));
            k = 2;
        }
        int32_t found = -1;
        for (int32_t id = 0; id < smc_vocab_n_tokens(v) && found < 0; id++) {
            smc_str t = smc_vocab_token_text(v, id);
            if (t.len == k && !memcmp(t.ptr, utf8, k))
                found = id;
        }
        smc_str bytes = smc_vocab_token_bytes(v, found);
        if (found < 0 || bytes.len != 1 || (unsigned char)bytes.ptr[0] != b)
            bad++;
    }
    CHECK_EQ_INT(next, 256 + 68);
    CHECK_MSG(bad == 0, "%d bytes whose token does not decode to them", bad);
}

/* The process's CPU time: a bound on it holds however loaded the machine is. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Long inputs, including one-piece worst cases, tokenize without quadratic
 * blow-up and still round-trip. */
static void check_long_inputs(const char *label, smc_vocab *v, size_t size)
{
    char *buf = malloc(size);
    const char *fills[] = {"a", " ", "7", "\n", "ab", "def f(x):\n    return x  # comment\n"};
    for (size_t f = 0; f < sizeof fills / sizeof fills[0]; f++) {
        size_t k = strlen(fills[f]);
        for (size_t i = 0; i < size; i++)
            buf[i] = fills[f][i % k];
        smc_error err = {{0}};
        int32_t *ids = NULL;
        size_t n = 0;
        char *back = NULL;
        size_t blen = 0;
        double t0 = now_s();
        int rc = smc_tokenize(v, buf, size, false, false, &ids, &n, &err);
        double dt = now_s() - t0;
        CHECK_MSG(rc == 0, "%s long '%s': %s", label, fills[f], err.msg);
        if (rc == 0 && smc_detokenize(v, ids, n, false, &back, &blen, &err) == 0) {
            size_t skip = smc_vocab_add_space_prefix(v) ? 1 : 0;
            CHECK(blen == size + skip && !memcmp(back + skip, buf, size));
        }
        fprintf(stderr, "%s: %zu bytes of '%s' -> %zu tokens in %.3f s of CPU\n", label, size,
                f == 5 ? "code" : fills[f], n, dt);
        CHECK_MSG(dt < 10.0, "%s: %.1f s of CPU for %zu bytes", label, dt, size);
        free(ids);
        free(back);
    }
    free(buf);
}

/* Several threads tokenizing with one shared vocab get what one thread gets. */
typedef struct thread_job {
    const smc_vocab *v;
    const char *text;
    size_t len;
    int32_t *ids;
    size_t n;
    int rc;
} thread_job;

static void *thread_run(void *arg)
{
    thread_job *j = arg;
    smc_error err = {{0}};
    for (int r = 0; r < 20 && j->rc == 0; r++) {
        free(j->ids);
        j->ids = NULL;
        j->rc = smc_tokenize(j->v, j->text, j->len, true, true, &j->ids, &j->n, &err);
    }
    return NULL;
}

static void check_threads(const smc_vocab *v)
{
    static const char text[] = "import numpy as np\n\ndef f(x):\n    return np.sum(x) ** 2  # "
                               "caf\xC3\xA9 \xF0\x9F\xA6\x99 <|endoftext|> SELECT * FROM t;\n";
    smc_error err = {{0}};
    int32_t *want = NULL;
    size_t n_want = 0;
    CHECK(smc_tokenize(v, text, sizeof text - 1, true, true, &want, &n_want, &err) == 0);
    thread_job jobs[4];
    pthread_t th[4];
    for (int t = 0; t < 4; t++) {
        jobs[t] = (thread_job){v, text, sizeof text - 1, NULL, 0, 0};
        CHECK(pthread_create(&th[t], NULL, thread_run, &jobs[t]) == 0);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        CHECK(jobs[t].rc == 0 && jobs[t].n == n_want && want &&
              !memcmp(jobs[t].ids, want, n_want * sizeof *want));
        free(jobs[t].ids);
    }
    free(want);
}

void run_tests(void)
{
    REQUIRE_SHARED();
    bool sanitized = getenv("SMC_TEST_SANITIZED") != NULL;
    int rounds = sanitized ? 150 : 1500;
    size_t long_size = sanitized ? 50000 : 400000;
    const char *files[] = {"vocab/ggml-vocab-gpt-2.gguf", "vocab/ggml-vocab-starcoder.gguf",
                           "vocab/ggml-vocab-deepseek-coder.gguf", "vocab/ggml-vocab-llama-spm.gguf",
                           "vocab/ggml-vocab-phi-3.gguf", "models/small-f32.gguf",
                           "models/stories260K.gguf"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        smc_vocab *v = load_vocab(test_shared_path(files[i]));
        CHECK_MSG(v != NULL, "cannot load %s", files[i]);
        if (!v)
            continue;
        check_lossless(files[i], v, rounds);
        check_single_ids(files[i], v);
        if (i == 0 || i == 3 || i == 5)
            check_long_inputs(files[i], v, long_size);
        if (i == 0) /* gpt-2's vocabulary has every byte as a one-character token */
            check_byte_map(v);
        check_threads(v);
        smc_vocab_free(v);
    }
}
