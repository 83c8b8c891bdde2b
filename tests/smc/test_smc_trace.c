/* test_smc_trace.c — traces of smc_run (smc_config.trace) on the toy bigram
 * LM, DFA constraint and a critic that explains its rejections: tracing
 * leaves the run bit-identical; an independent replay of the trace's JSON
 * (token bytes along each lineage, weights from the masses, critic scores
 * and resampling parents) gives every recorded log-weight and ESS, the
 * result's particles, its posterior and log Ẑ; deaths carry their reason;
 * every trace is valid under docs/trace.schema.json (checked by the tests'
 * independent validator); a trace is reused across runs, keeps its info,
 * and survives a failed run. */
#include "test.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

#include "constraint/test_json_schema_validator.h"
#include "smc/toy.h"
#include "smcgen.h"
#include "toy_target.h"

static cJSON *schema; /* docs/trace.schema.json */

static smc_toy_lm *lm_obj;
static const smc_lm *lm;
static smc_toy_dfa *dfa;
static smc_potential *cheap, *critic;
static int fail_after = -1; /* critic returns +inf (cannot score) after this many calls */
static int critic_calls;

/* The toy critic's scores, judged at every token, with reasons. */
static double crit_prefix(void *self, void *st, const char *t, size_t n)
{
    (void)self, (void)st;
    if (fail_after >= 0 && critic_calls++ >= fail_after)
        return INFINITY;
    return smc_toy_critic_prefix_score(t, n);
}
static double crit_complete(void *self, void *st, const char *t, size_t n)
{
    (void)self, (void)st;
    return smc_toy_critic_complete_score(t, n);
}
static void crit_explain(void *self, void *st, const char *t, size_t n, bool complete, char *buf,
                         size_t cap)
{
    (void)self, (void)st;
    int e = 0;
    for (size_t i = 0; i < n; i++)
        e += t[i] == 'e';
    snprintf(buf, cap, "%s has %d e's (at most 1)", complete ? "text" : "prefix", e);
}
static const smc_potential_vtable crit_vt = {
    .prefix = crit_prefix, .complete = crit_complete, .explain = crit_explain};

static smc_config config(smc_method m, int n, uint64_t seed, int max_tokens, smc_trace *t)
{
    smc_config c;
    smc_config_default(&c);
    c.method = m;
    c.n_particles = n;
    c.seed = seed;
    c.max_tokens = max_tokens;
    c.trace = t;
    return c;
}

static smc_result *run(const smc_config *c)
{
    smc_result *r = NULL;
    smc_error err = {{0}};
    if (smc_run(lm, NULL, 0, cheap, critic, c, &r, &err) != 0)
        fprintf(stderr, "smc_run: %s\n", err.msg);
    return r;
}

/* ---- An independent replay of a trace document ---------------------- */
typedef struct lineage {
    char text[512];
    size_t len;
    double logw, twist;
} lineage;

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : -INFINITY; /* null: -inf */
}

static bool near(double a, double b)
{
    if (a == -INFINITY || b == -INFINITY)
        return a == b;
    return fabs(a - b) <= 1e-9 * (1 + fabs(a));
}

static double log_mean_exp(const double *x, int n)
{
    double m = -INFINITY, s = 0;
    for (int i = 0; i < n; i++)
        m = x[i] > m ? x[i] : m;
    if (m == -INFINITY)
        return m;
    for (int i = 0; i < n; i++)
        s += exp(x[i] - m);
    return m + log(s / n);
}

/* The token's exact bytes: "hex" when present, else "text". */
static size_t piece(const cJSON *e, char *out)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(e, "hex");
    if (cJSON_IsString(h)) {
        size_t k = 0;
        for (const char *p = h->valuestring; *p; p += p[2] ? 3 : 2)
            out[k++] = (char)strtol((char[3]){p[0], p[1], 0}, NULL, 16);
        return k;
    }
    const char *t = cJSON_GetObjectItemCaseSensitive(e, "text")->valuestring;
    memcpy(out, t, strlen(t));
    return strlen(t);
}

typedef struct replay_stats {
    int steps, resamples, deaths_critic, deaths_eos, deaths_no_token, explained;
    int drawn; /* moves that drew a token (mass > -inf) */
} replay_stats;

/* Replays doc; checks every recorded weight and ESS against the replay and
 * the final particles, posterior and log Ẑ against doc's result. */
static void replay(const char *json, replay_stats *st)
{
    memset(st, 0, sizeof *st);
    cJSON *doc = cJSON_Parse(json);
    CHECK(doc != NULL);
    if (!doc)
        return;
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(doc, "format")->valuestring, "smcgen-trace");
    CHECK_EQ_INT(num(doc, "version"), 1);
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(doc, "config");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(doc, "result");
    int n = (int)num(cfg, "particles");
    bool corr = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cfg, "weight_correction"));
    lineage *L = calloc((size_t)n, sizeof *L), *next = calloc((size_t)n, sizeof *next);
    double *lw = malloc(sizeof *lw * (size_t)n);
    int bad_w = 0, bad_ess = 0;
    const cJSON *step;
    cJSON_ArrayForEach(step, cJSON_GetObjectItemCaseSensitive(doc, "steps")) {
        st->steps++;
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(step, "particles")) {
            lineage *p = &L[(int)num(e, "i")];
            char b[64];
            size_t k = piece(e, b);
            memcpy(p->text + p->len, b, k);
            p->len += k;
            double mass = num(e, "mass");
            st->drawn += num(e, "token") >= 0 && mass > -INFINITY;
            const cJSON *death = cJSON_GetObjectItemCaseSensitive(e, "death");
            const char *by = death ? cJSON_GetObjectItemCaseSensitive(death, "by")->valuestring : "";
            if (num(e, "token") < 0 || mass == -INFINITY)
                p->logw = -INFINITY;
            else if (corr)
                p->logw += mass;
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "critic");
            if (c) {
                double v = num(c, "score");
                bool complete = !strcmp(cJSON_GetObjectItemCaseSensitive(c, "mode")->valuestring,
                                        "complete");
                if (v == -INFINITY)
                    p->logw = -INFINITY;
                else
                    p->logw += v - p->twist;
                p->twist = complete ? 0 : v;
            }
            if (!near(p->logw, num(e, "logw")))
                bad_w++;
            if (death) {
                st->deaths_critic += !strcmp(by, "critic");
                const char *why = cJSON_GetObjectItemCaseSensitive(death, "reason")->valuestring;
                st->explained += strstr(why, "e's (at most 1)") != NULL;
                if (!strcmp(by, "constraint"))
                    *(num(e, "token") < 0 ? &st->deaths_no_token : &st->deaths_eos) += 1;
                CHECK(p->logw == -INFINITY);
            }
        }
        for (int i = 0; i < n; i++)
            lw[i] = L[i].logw;
        double m = log_mean_exp(lw, n), ess = 0;
        for (int i = 0; i < n && m > -INFINITY; i++)
            ess += exp(2 * (lw[i] - m - log(n)));
        ess = m > -INFINITY ? 1 / ess : 0;
        if (!near(ess, num(step, "ess")))
            bad_ess++;
        const cJSON *rs = cJSON_GetObjectItemCaseSensitive(step, "resample");
        if (rs) {
            st->resamples++;
            CHECK(near(num(rs, "logw"), m));
            int j = 0;
            const cJSON *par;
            cJSON_ArrayForEach(par, cJSON_GetObjectItemCaseSensitive(rs, "parents")) {
                next[j] = L[par->valueint];
                next[j++].logw = m;
            }
            CHECK_EQ_INT(j, n);
            memcpy(L, next, sizeof *L * (size_t)n);
        }
    }
    CHECK_EQ_INT(bad_w, 0);
    CHECK_EQ_INT(bad_ess, 0);
    CHECK_EQ_INT(st->steps, num(res, "steps"));
    CHECK_EQ_INT(st->resamples, num(res, "resamples"));
    CHECK_EQ_INT(st->drawn, num(res, "tokens"));
    CHECK(num(res, "forced_tokens") >= 0 && num(res, "forced_tokens") <= num(res, "tokens"));
    /* Final particles, posterior, log Ẑ. */
    const cJSON *pl = cJSON_GetObjectItemCaseSensitive(res, "particle_list");
    CHECK_EQ_INT(cJSON_GetArraySize(pl), n);
    int bad_p = 0;
    for (int i = 0; i < n && i < cJSON_GetArraySize(pl); i++) {
        const cJSON *p = cJSON_GetArrayItem(pl, i);
        const char *t = cJSON_GetObjectItemCaseSensitive(p, "text")->valuestring;
        bad_p += strlen(t) != L[i].len || memcmp(t, L[i].text, L[i].len) ||
                 !near(num(p, "log_weight"), L[i].logw);
        lw[i] = L[i].logw;
    }
    CHECK_EQ_INT(bad_p, 0);
    double lz = log_mean_exp(lw, n);
    CHECK(near(lz, num(res, "log_z")));
    const cJSON *post = cJSON_GetObjectItemCaseSensitive(res, "posterior");
    double total = 0;
    const cJSON *pe;
    cJSON_ArrayForEach(pe, post) {
        const char *t = cJSON_GetObjectItemCaseSensitive(pe, "text")->valuestring;
        double prob = 0;
        int count = 0;
        for (int i = 0; i < n; i++)
            if (L[i].len == strlen(t) && !memcmp(L[i].text, t, L[i].len)) {
                prob += lz > -INFINITY ? exp(L[i].logw - lz) / n : 0;
                count++;
            }
        CHECK_MSG(near(prob, num(pe, "prob")), "posterior of '%s': replay %g, result %g", t, prob,
                  num(pe, "prob"));
        CHECK_EQ_INT(count, num(pe, "count"));
        total += prob;
    }
    if (lz > -INFINITY)
        CHECK_NEAR(total, 1, 1e-9);
    free(L);
    free(next);
    free(lw);
    cJSON_Delete(doc);
}

/* Same results with and without the trace (the trace draws no random
 * numbers and changes no weight). */
static bool same_result(const smc_result *a, const smc_result *b)
{
    if (!a || !b || a->n_particles != b->n_particles || a->n_steps != b->n_steps ||
        a->n_resamples != b->n_resamples || !(a->log_z == b->log_z))
        return false;
    for (int i = 0; i < a->n_particles; i++)
        if (a->particles[i].len != b->particles[i].len ||
            memcmp(a->particles[i].text, b->particles[i].text, a->particles[i].len) ||
            !(a->particles[i].log_weight == b->particles[i].log_weight))
            return false;
    return true;
}

static void test_replay(void)
{
    smc_trace *t = smc_trace_new();
    CHECK(t != NULL);
    smc_error err = {{0}};
    CHECK_EQ_INT(smc_trace_set_info(t, "prompt", "toy \"prompt\"\n", &err), 0);
    CHECK_EQ_INT(smc_trace_set_info(t, "model", "toy bigram", &err), 0);
    CHECK_EQ_INT(smc_trace_set_info(t, "model", NULL, &err), 0);
    smc_method methods[] = {SMC_METHOD_SMC_FULL, SMC_METHOD_SMC, SMC_METHOD_IS_FULL,
                            SMC_METHOD_LCD, SMC_METHOD_RERANK, SMC_METHOD_IS, SMC_METHOD_PLAIN};
    replay_stats tot = {0};
    int runs = 0, identical = 0;
    for (size_t mi = 0; mi < sizeof methods / sizeof methods[0]; mi++)
        for (uint64_t seed = 1; seed <= 12; seed++) {
            int max_tokens = 2 + (int)(seed % 5);
            smc_config c0 = config(methods[mi], 16, seed, max_tokens, NULL);
            smc_config c1 = config(methods[mi], 16, seed, max_tokens, t);
            c0.resample_at_critic = c1.resample_at_critic = seed % 2 == 0;
            c0.lookahead = c1.lookahead = seed % 3 ? 16 : 0;
            smc_result *a = run(&c0), *b = run(&c1);
            identical += same_result(a, b);
            runs++;
            char *json = NULL;
            CHECK_EQ_INT(smc_trace_to_json(t, b, &json, &err), 0);
            CHECK_EQ_INT(smc_trace_n_steps(t), b ? b->n_steps : -1);
            replay_stats st = {0};
            if (json)
                replay(json, &st);
            cJSON *doc = json ? cJSON_Parse(json) : NULL;
            CHECK_MSG(doc && jv_valid(schema, schema, doc, 0), "%s seed %d: trace fails the schema",
                      smc_method_name(methods[mi]), (int)seed);
            const cJSON *dcfg = cJSON_GetObjectItemCaseSensitive(doc, "config");
            CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(dcfg, "resample_at")),
                      c1.resample_at_critic ? "critic" : "step");
            CHECK_EQ_INT(num(dcfg, "lookahead"), c1.lookahead);
            cJSON_Delete(doc);
            if (seed == 1 && mi == 0) {
                cJSON *doc = cJSON_Parse(json);
                const cJSON *info = cJSON_GetObjectItemCaseSensitive(doc, "info");
                CHECK_STR(cJSON_GetObjectItemCaseSensitive(info, "prompt")->valuestring,
                          "toy \"prompt\"\n");
                CHECK(cJSON_GetObjectItemCaseSensitive(info, "model") == NULL);
                const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(doc, "config");
                CHECK_STR(cJSON_GetObjectItemCaseSensitive(cfg, "method")->valuestring, "smc-full");
                CHECK_STR(cJSON_GetObjectItemCaseSensitive(cfg, "critic")->valuestring, "toy critic");
                cJSON_Delete(doc);
            }
            tot.resamples += st.resamples;
            tot.deaths_critic += st.deaths_critic;
            tot.deaths_eos += st.deaths_eos;
            tot.deaths_no_token += st.deaths_no_token;
            tot.explained += st.explained;
            free(json);
            smc_result_free(a);
            smc_result_free(b);
        }
    printf("  %d runs replayed (%d identical with the trace off): %d resamplings, deaths: %d by the "
           "critic (%d explained), %d at a forced EOS\n",
           runs, identical, tot.resamples, tot.deaths_critic, tot.explained, tot.deaths_eos);
    CHECK_EQ_INT(identical, runs);
    /* The replay covered resampling and both kinds of death. */
    CHECK(tot.resamples > 20);
    CHECK(tot.deaths_critic > 5);
    CHECK_EQ_INT(tot.explained, tot.deaths_critic);
    CHECK(tot.deaths_eos > 5);
    smc_trace_free(t);
}

/* The schema is strict enough to catch a wrong document. */
static void test_schema_rejects(void)
{
    smc_trace *t = smc_trace_new();
    smc_config c = config(SMC_METHOD_SMC_FULL, 6, 5, 4, t);
    smc_result *r = run(&c);
    char *json = NULL;
    smc_error err = {{0}};
    CHECK_EQ_INT(smc_trace_to_json(t, r, &json, &err), 0);
    static const char *const breakers[] = {
        "{\"version\": 2}", "{\"steps\": [{\"ess\": 1}]}", "{\"config\": {\"method\": \"smc\"}}",
        "{\"steps\": [{\"ess\": 1, \"active\": 1, \"critic_calls\": 0, \"critic_time_s\": 0, "
        "\"particles\": [{\"i\": 0, \"token\": 1, \"text\": \"a\", \"mass\": 0, \"logw\": 0, "
        "\"hex\": \"zz\"}]}]}",
        "{\"result\": {\"method\": \"smc\"}}", "{\"extra\": 1}",
        "{\"config\": {\"method\": \"smc\", \"particles\": 1, \"ess_threshold\": 0.5, \"resample\": \"systematic\", "
        "\"resample_at\": \"sometimes\", \"max_tokens\": 4, \"temperature\": 1, \"seed\": 1, \"proposal\": \"masked\", "
        "\"weight_correction\": true, \"lookahead\": 16, \"constraint\": null, \"critic\": null}}"};
    cJSON *doc = cJSON_Parse(json);
    CHECK(doc && jv_valid(schema, schema, doc, 0));
    for (size_t k = 0; doc && k < sizeof breakers / sizeof breakers[0]; k++) {
        cJSON *bad = cJSON_Duplicate(doc, true), *patch = cJSON_Parse(breakers[k]);
        cJSON *f;
        cJSON_ArrayForEach(f, patch) {
            cJSON_DeleteItemFromObjectCaseSensitive(bad, f->string);
            cJSON_AddItemToObject(bad, f->string, cJSON_Duplicate(f, true));
        }
        CHECK_MSG(!jv_valid(schema, schema, bad, 0), "schema accepts %s", breakers[k]);
        cJSON_Delete(bad);
        cJSON_Delete(patch);
    }
    cJSON_Delete(doc);
    free(json);
    smc_result_free(r);
    smc_trace_free(t);
}

/* A critic that fails mid-run: smc_run fails, the trace keeps the steps so
 * far and writes "result": null. */
static void test_failed_run(void)
{
    smc_trace *t = smc_trace_new();
    smc_config c = config(SMC_METHOD_SMC_FULL, 8, 3, 6, t);
    fail_after = 12;
    critic_calls = 0;
    smc_result *r = NULL;
    smc_error err = {{0}};
    CHECK(smc_run(lm, NULL, 0, cheap, critic, &c, &r, &err) != 0);
    fail_after = -1;
    CHECK(r == NULL);
    CHECK(smc_trace_n_steps(t) >= 1);
    char *json = NULL;
    CHECK_EQ_INT(smc_trace_to_json(t, NULL, &json, &err), 0);
    cJSON *doc = json ? cJSON_Parse(json) : NULL;
    CHECK(doc && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(doc, "result")));
    cJSON_Delete(doc);
    free(json);
    CHECK(smc_trace_write(t, NULL, "/nonexistent-dir/x.json", &err) != 0);
    CHECK(strstr(err.msg, "/nonexistent-dir/x.json") != NULL);
    smc_trace_free(t);
}

void run_tests(void)
{
    lm_obj = smc_toy_bigram_new(TOY_NSYM, toy_logits);
    lm = smc_toy_lm_iface(lm_obj);
    dfa = smc_toy_dfa_default();
    smc_error err = {{0}};
    CHECK_EQ_INT(smc_toy_dfa_potential(dfa, lm, true, &cheap, &err), 0);
    critic = smc_potential_new(&crit_vt, NULL, "toy critic", 0, -1);
    if (!cheap || !critic)
        return;
    size_t len;
    char *text = test_read_file("docs/trace.schema.json", &len);
    schema = text ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    CHECK(schema != NULL);
    if (!schema)
        return;
    test_schema_rejects();
    test_replay();
    test_failed_run();
    smc_potential_free(cheap);
    smc_potential_free(critic);
    smc_toy_dfa_free(dfa);
    smc_toy_lm_free(lm_obj);
    cJSON_Delete(schema);
}
