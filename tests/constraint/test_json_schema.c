/* test_json_schema.c — JSON Schema → grammar (smc_json_schema_to_gbnf,
 * smc_grammar_from_json_schema).
 *
 * For every case in tests/constraint/schemas/NN_name.json ({"schema",
 * "valid", "invalid", "valid_text", "invalid_text", "outside_subset",
 * "walk_boost"}):
 *  - the generated GBNF compiles (default and compact whitespace);
 *  - random walks under the matcher (random allowed next characters until
 *    accepting and a stop coin flips) produce strings that parse as JSON and
 *    pass an independent validator (test_json_schema_validator.h: schema rules
 *    checked directly, PCRE2 for patterns), and never reach a dead state;
 *  - hand-written valid instances (compact and pretty-printed) are COMPLETE,
 *    and the validator accepts them too (so the cases can't drift);
 *  - hand-written invalid instances are not COMPLETE, and the validator
 *    rejects those that are JSON;
 *  - "outside_subset": valid instances the grammar excludes by its stated
 *    policy (property order, escaped extra keys, exponents under bounds).
 * Plus: exact integer and number ranges checked value by value, flags,
 * unsupported keywords reported by name and JSON pointer, and mutated
 * schemas (no crash; what converts compiles and generates valid JSON).
 * Debugging: SMC_TEST_SHOW_GBNF, SMC_TEST_SHOW_WALKS, SMC_TEST_SHOW_UNFINISHED,
 * SMC_TEST_SHOW_MUTATIONS print what they say; SMC_TEST_MUTATIONS=N sets
 * the number of mutation rounds. */
#include "test.h"

#include <dirent.h>
#include <stdint.h>

#include "test_json_schema_validator.h"
#include "smcgen.h"

static bool sanitized(void)
{
    return getenv("SMC_TEST_SANITIZED") != NULL;
}

/* ---- a tiny deterministic RNG ---- */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rng_next(void) { return test_xorshift64(&rng_state); }
static double rng_unit(void) { return (double)(rng_next() >> 11) / 9007199254740992.0; }

/* Candidate units for the walk: printable ASCII, \n, \t, and a few
 * multi-byte UTF-8 characters. */
static const char *units[128];
static size_t unit_len[128];
static double unit_weight[128];
static int n_units;

static void init_units(void)
{
    static char ascii[128][2];
    n_units = 0;
    for (int c = 0x20; c < 0x7F; c++) {
        ascii[c][0] = (char)c;
        units[n_units] = ascii[c];
        unit_len[n_units] = 1;
        unit_weight[n_units] = c == '"' ? 10.0 : strchr("}],:", c) ? 5.0 : 1.0;
        n_units++;
    }
    static const char *extra[] = {"\n", "\t", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"};
    for (size_t i = 0; i < 5; i++) {
        units[n_units] = extra[i];
        unit_len[n_units] = strlen(extra[i]);
        unit_weight[n_units] = i < 2 ? 1.0 : 0.3;
        n_units++;
    }
}

/* Extra weight for the characters of a case's optional "walk_boost" string
 * (so that walks through rare patterns finish). */
static void boost_units(const char *chars, double factor)
{
    for (int u = 0; u < n_units; u++)
        if (unit_len[u] == 1 && units[u][0] && strchr(chars, units[u][0]))
            unit_weight[u] *= factor;
}

/* One random walk: returns the string (malloc'd) or NULL when it did not
 * finish within max_len; *dead set when a live state had no continuation. */
static char *random_walk(const smc_grammar *g, size_t soft_len, size_t max_len, bool *dead)
{
    smc_matcher *m = smc_matcher_new(g);
    char *out = malloc(max_len + 8);
    size_t len = 0;
    *dead = false;
    int allowed[128];
    for (;;) {
        bool acc = smc_matcher_is_accepting(m);
        if (acc && (rng_unit() < 0.15 || len >= soft_len))
            break;
        if (len + 4 > max_len) {
            if (getenv("SMC_TEST_SHOW_UNFINISHED"))
                fprintf(stderr, "UNFINISHED ...%.*s\n", 200, out + len - (len > 200 ? 200 : len));
            free(out);
            out = NULL;
            break;
        }
        int n_allowed = 0;
        double total = 0;
        bool closing = false;
        for (int u = 0; u < n_units; u++) {
            smc_matcher *t = smc_matcher_clone(m);
            if (smc_matcher_advance_bytes(t, units[u], unit_len[u]) == 0) {
                allowed[n_allowed++] = u;
                if (unit_len[u] == 1 && strchr("\"}]", units[u][0]))
                    closing = true;
            }
            smc_matcher_free(t);
        }
        if (n_allowed == 0) {
            /* fall back to any single byte (e.g. inside a rare UTF-8 character) */
            int bytes[256], n_bytes = 0;
            for (int b = 0; b < 256; b++) {
                char ch = (char)b;
                smc_matcher *t = smc_matcher_clone(m);
                if (smc_matcher_advance_bytes(t, &ch, 1) == 0)
                    bytes[n_bytes++] = b;
                smc_matcher_free(t);
            }
            if (n_bytes == 0 || (acc && rng_unit() < 0.5)) {
                if (!acc) {
                    *dead = true;
                    free(out);
                    out = NULL;
                }
                break;
            }
            char ch = (char)bytes[rng_next() % (uint64_t)n_bytes];
            if (smc_matcher_advance_bytes(m, &ch, 1) != 0) {
                *dead = true;
                free(out);
                out = NULL;
                break;
            }
            out[len++] = ch;
            continue;
        }
        /* past the soft length, mostly steer towards closing characters
         * (not always: e.g. '}' may be allowed inside an email address) */
        bool steer = len >= soft_len && closing && rng_unit() < 0.7;
        for (int i = 0; i < n_allowed; i++) {
            int u = allowed[i];
            double w = unit_weight[u];
            if (steer && !(unit_len[u] == 1 && strchr("\"}]", units[u][0])))
                w = 0;
            total += w;
        }
        double r = rng_unit() * total;
        int pick = allowed[n_allowed - 1];
        for (int i = 0; i < n_allowed; i++) {
            int u = allowed[i];
            double w = unit_weight[u];
            if (steer && !(unit_len[u] == 1 && strchr("\"}]", units[u][0])))
                w = 0;
            if (r < w) {
                pick = u;
                break;
            }
            r -= w;
        }
        if (smc_matcher_advance_bytes(m, units[pick], unit_len[pick]) != 0) {
            *dead = true;
            free(out);
            out = NULL;
            break;
        }
        memcpy(out + len, units[pick], unit_len[pick]);
        len += unit_len[pick];
    }
    smc_matcher_free(m);
    if (out)
        out[len] = 0;
    return out;
}

/* Pretty printer: newline + 2 spaces per level after { [ , and before } ],
 * ": " after keys. */
static void pretty(const cJSON *v, int depth, char *out, size_t *len, size_t cap)
{
#define PUT(s) do { size_t _n = strlen(s); if (*len + _n < cap) { memcpy(out + *len, s, _n); *len += _n; } } while (0)
#define NL(d) do { PUT("\n"); for (int _i = 0; _i < (d); _i++) PUT("  "); } while (0)
    if ((cJSON_IsObject(v) || cJSON_IsArray(v)) && v->child) {
        bool obj = cJSON_IsObject(v);
        PUT(obj ? "{" : "[");
        for (const cJSON *e = v->child; e; e = e->next) {
            NL(depth + 1);
            if (obj) {
                cJSON *k = cJSON_CreateString(e->string);
                char *ks = cJSON_PrintUnformatted(k);
                PUT(ks);
                PUT(": ");
                free(ks);
                cJSON_Delete(k);
            }
            pretty(e, depth + 1, out, len, cap);
            if (e->next)
                PUT(",");
        }
        NL(depth);
        PUT(obj ? "}" : "]");
    } else {
        char *s = cJSON_PrintUnformatted(v);
        PUT(s);
        free(s);
    }
    out[*len] = 0;
#undef PUT
#undef NL
}

static const char *kind_name(smc_match_kind k)
{
    return k == SMC_MATCH_COMPLETE ? "COMPLETE" : k == SMC_MATCH_PREFIX ? "PREFIX" : "INVALID";
}

static int total_walks, total_walk_fail;

static void run_case(const char *file)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/constraint/schemas/%s", SMC_SOURCE_DIR, file);
    size_t len;
    char *text = test_read_file(path, &len);
    CHECK_MSG(text != NULL, "cannot read %s", path);
    if (!text)
        return;
    cJSON *doc = cJSON_Parse(text);
    free(text);
    CHECK_MSG(doc && cJSON_GetObjectItem(doc, "schema"), "%s: bad case file", file);
    if (!doc)
        return;
    const cJSON *schema = cJSON_GetObjectItem(doc, "schema");
    char *schema_text = cJSON_PrintUnformatted(schema);
    smc_error err = {{0}};
    char *gbnf = NULL;
    int rc = smc_json_schema_to_gbnf_ex(schema_text, strlen(schema_text), SMC_JSON_SCHEMA_FLEXIBLE_WS,
                                        &gbnf, &err);
    CHECK_MSG(rc == 0, "%s: to_gbnf: %s", file, err.msg);
    smc_grammar *g = NULL, *gc = NULL;
    if (rc == 0) {
        rc = smc_grammar_from_gbnf(gbnf, strlen(gbnf), NULL, &g, &err);
        CHECK_MSG(rc == 0, "%s: generated GBNF does not compile: %s\n%s", file, err.msg, gbnf);
        if (getenv("SMC_TEST_SHOW_GBNF"))
            fprintf(stderr, "==== %s\n%s", file, gbnf);
    }
    rc = smc_grammar_from_json_schema_ex(schema_text, strlen(schema_text), SMC_JSON_SCHEMA_COMPACT,
                                         &gc, &err);
    CHECK_MSG(rc == 0, "%s: compact grammar: %s", file, err.msg);
    free(gbnf);
    if (!g || !gc) {
        smc_grammar_free(g);
        smc_grammar_free(gc);
        free(schema_text);
        cJSON_Delete(doc);
        return;
    }

    /* (1) random walks */
    const cJSON *boost = cJSON_GetObjectItem(doc, "walk_boost");
    if (cJSON_IsString(boost))
        boost_units(boost->valuestring, 100.0);
    int walks = sanitized() ? 8 : 100, finished = 0;
    for (int w = 0; w < walks; w++) {
        bool dead;
        char *s = random_walk(w % 4 == 3 ? gc : g, 120, 3000, &dead);
        CHECK_MSG(!dead, "%s: walk reached a dead state", file);
        total_walks++;
        if (!s) {
            total_walk_fail++;
            continue;
        }
        finished++;
        if (getenv("SMC_TEST_SHOW_WALKS"))
            fprintf(stderr, "%s: %s\n", file, s);
        const char *end = NULL;
        cJSON *inst = cJSON_ParseWithOpts(s, &end, true);
        CHECK_MSG(inst != NULL, "%s: generated text is not JSON: %s", file, s);
        if (inst) {
            CHECK_MSG(jv_valid(schema, schema, inst, 0), "%s: generated instance fails the validator: %s",
                      file, s);
            CHECK_EQ_INT(smc_grammar_classify(w % 4 == 3 ? gc : g, s, strlen(s)), SMC_MATCH_COMPLETE);
        }
        cJSON_Delete(inst);
        free(s);
    }
    CHECK_MSG(finished * 2 >= walks, "%s: only %d of %d walks finished", file, finished, walks);
    if (cJSON_IsString(boost))
        boost_units(boost->valuestring, 1.0 / 100.0);

    /* (2) hand-written instances */
    static const char *keys[] = {"valid", "valid_text", "invalid", "invalid_text", "outside_subset"};
    int n_valid = 0, n_invalid = 0;
    for (int kk = 0; kk < 5; kk++) {
        const cJSON *list = cJSON_GetObjectItem(doc, keys[kk]);
        bool want_valid = kk < 2, is_text = kk % 2 == 1 || kk == 4;
        for (const cJSON *v = list ? list->child : NULL; v; v = v->next) {
            char *inst_text = is_text ? strdup(v->valuestring) : cJSON_PrintUnformatted(v);
            smc_match_kind k = smc_grammar_classify(g, inst_text, strlen(inst_text));
            smc_match_kind kc = smc_grammar_classify(gc, inst_text, strlen(inst_text));
            cJSON *parsed = cJSON_ParseWithOpts(inst_text, NULL, true);
            if (kk == 4) {
                /* valid JSON Schema instances the grammar excludes by policy
                 * (property order, escapes in extra keys): documents the policy */
                CHECK_MSG(k != SMC_MATCH_COMPLETE, "%s: out-of-subset instance %s accepted", file,
                          inst_text);
                CHECK_MSG(parsed && jv_valid(schema, schema, parsed, 0),
                          "%s: test case error: validator rejects out-of-subset instance %s", file,
                          inst_text);
            } else if (want_valid) {
                n_valid++;
                CHECK_MSG(k == SMC_MATCH_COMPLETE, "%s: valid instance %s classified %s", file,
                          inst_text, kind_name(k));
                char *compact = parsed ? cJSON_PrintUnformatted(parsed) : NULL;
                if (!is_text || (compact && strcmp(compact, inst_text) == 0))
                    CHECK_MSG(kc == SMC_MATCH_COMPLETE, "%s: valid instance %s classified %s (compact)",
                              file, inst_text, kind_name(kc));
                CHECK_MSG(parsed && jv_valid(schema, schema, parsed, 0),
                          "%s: test case error: validator rejects valid instance %s", file, inst_text);
                if (parsed) {
                    char buf[8192];
                    size_t n = 0;
                    pretty(parsed, 0, buf, &n, sizeof buf);
                    CHECK_MSG(smc_grammar_classify(g, buf, n) == SMC_MATCH_COMPLETE,
                              "%s: pretty-printed valid instance rejected:\n%s", file, buf);
                    if (compact && strcmp(buf, compact) != 0)
                        CHECK_MSG(smc_grammar_classify(gc, buf, n) != SMC_MATCH_COMPLETE,
                                  "%s: compact grammar accepts whitespace:\n%s", file, buf);
                }
                free(compact);
            } else {
                n_invalid++;
                CHECK_MSG(k != SMC_MATCH_COMPLETE, "%s: invalid instance %s accepted", file, inst_text);
                CHECK_MSG(kc != SMC_MATCH_COMPLETE, "%s: invalid instance %s accepted (compact)", file,
                          inst_text);
                if (parsed)
                    CHECK_MSG(!jv_valid(schema, schema, parsed, 0),
                              "%s: test case error: validator accepts invalid instance %s", file,
                              inst_text);
            }
            cJSON_Delete(parsed);
            free(inst_text);
        }
    }
    CHECK_MSG(n_valid >= 2 && n_invalid >= 2, "%s: needs 2+ valid and 2+ invalid instances", file);
    smc_grammar_free(g);
    smc_grammar_free(gc);
    free(schema_text);
    cJSON_Delete(doc);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_schema_cases(void)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/constraint/schemas", SMC_SOURCE_DIR);
    DIR *d = opendir(dir);
    CHECK_MSG(d != NULL, "cannot open %s", dir);
    if (!d)
        return;
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".json") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_names);
    CHECK_MSG(n >= 30, "only %d schema cases", n);
    for (int i = 0; i < n; i++) {
        run_case(names[i]);
        free(names[i]);
    }
    fprintf(stderr, "schema cases: %d, walks: %d (%d unfinished)\n", n, total_walks, total_walk_fail);
}

/* Integer bounds: every value in a window classified against the bounds. */
static void check_int_range(const char *schema, long long lo, long long hi, long long from,
                            long long to, long long step)
{
    smc_error err = {{0}};
    smc_grammar *g = NULL;
    int rc = smc_grammar_from_json_schema(schema, strlen(schema), &g, &err);
    CHECK_MSG(rc == 0, "%s: %s", schema, err.msg);
    if (rc)
        return;
    int bad = 0;
    for (long long v = from; v <= to; v += step) {
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", v);
        bool in = v >= lo && v <= hi;
        bool got = smc_grammar_classify(g, buf, strlen(buf)) == SMC_MATCH_COMPLETE;
        if (in != got && bad++ < 5)
            CHECK_MSG(false, "%s: %s %s", schema, buf, got ? "accepted" : "rejected");
    }
    CHECK_MSG(bad == 0, "%s: %d wrong values", schema, bad);
    /* never leading zeros, never -0 */
    static const char *junk[] = {"-0", "00", "01", "-01", "+1", "1.0", "1e1", " 1", ""};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        CHECK_MSG(smc_grammar_classify(g, junk[i], strlen(junk[i])) != SMC_MATCH_COMPLETE,
                  "%s: \"%s\" accepted", schema, junk[i]);
    smc_grammar_free(g);
}

static void test_integer_ranges(void)
{
    check_int_range("{\"type\":\"integer\",\"minimum\":10,\"maximum\":999}", 10, 999, -50, 1500, 1);
    check_int_range("{\"type\":\"integer\",\"minimum\":-250,\"maximum\":-3}", -250, -3, -1200, 100, 1);
    check_int_range("{\"type\":\"integer\",\"minimum\":-15,\"maximum\":1234}", -15, 1234, -2000, 3000, 1);
    check_int_range("{\"type\":\"integer\",\"exclusiveMinimum\":0,\"exclusiveMaximum\":100}", 1, 99,
                    -200, 300, 1);
    check_int_range("{\"type\":\"integer\",\"minimum\":0,\"maximum\":0}", 0, 0, -20, 20, 1);
    check_int_range("{\"type\":\"integer\",\"minimum\":7,\"maximum\":7}", 7, 7, -20, 20, 1);
    check_int_range("{\"type\":\"integer\",\"minimum\":1.5,\"maximum\":20.5}", 2, 20, -30, 30, 1);
    check_int_range("{\"type\":\"integer\",\"minimum\":5,\"maximum\":10,\"exclusiveMaximum\":true}", 5, 9,
                    -20, 20, 1);
    check_int_range("{\"type\":\"integer\",\"minimum\":-99999,\"maximum\":100001}", -99999, 100001,
                    -120000, 120000, 1);
    check_int_range("{\"type\":\"integer\",\"minimum\":123456789,\"maximum\":987654321}", 123456789,
                    987654321, 100000000, 1000000000, 9973);
    check_int_range("{\"type\":\"integer\",\"minimum\":123456789,\"maximum\":987654321}", 123456789,
                    987654321, 123456700, 123456900, 1);
    check_int_range("{\"type\":\"integer\",\"minimum\":123456789,\"maximum\":987654321}", 123456789,
                    987654321, 987654200, 987654400, 1);
    /* one-sided: minimum 37 (unbounded above, up to 16 digits) */
    check_int_range("{\"type\":\"integer\",\"minimum\":37}", 37, 9999999999999999LL, -100, 5000, 1);
    check_int_range("{\"type\":\"integer\",\"maximum\":-37}", -9999999999999999LL, -37, -5000, 100, 1);
    check_int_range("{\"type\":\"integer\",\"minimum\":-9000000000000000000,\"maximum\":9000000000000000000}",
                    -9000000000000000000LL, 9000000000000000000LL, -9000000000000001000LL,
                    -8999999999999999000LL, 7);
}

/* Number bounds: decimal texts around the bounds, expected verdict from the
 * independent validator. */
static void check_num_range(const char *schema_text, int from, int to)
{
    smc_error err = {{0}};
    smc_grammar *g = NULL;
    int rc = smc_grammar_from_json_schema(schema_text, strlen(schema_text), &g, &err);
    CHECK_MSG(rc == 0, "%s: %s", schema_text, err.msg);
    cJSON *schema = cJSON_Parse(schema_text);
    if (rc || !schema) {
        cJSON_Delete(schema);
        return;
    }
    static const char *fracs[] = {"", ".0", ".00", ".5", ".05", ".999", ".001", ".10", ".0000001"};
    int bad = 0, checked = 0;
    for (int neg = 0; neg < 2; neg++)
        for (int i = from; i <= to; i++) {
            if (i < 0)
                continue;
            for (size_t f = 0; f < sizeof fracs / sizeof fracs[0]; f++) {
                char buf[64];
                snprintf(buf, sizeof buf, "%s%d%s", neg ? "-" : "", i, fracs[f]);
                cJSON *x = cJSON_Parse(buf);
                bool want = x && jv_valid(schema, schema, x, 0);
                bool got = smc_grammar_classify(g, buf, strlen(buf)) == SMC_MATCH_COMPLETE;
                checked++;
                if (want != got && bad++ < 5)
                    CHECK_MSG(false, "%s: %s %s", schema_text, buf, got ? "accepted" : "rejected");
                cJSON_Delete(x);
            }
        }
    CHECK_MSG(bad == 0 && checked > 0, "%s: %d wrong of %d", schema_text, bad, checked);
    /* exponents are outside the bounded subset */
    CHECK(smc_grammar_classify(g, "1e0", 3) != SMC_MATCH_COMPLETE);
    smc_grammar_free(g);
    cJSON_Delete(schema);
}

/* Integers in a window, expected verdict from the independent validator. */
static void check_int_validator(const char *schema_text, int from, int to)
{
    smc_error err = {{0}};
    smc_grammar *g = NULL;
    int rc = smc_grammar_from_json_schema(schema_text, strlen(schema_text), &g, &err);
    CHECK_MSG(rc == 0, "%s: %s", schema_text, err.msg);
    cJSON *schema = cJSON_Parse(schema_text);
    int bad = 0;
    for (int v = from; rc == 0 && schema && v <= to; v++) {
        char buf[32];
        snprintf(buf, sizeof buf, "%d", v);
        cJSON *x = cJSON_Parse(buf);
        bool want = jv_valid(schema, schema, x, 0);
        bool got = smc_grammar_classify(g, buf, strlen(buf)) == SMC_MATCH_COMPLETE;
        if (want != got && bad++ < 5)
            CHECK_MSG(false, "%s: %s %s", schema_text, buf, got ? "accepted" : "rejected");
        cJSON_Delete(x);
    }
    CHECK_MSG(bad == 0, "%s: %d wrong values", schema_text, bad);
    if (g)
        CHECK(smc_grammar_classify(g, "-0", 2) != SMC_MATCH_COMPLETE);
    smc_grammar_free(g);
    cJSON_Delete(schema);
}

static void test_multiple_of(void)
{
    check_int_validator("{\"type\":\"integer\",\"multipleOf\":7}", -500, 500);
    check_int_validator("{\"type\":\"integer\",\"multipleOf\":12,\"minimum\":0}", -100, 400);
    check_int_validator("{\"type\":\"integer\",\"multipleOf\":3,\"exclusiveMinimum\":0}", -100, 400);
    check_int_validator("{\"type\":\"integer\",\"multipleOf\":25,\"minimum\":-1000,\"maximum\":1000}",
                        -1200, 1200);
    check_int_validator("{\"type\":\"integer\",\"multipleOf\":1,\"minimum\":3,\"maximum\":9}", -20, 20);
    check_int_validator("{\"allOf\":[{\"type\":\"integer\",\"multipleOf\":4},{\"multipleOf\":6}]}", -300,
                        300);
    check_int_validator("{\"type\":\"integer\",\"multipleOf\":100}", -1000, 3000);
}

static void test_number_ranges(void)
{
    check_num_range("{\"type\":\"number\",\"minimum\":0,\"maximum\":1}", 0, 5);
    check_num_range("{\"type\":\"number\",\"exclusiveMinimum\":0,\"exclusiveMaximum\":1}", 0, 5);
    check_num_range("{\"type\":\"number\",\"minimum\":-1,\"maximum\":1}", 0, 5);
    check_num_range("{\"type\":\"number\",\"minimum\":-90,\"exclusiveMaximum\":90}", 0, 120);
    check_num_range("{\"type\":\"number\",\"exclusiveMinimum\":-5,\"maximum\":-2}", 0, 10);
    check_num_range("{\"type\":\"number\",\"minimum\":3}", 0, 40);
    check_num_range("{\"type\":\"number\",\"exclusiveMaximum\":-3}", 0, 40);
    check_num_range("{\"type\":\"number\",\"exclusiveMinimum\":0}", 0, 3);
    check_num_range("{\"type\":\"number\",\"maximum\":0}", 0, 3);
    check_num_range("{\"type\":\"number\",\"exclusiveMaximum\":0}", 0, 3);
    check_num_range("{\"type\":\"number\",\"minimum\":2,\"maximum\":2}", 0, 4);
    check_num_range("{\"type\":\"number\",\"minimum\":2,\"exclusiveMinimum\":true,\"maximum\":7,"
                    "\"exclusiveMaximum\":true}", 0, 10);
    check_num_range("{\"type\":\"number\",\"minimum\":-250,\"maximum\":1000,\"exclusiveMaximum\":999}",
                    0, 1100);
}

static void expect_error(const char *schema, const char *needle1, const char *needle2)
{
    smc_error err = {{0}};
    char *gbnf = NULL;
    int rc = smc_json_schema_to_gbnf(schema, strlen(schema), &gbnf, &err);
    CHECK_MSG(rc < 0, "accepted: %s\n%s", schema, gbnf ? gbnf : "");
    free(gbnf);
    if (rc < 0) {
        CHECK_MSG(strstr(err.msg, needle1) != NULL, "%s: error \"%s\" lacks \"%s\"", schema, err.msg,
                  needle1);
        if (needle2)
            CHECK_MSG(strstr(err.msg, needle2) != NULL, "%s: error \"%s\" lacks \"%s\"", schema,
                      err.msg, needle2);
    }
    smc_grammar *g = NULL;
    rc = smc_grammar_from_json_schema(schema, strlen(schema), &g, &err);
    CHECK(rc < 0 && g == NULL);
}

static void test_unsupported(void)
{
    expect_error("{\"type\":\"number\",\"multipleOf\":0.123456789}", "\"multipleOf\"", "at #");
    expect_error("{\"type\":\"integer\",\"multipleOf\":1234.5}", "\"multipleOf\"", "at #");
    expect_error("{\"type\":\"integer\",\"multipleOf\":7,\"maximum\":100}", "\"multipleOf\"", NULL);
    expect_error("{\"type\":\"integer\",\"multipleOf\":7,\"minimum\":8,\"maximum\":13}", "no integer",
                 NULL);
    expect_error("{\"type\":\"object\",\"properties\":{\"a\":{\"not\":{\"const\":[1]}}}}", "\"not\"",
                 "#/properties/a");
    expect_error("{\"not\":{\"type\":\"integer\"}}", "\"not\"", "at #");
    expect_error("{\"if\":{\"pattern\":\"^a\"},\"then\":{\"minLength\":2}}", "\"if\" at #",
                 "\"pattern\"");
    expect_error("{\"type\":\"object\",\"patternProperties\":{\"^x\":{\"type\":\"string\"},\"^y\":{}}}",
                 "\"patternProperties\"", NULL);
    expect_error("{\"type\":\"array\",\"items\":{\"type\":\"array\",\"uniqueItems\":true}}",
                 "\"uniqueItems\"", "#/items");
    expect_error("{\"type\":\"object\",\"propertyNames\":{\"maxLength\":3},\"patternProperties\":"
                 "{\"^x\":{\"type\":\"integer\"}}}", "\"propertyNames\"", NULL);
    expect_error("{\"type\":\"object\",\"dependentRequired\":{\"a\":\"b\"}}", "\"dependentRequired\"",
                 NULL);
    expect_error("{\"type\":\"object\",\"properties\":{\"a\":{}},\"minProperties\":1}", "\"minProperties\"",
                 NULL);
    expect_error("{\"type\":\"object\",\"properties\":{\"a\":{}},\"maxProperties\":3}", "\"maxProperties\"",
                 NULL);
    expect_error("{\"type\":\"object\",\"minProperties\":3,\"maxProperties\":2}", "minProperties", NULL);
    expect_error("{\"type\":\"array\",\"contains\":{\"type\":\"integer\"},\"maxItems\":3}", "\"contains\"",
                 NULL);
    expect_error("{\"type\":\"string\",\"format\":\"regex\"}", "\"regex\"", "at #");
    expect_error("{\"type\":\"string\",\"pattern\":\"^a(?=b)\"}", "lookaround", NULL);
    expect_error("{\"type\":\"string\",\"pattern\":\"^(a)\\\\1$\"}", "backreference", NULL);
    expect_error("{\"type\":\"string\",\"pattern\":\"\\\\bword\"}", "word boundar", NULL);
    expect_error("{\"$ref\":\"https://example.com/s.json\"}", "$ref", "https://example.com/s.json");
    expect_error("{\"$ref\":\"#/$defs/missing\",\"$defs\":{}}", "#/$defs/missing", NULL);
    expect_error("{\"type\":\"number\",\"minimum\":1.5}", "minimum", "number");
    expect_error("{\"type\":\"number\",\"minimum\":3,\"exclusiveMaximum\":3}", "no number", NULL);
    expect_error("{\"type\":\"string\",\"minLength\":2,\"pattern\":\"^a+$\"}", "pattern", "minLength");
    expect_error("{\"allOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}", "matches nothing", NULL);
    expect_error("{\"allOf\":[{\"pattern\":\"^a\"},{\"pattern\":\"b$\"}]}", "pattern", NULL);
    expect_error("{\"enum\":[1,2],\"minimum\":3}", "no \"enum\"", NULL);
    expect_error("{\"enum\":[\"a\"],\"format\":\"regex\"}", "\"regex\"", "beside enum");
    expect_error("{\"type\":\"object\",\"required\":[\"a\"],\"additionalProperties\":false}",
                 "required property \"a\"", NULL);
    expect_error("{\"type\":\"integer\",\"minimum\":5,\"maximum\":4}", "no integer", NULL);
    expect_error("{\"type\":\"array\",\"minItems\":3,\"maxItems\":2}", "minItems", NULL);
    expect_error("{\"type\":\"foo\"}", "type", NULL);
    expect_error("{\"type\":\"object\",\"properties\":{\"s\":{\"type\":\"string\",\"maxLength\":100000}}}",
                 "\"maxLength\" 100000", "#/properties/s");
    expect_error("{\"type\":\"integer\",\"maximum\":\"9\"}", "\"maximum\"", "must be a number");
    expect_error("{\"allOf\":[{\"required\":\"a\"}]}", "\"required\"", "array of strings");
    expect_error("{\"type\":\"string\"", "invalid JSON", "1:");
    expect_error("[1,2]", "not an object", NULL);
    expect_error("{\"$defs\":{\"a\":{\"allOf\":[{\"$ref\":\"#/$defs/a\"}]}},\"$ref\":\"#/$defs/a\","
                 "\"type\":\"object\"}", "too deep", NULL);
}

/* The GBNF text itself: root first, no whitespace rule in compact mode. */
static void test_gbnf_text(void)
{
    const char *s = "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"boolean\"}},\"required\":[\"a\"],"
                    "\"additionalProperties\":false}";
    char *gbnf = NULL;
    smc_error err = {{0}};
    CHECK_EQ_INT(smc_json_schema_to_gbnf_ex(s, strlen(s), SMC_JSON_SCHEMA_FLEXIBLE_WS, &gbnf, &err), 0);
    CHECK(gbnf && strncmp(gbnf, "root ::= ", 9) == 0);
    CHECK(gbnf && strstr(gbnf, "\nws ::= ") != NULL);
    free(gbnf);
    gbnf = NULL;
    CHECK_EQ_INT(smc_json_schema_to_gbnf(s, strlen(s), &gbnf, &err), 0);   /* default: compact */
    CHECK(gbnf && strstr(gbnf, "ws") == NULL);
    free(gbnf);
    gbnf = NULL;
    CHECK_EQ_INT(smc_json_schema_to_gbnf_ex(s, strlen(s), SMC_JSON_SCHEMA_COMPACT, &gbnf, &err), 0);
    CHECK(gbnf && strstr(gbnf, "ws") == NULL);
    smc_grammar *g = NULL;
    CHECK_EQ_INT(smc_grammar_from_gbnf(gbnf, strlen(gbnf), NULL, &g, &err), 0);
    if (g) {
        CHECK_EQ_INT(smc_grammar_classify(g, "{\"a\":true}", 10), SMC_MATCH_COMPLETE);
        CHECK_EQ_INT(smc_grammar_classify(g, "{\"a\":tr", 7), SMC_MATCH_PREFIX);
        CHECK_EQ_INT(smc_grammar_classify(g, "{\"a\": true}", 11), SMC_MATCH_INVALID);
        smc_grammar_free(g);
    }
    free(gbnf);
    /* NO_EXTRA_PROPERTIES: an absent additionalProperties means false */
    const char *open_obj = "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}}";
    g = NULL;
    CHECK_EQ_INT(smc_grammar_from_json_schema_ex(open_obj, strlen(open_obj),
                                                 SMC_JSON_SCHEMA_NO_EXTRA_PROPERTIES, &g, &err), 0);
    if (g) {
        CHECK_EQ_INT(smc_grammar_classify(g, "{\"a\":1}", 7), SMC_MATCH_COMPLETE);
        CHECK_EQ_INT(smc_grammar_classify(g, "{}", 2), SMC_MATCH_COMPLETE);
        CHECK(smc_grammar_classify(g, "{\"a\":1,\"b\":2}", 13) == SMC_MATCH_INVALID);
        smc_grammar_free(g);
    }
    g = NULL;
    CHECK_EQ_INT(smc_grammar_from_json_schema(open_obj, strlen(open_obj), &g, &err), 0);
    if (g) {
        CHECK_EQ_INT(smc_grammar_classify(g, "{\"a\":1,\"b\":2}", 13), SMC_MATCH_COMPLETE);
        smc_grammar_free(g);
    }
    /* whitespace policy of the flexible mode */
    g = NULL;
    CHECK_EQ_INT(smc_grammar_from_json_schema_ex(s, strlen(s), SMC_JSON_SCHEMA_FLEXIBLE_WS, &g, &err), 0);
    if (g) {
        static const char *ok[] = {"{\"a\":true}", "{ \"a\" : true }", "{\n  \"a\": true\n}",
                                   "{\n\t\"a\":\n\t\ttrue\n}"};
        static const char *bad[] = {" {\"a\":true}", "{\"a\":true} ", "{  \"a\":true}", "{\t\"a\":true}",
                                    "{\"a\":true}\n"};
        for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
            CHECK_MSG(smc_grammar_classify(g, ok[i], strlen(ok[i])) == SMC_MATCH_COMPLETE, "%s", ok[i]);
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
            CHECK_MSG(smc_grammar_classify(g, bad[i], strlen(bad[i])) != SMC_MATCH_COMPLETE, "%s", bad[i]);
        smc_grammar_free(g);
    }
}

/* Robustness: mutated schemas never crash; whatever converts must compile,
 * and every failure has a message. Mutations: byte edits of the text (the
 * JSON parser's side) and edits of the cJSON tree (the converter's side). */
static void collect_nodes(cJSON *n, cJSON **out, int *k, int cap)
{
    if (*k < cap)
        out[(*k)++] = n;
    for (cJSON *c = n->child; c; c = c->next)
        collect_nodes(c, out, k, cap);
}

static int mutation_walks, mutation_walks_ok;

static void convert_and_compile(const char *text, size_t n, int *converted)
{
    if (getenv("SMC_TEST_SHOW_MUTATIONS"))
        fprintf(stderr, "MUT %.*s\n", (int)n, text);
    smc_error err = {{0}};
    char *gbnf = NULL;
    int rc = smc_json_schema_to_gbnf(text, n, &gbnf, &err);
    if (rc == 0) {
        (*converted)++;
        smc_grammar *g = NULL;
        int rc2 = smc_grammar_from_gbnf(gbnf, strlen(gbnf), NULL, &g, &err);
        CHECK_MSG(rc2 == 0, "mutated schema %.*s: GBNF does not compile: %s", (int)n, text, err.msg);
        /* strings generated under a mutated schema must still validate */
        cJSON *schema = cJSON_ParseWithLength(text, n);
        jv_oneof_as_anyof = true;      /* mutations make overlapping oneOf branches */
        for (int w = 0; g && schema && w < 3; w++) {
            bool dead;
            char *s = random_walk(g, 60, 1500, &dead);
            CHECK_MSG(!dead, "mutated schema %.*s: walk reached a dead state", (int)n, text);
            mutation_walks++;
            if (!s)
                continue;
            mutation_walks_ok++;
            cJSON *inst = cJSON_ParseWithOpts(s, NULL, true);
            CHECK_MSG(inst && jv_valid(schema, schema, inst, 0),
                      "mutated schema %.*s: generated %s does not validate", (int)n, text, s);
            cJSON_Delete(inst);
            free(s);
        }
        jv_oneof_as_anyof = false;
        cJSON_Delete(schema);
        smc_grammar_free(g);
    } else {
        CHECK_MSG(err.msg[0] != 0, "mutated schema %.*s: failure without a message", (int)n, text);
    }
    free(gbnf);
}

static void test_mutations(void)
{
    static const char *seeds[] = {
        "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\",\"minimum\":-5,\"maximum\":300},"
        "\"b\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/s\"},\"minItems\":1,\"maxItems\":3}},"
        "\"required\":[\"a\"],\"$defs\":{\"s\":{\"type\":\"string\",\"pattern\":\"^[a-z]+(-[0-9]{2})?$\"}}}",
        "{\"anyOf\":[{\"type\":\"string\",\"format\":\"date\"},{\"allOf\":[{\"properties\":{\"x\":{\"const\":1}}},"
        "{\"required\":[\"x\"],\"additionalProperties\":{\"type\":\"boolean\"}}]}],\"oneOf\":[{\"type\":\"object\"},"
        "{\"type\":\"string\",\"minLength\":3}]}",
        "{\"type\":\"array\",\"prefixItems\":[{\"enum\":[1,\"a\",null,[1,{\"b\":2}]]},{\"type\":[\"number\",\"null\"]}],"
        "\"items\":{\"type\":\"string\",\"maxLength\":4}}",
        "{\"allOf\":[{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\",\"maximum\":50},"
        "\"b\":{\"type\":\"string\"}},\"required\":[\"a\"]},{\"properties\":{\"a\":{\"minimum\":-20},"
        "\"c\":{\"enum\":[1,2,\"x\"]}},\"additionalProperties\":{\"type\":[\"integer\",\"string\"]}}],"
        "\"properties\":{\"d\":{\"type\":\"array\",\"prefixItems\":[{\"type\":\"integer\"}],"
        "\"items\":{\"maxLength\":2}}}}",
        "{\"$defs\":{\"t\":{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"integer\","
        "\"exclusiveMaximum\":10},\"kids\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/t\"},"
        "\"maxItems\":2}},\"required\":[\"v\"],\"additionalProperties\":false}},"
        "\"anyOf\":[{\"$ref\":\"#/$defs/t\"},{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/t\"},"
        "\"maxItems\":2}]}",
    };
    static const char *pool[] = {
        "\"integer\"", "\"string\"", "\"object\"", "\"array\"", "\"number\"", "-3", "0", "2.5", "7", "1e300",
        "\"#\"", "\"#/$defs/s\"", "\"^a$\"", "\"(\"", "\"[^x]{2,3}|y\"", "\"date-time\"", "\"uuid\"", "true",
        "false", "null", "[]", "{}", "{\"type\":\"string\"}", "{\"$ref\":\"#\"}", "[\"a\",1]",
        "{\"allOf\":[{}]}", "[{\"type\":\"null\"},{\"minimum\":3}]", "[\"a\",\"b\"]",
        "{\"a\":{\"type\":\"integer\"}}", "{\"additionalProperties\":false}", "{\"properties\":{\"a\":false}}",
        "{\"items\":false}", "{\"required\":[\"b\"]}", "[{\"type\":\"integer\"},{\"maximum\":3}]",
        "{\"$ref\":\"#/$defs/t\"}", "[\"v\"]"};
    static const char *kws[] = {"type", "minimum", "maximum", "minLength", "maxLength", "pattern", "enum",
                                "const", "items", "prefixItems", "properties", "required",
                                "additionalProperties", "anyOf", "allOf", "oneOf", "$ref", "format",
                                "minItems", "maxItems", "exclusiveMinimum", "title",
                                "unevaluatedProperties", "minProperties", "multipleOf"};
    static const char *inserts[] = {"{", "}", "[", "]", ",", ":", "\"", "\\", "0", "-1", "\"$ref\"", "true"};
    int rounds = sanitized() ? 300 : 3000, converted = 0, tree_rounds = 0;
    if (getenv("SMC_TEST_MUTATIONS"))
        rounds = atoi(getenv("SMC_TEST_MUTATIONS"));
    for (int r = 0; r < rounds; r++) {
        const char *seed = seeds[r % 5];
        if (r % 4 == 0) {
            /* byte edits */
            char buf[2048];
            size_t n = strlen(seed);
            memcpy(buf, seed, n);
            size_t at = (size_t)(rng_next() % n);
            if (rng_next() % 2) {
                buf[at] = (char)(rng_next() & 0xFF);
            } else {
                const char *ins = inserts[rng_next() % (sizeof inserts / sizeof inserts[0])];
                size_t k = strlen(ins);
                memmove(buf + at + k, buf + at, n - at);
                memcpy(buf + at, ins, k);
                n += k;
            }
            convert_and_compile(buf, n, &converted);
            continue;
        }
        tree_rounds++;
        cJSON *root = cJSON_Parse(seed);
        int edits = 1 + (int)(rng_next() % 3);
        for (int e = 0; e < edits; e++) {
            cJSON *nodes[512];
            int k = 0;
            collect_nodes(root, nodes, &k, 512);
            cJSON *t = nodes[rng_next() % (uint64_t)k];
            cJSON *val = cJSON_Parse(pool[rng_next() % (sizeof pool / sizeof pool[0])]);
            int op = (int)(rng_next() % 3);
            if (op == 0 && cJSON_IsObject(t)) {
                const char *kw = kws[rng_next() % (sizeof kws / sizeof kws[0])];
                cJSON_DeleteItemFromObjectCaseSensitive(t, kw);
                cJSON_AddItemToObject(t, kw, val);
            } else if (op == 1 && t != root) {
                /* replace t by val: find its parent */
                for (int i = 0; i < k; i++) {
                    for (cJSON *c = nodes[i]->child; c; c = c->next)
                        if (c == t) {
                            cJSON_ReplaceItemViaPointer(nodes[i], t, val);
                            val = NULL;
                            goto done;
                        }
                }
            done:
                cJSON_Delete(val);
            } else if (t != root) {
                for (int i = 0; i < k; i++)
                    for (cJSON *c = nodes[i]->child; c; c = c->next)
                        if (c == t) {
                            cJSON_Delete(cJSON_DetachItemViaPointer(nodes[i], t));
                            goto removed;
                        }
            removed:
                cJSON_Delete(val);
            } else {
                cJSON_Delete(val);
            }
        }
        char *text = cJSON_PrintUnformatted(root);
        convert_and_compile(text, strlen(text), &converted);
        free(text);
        cJSON_Delete(root);
    }
    fprintf(stderr, "mutations: %d of %d converted; walks %d, finished %d\n", converted, rounds,
            mutation_walks, mutation_walks_ok);
    CHECK(converted > tree_rounds / 10);
}

void run_tests(void)
{
    init_units();
    test_gbnf_text();
    test_unsupported();
    test_integer_ranges();
    test_number_ranges();
    test_multiple_of();
    test_mutations();
    test_schema_cases();
}
