/* cmd_grammar.c — `smcgen grammar check G` (compile a grammar, report errors
 * with line:column or "ok" with rule counts) and `smcgen grammar accept G
 * TEXT` (is TEXT a complete string, a prefix, or invalid). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "util/file.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: smcgen grammar check [options] GRAMMAR\n"
            "       smcgen grammar accept [options] GRAMMAR TEXT\n"
            "\n"
            "check   compiles GRAMMAR and prints \"ok\" with its rule counts and its counted\n"
            "        chains (bounded repetitions whose token masks are walked with a counter,\n"
            "        each with its bound: how many more copies it allows), or the error with\n"
            "        line:column (exit 1).\n"
            "accept  tells whether TEXT is a complete string of the grammar's language\n"
            "        (prints \"complete\", exit 0), a proper prefix of one (\"prefix\", exit 3)\n"
            "        or neither (\"invalid\", exit 4).\n"
            "\n"
            "GRAMMAR is a file: .gbnf (llama.cpp GBNF), .lark (Lark), .regex/.re (a regex,\n"
            "the whole file, trailing newline stripped); other extensions are read as GBNF.\n"
            "\n"
            "options:\n"
            "  --type gbnf|lark|regex|json-schema\n"
            "                          the grammar's syntax, overriding the extension\n"
            "                          (.gbnf, .lark, .regex/.re, .json = JSON Schema)\n"
            "  --regex                 GRAMMAR is a regex pattern given inline, not a file\n"
            "  --root NAME             the start rule (default: root for GBNF, start for Lark)\n"
            "  --json-ws compact|flexible\n"
            "                          JSON Schema whitespace between tokens: none (default)\n"
            "                          or one bounded run (\" \", or a newline and indentation)\n"
            "  --any-order             JSON Schema objects: properties in any order, as validators\n"
            "                          accept them (default: the schema's order)\n"
            "  --strict-schema         refuse unknown JSON Schema keywords (default: ignore them\n"
            "                          with a warning)\n"
            "  -f, --file PATH         accept: read TEXT from PATH ('-' for stdin) instead\n"
            "  -e, --escapes           accept: interpret \\n \\t \\r \\\\ \\xHH in TEXT\n"
            "  -l, --lines             accept -f: classify each line of PATH on its own, one\n"
            "                          verdict per line (complete/prefix/invalid); exit 0\n"
            "  --json                  machine-readable output\n"
            "  -h, --help              this help\n");
}

/* A file's contents, or standard input's for "-"; NULL after saying why. */
static char *read_all(const char *path, size_t *len)
{
    smc_error err = {{0}};
    char *text = strcmp(path, "-") == 0 ? smc_read_stream(stdin, len, &err)
                                        : smc_read_file(path, len, &err);
    if (!text)
        cli_error("%s", err.msg);
    return text;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* In place; returns the new length or -1 on a bad escape. */
static long unescape(char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            s[o++] = s[i];
            continue;
        }
        if (++i >= n)
            return -1;
        switch (s[i]) {
        case 'n': s[o++] = '\n'; break;
        case 't': s[o++] = '\t'; break;
        case 'r': s[o++] = '\r'; break;
        case '\\': s[o++] = '\\'; break;
        case 'x': {
            int a = i + 1 < n ? hexval(s[i + 1]) : -1, b = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (a < 0 || b < 0)
                return -1;
            s[o++] = (char)(a * 16 + b);
            i += 2;
            break;
        }
        default: return -1;
        }
    }
    return (long)o;
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

static int load(const char *spec, const char *type, bool inline_regex, const char *root,
                unsigned schema_flags, smc_grammar **g)
{
    smc_error err = {{0}};
    int rc;
    if (inline_regex) {
        rc = smc_grammar_from_regex(spec, strlen(spec), g, &err);
        if (rc)
            cli_error("regex: %s", err.msg);
        return rc;
    }
    size_t len;
    char *text = read_all(spec, &len);
    if (!text)
        return -1;
    if (!type)
        type = has_suffix(spec, ".lark")                                ? "lark"
               : (has_suffix(spec, ".regex") || has_suffix(spec, ".re")) ? "regex"
               : has_suffix(spec, ".json")                               ? "json-schema"
                                                                         : "gbnf";
    if (strcmp(type, "lark") == 0) {
        rc = smc_grammar_from_lark(text, len, root, g, &err);
    } else if (strcmp(type, "json-schema") == 0) {
        rc = smc_grammar_from_json_schema_ex(text, len, schema_flags, g, &err);
    } else if (strcmp(type, "regex") == 0) {
        while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
            len--;
        rc = smc_grammar_from_regex(text, len, g, &err);
    } else {
        rc = smc_grammar_from_gbnf(text, len, root, g, &err);
    }
    free(text);
    if (rc)
        cli_error("%s:%s", spec, err.msg);
    return rc;
}

/* --lines: one verdict per line of text (a last line without newline counts). */
static void print_line_verdicts(const smc_grammar *g, const char *text, size_t len)
{
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
        smc_match_kind k = smc_grammar_classify(g, text + at, n);
        puts(k == SMC_MATCH_COMPLETE ? "complete" : k == SMC_MATCH_PREFIX ? "prefix" : "invalid");
        at += n + 1;
    }
}

int cmd_grammar(int argc, char **argv)
{
    const char *type = NULL, *root = NULL, *file = NULL;
    bool json = false, escapes = false, inline_regex = false;
    unsigned schema_flags = 0;
    bool lines = false;
    const char *pos[3];
    int n_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--type") == 0 && i + 1 < argc) {
            type = argv[++i];
            if (strcmp(type, "gbnf") && strcmp(type, "lark") && strcmp(type, "regex") &&
                strcmp(type, "json-schema")) {
                cli_error("grammar: --type must be gbnf, lark, regex or json-schema");
                return 2;
            }
        } else if (strcmp(a, "--json-ws") == 0 && i + 1 < argc) {
            int f = smc_json_schema_ws_flag(argv[++i]);
            if (f < 0) {
                cli_error("grammar: --json-ws must be compact or flexible");
                return 2;
            }
            schema_flags = (schema_flags & ~SMC_JSON_SCHEMA_FLEXIBLE_WS) | (unsigned)f;
        } else if (strcmp(a, "--strict-schema") == 0) {
            schema_flags |= SMC_JSON_SCHEMA_STRICT;
        } else if (strcmp(a, "--any-order") == 0) {
            schema_flags |= SMC_JSON_SCHEMA_ANY_ORDER;
        } else if (strcmp(a, "--root") == 0 && i + 1 < argc) {
            root = argv[++i];
        } else if ((strcmp(a, "-f") == 0 || strcmp(a, "--file") == 0) && i + 1 < argc) {
            file = argv[++i];
        } else if (strcmp(a, "-l") == 0 || strcmp(a, "--lines") == 0) {
            lines = true;
        } else if (strcmp(a, "-e") == 0 || strcmp(a, "--escapes") == 0) {
            escapes = true;
        } else if (strcmp(a, "--regex") == 0) {
            inline_regex = true;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (a[0] == '-' && a[1] != 0 && strcmp(a, "--") != 0) {
            cli_error("grammar: unknown option %s (see --help)", a);
            return 2;
        } else {
            if (strcmp(a, "--") == 0 && i + 1 < argc)
                a = argv[++i];
            if (n_pos == 3) {
                cli_error("grammar: too many arguments (see --help)");
                return 2;
            }
            pos[n_pos++] = a;
        }
    }
    if (n_pos < 2) {
        usage(stderr);
        return 2;
    }
    const char *verb = pos[0], *spec = pos[1];
    bool check = strcmp(verb, "check") == 0, accept = strcmp(verb, "accept") == 0;
    if (!check && !accept) {
        cli_error("grammar: unknown subcommand '%s' (check or accept)", verb);
        return 2;
    }
    if (check && n_pos != 2) {
        cli_error("grammar check takes one GRAMMAR");
        return 2;
    }
    if (accept && ((file && n_pos != 2) || (!file && n_pos != 3))) {
        cli_error("grammar accept takes GRAMMAR and TEXT (or -f PATH)");
        return 2;
    }
    smc_grammar *g = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (load(spec, type, inline_regex, root, schema_flags, &g) != 0)
        return 1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double compile_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    int status = 0;
    if (check) {
        smc_grammar_stats st;
        smc_grammar_get_stats(g, &st);
        const char *w = smc_grammar_warnings(g);
        int n_chains = smc_grammar_counted_chains(g, NULL, 0);
        uint32_t *bounds = n_chains > 0 ? malloc((size_t)n_chains * sizeof *bounds) : NULL;
        if (n_chains > 0 && !bounds) {
            cli_error("grammar: out of memory");
            smc_grammar_free(g);
            return 1;
        }
        smc_grammar_counted_chains(g, bounds, n_chains);
        if (json) {
            printf("{\"ok\":true,\"rules\":%d,\"nonterminals\":%d,\"productions\":%d,\"terminals\":%d,"
                   "\"counted_chains\":%d,\"chain_bounds\":[", st.n_rules, st.n_nonterminals, st.n_productions,
                   st.n_terminals, n_chains);
            for (int i = 0; i < n_chains; i++)
                printf("%s%u", i ? "," : "", bounds[i]);
            printf("],\"compile_ms\":%.3f,\"warnings\":", compile_ms);
            cli_json_string(stdout, w, strlen(w));
            printf("}\n");
        } else {
            if (*w)
                fprintf(stderr, "warning: %s", w);
            printf("ok: %d rules (%d nonterminals, %d productions, %d byte-set terminals after expansion)\n", st.n_rules,
                   st.n_nonterminals, st.n_productions, st.n_terminals);
            /* the repetitions token masks walk with a counter, and how many
             * more copies each allows (the first 16 bounds) */
            printf("counted chains: %d", n_chains);
            for (int i = 0; i < n_chains && i < 16; i++)
                printf("%s%u", i ? ", " : " (bounds ", bounds[i]);
            printf("%s\n", n_chains > 16 ? ", ...)" : n_chains ? ")" : "");
        }
        free(bounds);
    } else {
        char *text;
        size_t len;
        if (file) {
            text = read_all(file, &len);
            if (!text) {
                smc_grammar_free(g);
                return 1;
            }
        } else {
            len = strlen(pos[2]);
            text = malloc(len + 1);
            if (!text) {
                smc_grammar_free(g);
                return 1;
            }
            memcpy(text, pos[2], len + 1);
        }
        if (escapes) {
            long n = unescape(text, len);
            if (n < 0) {
                cli_error("grammar: bad escape in TEXT (\\n \\t \\r \\\\ \\xHH)");
                free(text);
                smc_grammar_free(g);
                return 2;
            }
            len = (size_t)n;
        }
        if (lines) {
            if (!file) {
                cli_error("grammar accept: --lines needs -f PATH");
                free(text);
                smc_grammar_free(g);
                return 2;
            }
            print_line_verdicts(g, text, len);
            free(text);
            smc_grammar_free(g);
            return 0;
        }
        smc_match_kind k = smc_grammar_classify(g, text, len);
        const char *name = k == SMC_MATCH_COMPLETE ? "complete" : k == SMC_MATCH_PREFIX ? "prefix" : "invalid";
        /* how far a valid prefix extends, for invalid strings */
        size_t valid = len;
        if (k == SMC_MATCH_INVALID) {
            smc_matcher *m = smc_matcher_new(g);
            valid = 0;
            while (m && valid < len && smc_matcher_advance_bytes(m, text + valid, 1) == 0)
                valid++;
            smc_matcher_free(m);
        }
        if (json) {
            printf("{\"result\":\"%s\",\"bytes\":%zu,\"valid_prefix_bytes\":%zu}\n", name, len, valid);
        } else if (k == SMC_MATCH_INVALID) {
            printf("invalid (the first %zu of %zu bytes are a valid prefix)\n", valid, len);
        } else {
            printf("%s\n", name);
        }
        status = k == SMC_MATCH_COMPLETE ? 0 : k == SMC_MATCH_PREFIX ? 3 : 4;
        free(text);
    }
    smc_grammar_free(g);
    return status;
}
