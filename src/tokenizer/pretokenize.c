/* pretokenize.c — the byte-level BPE pre-tokenizer regexes (as llama.cpp's
 * llama-vocab.cpp lists them per tokenizer.ggml.pre) compiled with PCRE2 in
 * UTF + UCP mode, and the splitting that applies them in sequence. */
#include "tokenizer/pretokenize.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

#define RX_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
#define RX_LLAMA3                                                                          \
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|" \
    "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RX_QWEN2                                                                           \
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|" \
    "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

#define MAX_RX 5

typedef struct pretok_def {
    const char *names[12];       /* tokenizer.ggml.pre values, NULL-terminated */
    const char *rx[MAX_RX + 1];  /* regexes, NULL-terminated */
    bool ignore_merges, force_bos;
} pretok_def;

#define RX_CONTRACTIONS "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
#define RX_SPLIT_PUNCT " ?[^(\\s|.,!?\u2026\u3002\uFF0C\u3001\u0964\u06D4\u060C)]+"
#define RX_TEKKEN                                                                        \
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|"                  \
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| "          \
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RX_GPT4O                                                                         \
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+" RX_CONTRACTIONS   \
    "?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*" RX_CONTRACTIONS \
    "?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RX_DEEPSEEK3                                                                     \
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?"      \
    "[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

/* The regex lists of llama.cpp's llm_tokenizer_bpe, by pre-tokenizer name.
 * The first six groups are checked against llama.cpp's test vectors; the
 * others are transcribed from the same source without vectors to test. */
static const pretok_def DEFS[] = {
    {{"default", NULL},
     {"[\\p{P}\\$\\+<=>\\^~\\|]+", RX_GPT2, "\\p{N}+", "[0-9][0-9][0-9]", NULL},
     false, false},
    {{"gpt-2", "gpt2", "mpt", "olmo", "jais", "phi-2", "trillion", "granite-docling", NULL},
     {RX_GPT2, NULL},
     false, false},
    {{"llama-bpe", "llama3", "llama-v3", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"},
     {RX_LLAMA3, NULL},
     true, true},
    {{"qwen2", "deepseek-r1-qwen", "kormo", "stablelm2", "hunyuan", "megrez", "grok-2", NULL},
     {RX_QWEN2, NULL},
     false, false},
    {{"starcoder", "smollm", "refact", "command-r", "codeshell", "exaone", "minerva-7b", NULL},
     {"\\p{N}", RX_GPT2, NULL},
     false, false},
    {{"deepseek-coder", NULL},
     {"[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+",
      "[\\x{4E00}-\\x{9FA5}\\x{0800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+", "\\p{N}", NULL},
     false, false},
    {{"dbrx", "smaug-bpe", NULL}, {RX_LLAMA3, NULL}, false, false},
    {{"falcon", NULL},
     {"[\\p{P}\\$\\+<=>\\^~\\|`]+", RX_GPT2, "[0-9][0-9][0-9]", NULL},
     false, false},
    {{"poro-chat", "bloom", "gpt3-finnish", NULL}, {RX_SPLIT_PUNCT, NULL}, false, false},
    {{"viking", NULL}, {RX_SPLIT_PUNCT, "\\p{N}", NULL}, false, false},
    {{"tekken", NULL}, {RX_TEKKEN, NULL}, true, true},
    {{"gpt-4o", "llama4", NULL}, {RX_GPT4O, NULL}, false, false},
    {{"seed-coder", NULL},
     {RX_CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|"
                      "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
      NULL},
     false, false},
    {{"deepseek-v3", "hunyuan-dense", NULL},
     {"\\p{N}{1,3}", "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+", RX_DEEPSEEK3, NULL},
     false, false},
};

struct smc_pretok {
    const pretok_def *def;
    pcre2_code *code[MAX_RX];
    int n;
};

int pretok_create(const char *name, smc_pretok **out, smc_error *err)
{
    *out = NULL;
    const pretok_def *def = NULL;
    for (size_t d = 0; d < sizeof DEFS / sizeof DEFS[0] && !def; d++)
        for (int k = 0; DEFS[d].names[k]; k++)
            if (!strcmp(DEFS[d].names[k], name))
                def = &DEFS[d];
    if (!def)
        return smc_fail(err,
                        "unsupported BPE pre-tokenizer '%s' (tokenizer.ggml.pre); supported "
                        "include default, gpt-2, llama-bpe, qwen2, starcoder, smollm, "
                        "deepseek-coder, falcon, tekken, gpt-4o",
                        name);
    smc_pretok *p = calloc(1, sizeof *p);
    if (!p)
        return smc_fail(err, "out of memory");
    p->def = def;
    for (int k = 0; def->rx[k]; k++) {
        int ecode;
        PCRE2_SIZE eoff;
        pcre2_code *c = pcre2_compile((PCRE2_SPTR)def->rx[k], PCRE2_ZERO_TERMINATED,
                                      PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &ecode,
                                      &eoff, NULL);
        if (!c) {
            char msg[160];
            pcre2_get_error_message(ecode, (PCRE2_UCHAR *)msg, sizeof msg);
            pretok_free(p);
            return smc_fail(err, "pre-tokenizer '%s': regex %d does not compile at %zu: %s", name,
                            k, (size_t)eoff, msg);
        }
        /* JIT is an optimisation: when unavailable, the interpreter runs. */
        (void)pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);
        p->code[p->n++] = c;
    }
    *out = p;
    return 0;
}

void pretok_free(smc_pretok *p)
{
    if (!p)
        return;
    for (int k = 0; k < p->n; k++)
        pcre2_code_free(p->code[k]);
    free(p);
}

size_t pretok_names(const char **names, size_t max)
{
    size_t n = 0;
    for (size_t d = 0; d < sizeof DEFS / sizeof DEFS[0]; d++)
        for (int k = 0; DEFS[d].names[k]; k++, n++)
            if (n < max)
                names[n] = DEFS[d].names[k];
    return n;
}

bool pretok_ignore_merges(const smc_pretok *p) { return p->def->ignore_merges; }
bool pretok_forces_bos(const smc_pretok *p) { return p->def->force_bos; }

static int push_piece(piece_vec *v, size_t off, size_t len)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        text_piece *p = realloc(v->p, cap * sizeof *p);
        if (!p)
            return -1;
        v->p = p;
        v->cap = cap;
    }
    v->p[v->n].off = off;
    v->p[v->n].len = len;
    v->n++;
    return 0;
}

/* Length of the (possibly invalid) UTF-8 character at s, at least 1. */
static size_t utf8_char_len(const unsigned char *s, size_t avail)
{
    static const unsigned char lens[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    size_t n = lens[s[0] >> 4];
    return n < avail ? n : avail;
}

/* Appends the matches of `code` inside piece [off, off+len) and the gaps
 * between them to out. */
static int split_piece(const pcre2_code *code, pcre2_match_data *md, const char *text, size_t off,
                       size_t len, piece_vec *out, smc_error *err)
{
    PCRE2_SPTR subject = (PCRE2_SPTR)(text + off);
    size_t pos = 0, gap_start = 0;
    while (pos < len) {
        int rc = pcre2_match(code, subject, len, pos, 0, md, NULL);
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
            rc = pcre2_match(code, subject, len, pos, PCRE2_NO_JIT, md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH)
            break;
        if (rc < 0) {
            char msg[160];
            pcre2_get_error_message(rc, (PCRE2_UCHAR *)msg, sizeof msg);
            return smc_fail(err, "pre-tokenizer regex failed at byte %zu: %s", off + pos, msg);
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t ms = ov[0], me = ov[1];
        if (me <= ms) {
            /* An empty match: step over one character, leaving it in the gap. */
            pos = ms + utf8_char_len(subject + ms, len - ms);
            continue;
        }
        if (ms > gap_start && push_piece(out, off + gap_start, ms - gap_start) != 0)
            return smc_fail(err, "out of memory");
        if (push_piece(out, off + ms, me - ms) != 0)
            return smc_fail(err, "out of memory");
        pos = gap_start = me;
    }
    if (len > gap_start && push_piece(out, off + gap_start, len - gap_start) != 0)
        return smc_fail(err, "out of memory");
    return 0;
}

int pretok_split(const smc_pretok *p, const char *text, size_t len, piece_vec *out,
                 smc_error *err)
{
    out->n = 0;
    if (len == 0)
        return 0;
    if (push_piece(out, 0, len) != 0)
        return smc_fail(err, "out of memory");
    piece_vec next = {0};
    for (int k = 0; k < p->n; k++) {
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(p->code[k], NULL);
        if (!md) {
            free(next.p);
            return smc_fail(err, "out of memory");
        }
        next.n = 0;
        for (size_t i = 0; i < out->n; i++) {
            if (split_piece(p->code[k], md, text, out->p[i].off, out->p[i].len, &next, err) != 0) {
                pcre2_match_data_free(md);
                free(next.p);
                return -1;
            }
        }
        pcre2_match_data_free(md);
        piece_vec tmp = *out;
        *out = next;
        next = tmp;
    }
    free(next.p);
    return 0;
}
