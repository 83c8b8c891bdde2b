/* cmd_tokenize.c — `smcgen tokenize` (text -> token ids) and `smcgen
 * detokenize` (token ids -> the exact bytes they stand for). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/file.h"
#include "util/paths.h"

static smc_vocab *open_vocab(const char *path)
{
    smc_error err = {{0}};
    smc_gguf *g = NULL;
    if (smc_gguf_open(path, &g, &err) != 0) {
        cli_error("%s", err.msg);
        return NULL;
    }
    smc_vocab *v = NULL;
    if (smc_vocab_load(g, &v, &err) != 0)
        cli_error("%s: %s", path, err.msg);
    smc_gguf_close(g);
    return v;
}

/* Length of the valid UTF-8 character at s (2..4 bytes), or 0. */
static size_t utf8_char(const unsigned char *s, size_t avail)
{
    size_t n = s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (s[0] >= 0xF5 || n == 0 || n > avail)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    /* no overlong 3/4-byte forms, no surrogates, nothing past U+10FFFF */
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0) ||
        (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90))
        return 0;
    return n;
}

static bool valid_utf8(smc_str s)
{
    for (size_t i = 0; i < s.len;) {
        unsigned char c = (unsigned char)s.ptr[i];
        size_t n = c < 0x80 ? 1 : utf8_char((const unsigned char *)s.ptr + i, s.len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

/* Writes bytes as a quoted string for people: C escapes for control bytes,
 * valid UTF-8 as it is, any other byte as \xNN. */
static void print_quoted(FILE *f, smc_str s)
{
    fputc('"', f);
    for (size_t i = 0; i < s.len;) {
        unsigned char c = (unsigned char)s.ptr[i];
        size_t n;
        if (c == '"' || c == '\\') {
            fprintf(f, "\\%c", c);
            i++;
        } else if (c == '\n') {
            fputs("\\n", f);
            i++;
        } else if (c == '\t') {
            fputs("\\t", f);
            i++;
        } else if (c == '\r') {
            fputs("\\r", f);
            i++;
        } else if (c >= 0x20 && c < 0x7F) {
            fputc(c, f);
            i++;
        } else if (c >= 0x80 && (n = utf8_char((const unsigned char *)s.ptr + i, s.len - i))) {
            fwrite(s.ptr + i, 1, n, f);
            i += n;
        } else {
            fprintf(f, "\\x%02x", c);
            i++;
        }
    }
    fputc('"', f);
}

static void tokenize_usage(FILE *f)
{
    fprintf(f,
            "usage: smcgen tokenize [-m MODEL.gguf] [--ids] [--no-bos] [--parse-special] [--json]\n"
            "                       (TEXT | - | -f FILE)\n\n"
            "Turns text into the model's token ids.\n\n"
            "  -m FILE          GGUF file whose vocabulary to use (default: %s)\n"
            "  --ids            print only the ids, comma-separated (a JSON array with --json)\n"
            "  --no-bos         do not add BOS/EOS even when the vocabulary asks for them\n"
            "  --parse-special  recognise special-token texts such as <|endoftext|> in TEXT\n"
            "                   (otherwise they are tokenized as ordinary text)\n"
            "  --json           machine-readable output: [{\"id\":N,\"text\":vocab text,\n"
            "                   \"bytes\":the bytes if valid UTF-8 else null,\"hex\":the bytes},...]\n"
            "  -f FILE          read the text from FILE (byte for byte)\n"
            "  TEXT             the text; \"-\" reads standard input\n\n"
            "Default output: one line per token: its id and its bytes as a quoted string\n"
            "(bytes that are not valid UTF-8 as \\xNN; control tokens as their text).\n",
            smc_default_model_path());
}

int cmd_tokenize(int argc, char **argv)
{
    const char *model = smc_default_model_path();
    const char *text_arg = NULL, *file = NULL;
    bool ids_only = false, no_bos = false, parse_special = false, json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            tokenize_usage(stdout);
            return 0;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (++i >= argc) {
                cli_error("option %s needs a file", a);
                return 2;
            }
            model = argv[i];
        } else if (!strcmp(a, "-f") || !strcmp(a, "--file")) {
            if (++i >= argc) {
                cli_error("option %s needs a file", a);
                return 2;
            }
            file = argv[i];
        } else if (!strcmp(a, "--ids")) {
            ids_only = true;
        } else if (!strcmp(a, "--no-bos")) {
            no_bos = true;
        } else if (!strcmp(a, "--parse-special")) {
            parse_special = true;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (a[0] == '-' && a[1] != '\0' && strcmp(a, "--") != 0) {
            cli_error("tokenize: unknown option '%s' (see 'smcgen tokenize --help')", a);
            return 2;
        } else {
            if (!strcmp(a, "--")) {
                if (++i >= argc)
                    break;
                a = argv[i];
            }
            if (text_arg) {
                cli_error("tokenize: give the text as one argument (quote it)");
                return 2;
            }
            text_arg = a;
        }
    }
    if (!!text_arg + !!file != 1) {
        cli_error("tokenize: give exactly one of TEXT, '-' or -f FILE (see --help)");
        return 2;
    }

    char *text = NULL;
    size_t len = 0;
    if (file || !strcmp(text_arg, "-")) {
        FILE *f = file ? fopen(file, "rb") : stdin;
        if (!f) {
            cli_error("cannot open %s: %s", file, strerror(errno));
            return 1;
        }
        text = smc_read_stream(f, &len, NULL);
        if (file)
            fclose(f);
        if (!text) {
            cli_error("cannot read the text: out of memory");
            return 1;
        }
    } else {
        len = strlen(text_arg);
        text = malloc(len + 1);
        if (!text)
            return 1;
        memcpy(text, text_arg, len + 1);
    }

    smc_vocab *v = open_vocab(model);
    if (!v) {
        free(text);
        return 1;
    }
    smc_error err = {{0}};
    int32_t *ids = NULL;
    size_t n = 0;
    if (smc_tokenize(v, text, len, !no_bos, parse_special, &ids, &n, &err) != 0) {
        cli_error("tokenize: %s", err.msg);
        free(text);
        smc_vocab_free(v);
        return 1;
    }
    if (ids_only) {
        fputs(json ? "[" : "", stdout);
        for (size_t i = 0; i < n; i++)
            printf("%s%d", i ? "," : "", ids[i]);
        fputs(json ? "]\n" : "\n", stdout);
    } else if (json) {
        fputs("[", stdout);
        for (size_t i = 0; i < n; i++) {
            smc_str t = smc_vocab_token_text(v, ids[i]), b = smc_vocab_token_bytes(v, ids[i]);
            printf("%s{\"id\":%d,\"text\":", i ? "," : "", ids[i]);
            cli_json_string(stdout, t.ptr, t.len);
            /* "bytes" when they are valid UTF-8 (else null); "hex" always. */
            fputs(",\"bytes\":", stdout);
            if (valid_utf8(b))
                cli_json_string(stdout, b.ptr, b.len);
            else
                fputs("null", stdout);
            fputs(",\"hex\":\"", stdout);
            for (size_t k = 0; k < b.len; k++)
                printf("%02x", (unsigned char)b.ptr[k]);
            fputs("\"}", stdout);
        }
        fputs("]\n", stdout);
    } else {
        for (size_t i = 0; i < n; i++) {
            printf("%6d ", ids[i]);
            smc_str b = smc_vocab_token_bytes(v, ids[i]);
            if (b.len == 0 && smc_vocab_token_text(v, ids[i]).len > 0) {
                /* a control token: show its text, marked */
                smc_str t = smc_vocab_token_text(v, ids[i]);
                printf("%.*s", (int)t.len, t.ptr);
            } else {
                print_quoted(stdout, b);
            }
            fputc('\n', stdout);
        }
    }
    free(ids);
    free(text);
    smc_vocab_free(v);
    return 0;
}

static void detokenize_usage(FILE *f)
{
    fprintf(f,
            "usage: smcgen detokenize [-m MODEL.gguf] [--render-special] [--json] ID...\n\n"
            "Writes the exact bytes the token ids stand for (no newline added unless standard\n"
            "output is a terminal). IDs may be separate arguments or comma-separated lists;\n"
            "\"-\" reads ids (separated by commas, spaces or newlines) from standard input.\n\n"
            "  -m FILE           GGUF file whose vocabulary to use (default: %s)\n"
            "  --render-special  write control tokens (e.g. BOS) as their text instead of nothing\n"
            "  --json            print {\"text\":\"...\",\"hex\":\"...\"} instead of the raw bytes\n"
            "                    (text is null when the bytes are not valid UTF-8)\n",
            smc_default_model_path());
}

/* Appends the ids in "12,34 56" to *ids. Returns -1 on a malformed id. */
static int parse_id_list(const char *s, int32_t **ids, size_t *n, size_t *cap)
{
    while (*s) {
        if (*s == ',' || *s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
            s++;
            continue;
        }
        char *end;
        errno = 0;
        long x = strtol(s, &end, 10);
        if (end == s || errno || x < INT32_MIN || x > INT32_MAX ||
            (*end && *end != ',' && *end != ' ' && *end != '\t' && *end != '\n' && *end != '\r')) {
            cli_error("detokenize: '%s' is not a token id", s);
            return -1;
        }
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            int32_t *p = realloc(*ids, *cap * sizeof *p);
            if (!p)
                return -1;
            *ids = p;
        }
        (*ids)[(*n)++] = (int32_t)x;
        s = end;
    }
    return 0;
}

int cmd_detokenize(int argc, char **argv)
{
    const char *model = smc_default_model_path();
    bool render_special = false, json = false;
    int32_t *ids = NULL;
    size_t n = 0, cap = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            detokenize_usage(stdout);
            free(ids);
            return 0;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (++i >= argc) {
                cli_error("option %s needs a file", a);
                free(ids);
                return 2;
            }
            model = argv[i];
        } else if (!strcmp(a, "--render-special")) {
            render_special = true;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "-")) {
            size_t in_len = 0;
            char *in = smc_read_stream(stdin, &in_len, NULL);
            if (!in || strlen(in) != in_len || parse_id_list(in, &ids, &n, &cap) != 0) {
                if (in && strlen(in) != in_len)
                    cli_error("detokenize: standard input holds a NUL byte, not ids");
                free(in);
                free(ids);
                return 2;
            }
            free(in);
        } else if (a[0] == '-' && (a[1] < '0' || a[1] > '9')) {
            cli_error("detokenize: unknown option '%s' (see 'smcgen detokenize --help')", a);
            free(ids);
            return 2;
        } else if (parse_id_list(a, &ids, &n, &cap) != 0) {
            free(ids);
            return 2;
        }
    }
    smc_vocab *v = open_vocab(model);
    if (!v) {
        free(ids);
        return 1;
    }
    smc_error err = {{0}};
    char *text = NULL;
    size_t len = 0;
    int rc = smc_detokenize(v, ids, n, render_special, &text, &len, &err);
    if (rc != 0) {
        cli_error("detokenize: %s", err.msg);
    } else if (json) {
        smc_str t = {text, len};
        fputs("{\"text\":", stdout);
        if (valid_utf8(t))
            cli_json_string(stdout, text, len);
        else
            fputs("null", stdout);
        fputs(",\"hex\":\"", stdout);
        for (size_t k = 0; k < len; k++)
            printf("%02x", (unsigned char)text[k]);
        fputs("\"}\n", stdout);
    } else {
        fwrite(text, 1, len, stdout);
        if (isatty(STDOUT_FILENO))
            fputc('\n', stdout);
    }
    free(text);
    free(ids);
    smc_vocab_free(v);
    return rc != 0 ? 1 : 0;
}
