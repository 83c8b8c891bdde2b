/* test_pddl.c — the Blocksworld goal critic: Planetarium's reference problems
 * (equivalent, underspecified and impossible goals), tricky prefixes, and
 * random goals against an independent brute-force enumeration of states. */
#include "test.h"
#include "smcgen.h"

static const char *PROBLEM3 =
    "(define (problem p) (:domain blocksworld) (:objects b1 b2 b3)\n"
    " (:init (arm-empty) (on-table b1) (on b2 b1) (on b3 b2) (clear b3))\n";

static smc_verdict chk(const smc_bw_problem *p, const char *g, bool complete)
{
    return smc_bw_goal_check(p, g, strlen(g), complete, NULL, 0);
}

static void test_tricky(void)
{
    smc_bw_problem *p = NULL;
    smc_error err = {{0}};
    CHECK(smc_bw_problem_parse(PROBLEM3, strlen(PROBLEM3), &p, &err) == 0);
    if (!p)
        return;
    CHECK_EQ_INT(smc_bw_problem_n_objects(p), 3);
    CHECK_STR(smc_bw_problem_object(p, 2), "b3");
    CHECK(smc_bw_problem_init_valid(p));
    CHECK(smc_bw_problem_goal(p).ptr == NULL);
    /* valid prefixes and goals */
    CHECK(chk(p, "", false) == SMC_VERDICT_PREFIX);
    CHECK(chk(p, "  (:go", false) == SMC_VERDICT_PREFIX);
    CHECK(chk(p, "(:goal (and (on b1 b2) (on-table b2) (cl", false) == SMC_VERDICT_PREFIX);
    CHECK(chk(p, "(:goal (and (on b1 b2) (on-table b2) (clear b1)))", true) == SMC_VERDICT_COMPLETE);
    CHECK(chk(p, "(:goal (and (holding b1) (on b2 b3)))\n)", true) == SMC_VERDICT_COMPLETE);
    CHECK(chk(p, "(:goal (and (holding b1) (on b2 b3)))\n)", false) == SMC_VERDICT_PREFIX);
    CHECK(chk(p, "(:goal (and (arm-empty)))", true) == SMC_VERDICT_COMPLETE);
    CHECK(chk(p, "(:goal (and))", true) == SMC_VERDICT_INVALID);   /* an empty goal */
    CHECK(chk(p, "(:goal (and )", false) == SMC_VERDICT_INVALID);
    CHECK(chk(p, " (on b1 b2)))", true) == SMC_VERDICT_COMPLETE);  /* after a prompt's "(:goal (and" */
    /* holding + arm-empty, in both orders, also when arm-empty is half written */
    CHECK(chk(p, "(:goal (and (holding b1) (arm-empty)", false) == SMC_VERDICT_INVALID);
    CHECK(chk(p, "(:goal (and (arm-empty) (holding b2)", false) == SMC_VERDICT_INVALID);
    CHECK(chk(p, "(:goal (and (holding b1) (arm-e", false) == SMC_VERDICT_INVALID);
    CHECK(chk(p, "(:goal (and (holding b1) (a", false) == SMC_VERDICT_INVALID);
    CHECK(chk(p, "(:goal (and (holding b1) (", false) == SMC_VERDICT_PREFIX);
    /* two held blocks; clear but held; something on a held block */
    CHECK(chk(p, "(:goal (and (holding b1) (holding b2))))", false) == SMC_VERDICT_INVALID);
    CHECK(chk(p, "(:goal (and (holding b1) (clear b1)", false) == SMC_VERDICT_INVALID);
    CHECK(chk(p, "(:goal (and (holding b1) (on b2 b1)", false) == SMC_VERDICT_INVALID);
    /* cycles */
    CHECK(chk(p, "(:goal (and (on b1 b2) (on b2 b1)", false) == SMC_VERDICT_INVALID);
    CHECK(chk(p, "(:goal (and (on b1 b2) (on b2 b3) (on b3 b1)", false) == SMC_VERDICT_INVALID);
    CHECK(chk(p, "(:goal (and (on b1 b1)", false) == SMC_VERDICT_INVALID);
    /* a block on two blocks, two blocks on one */
    CHECK(chk(p, "(:goal (and (on b1 b2) (on b1 b3)", false) == SMC_VERDICT_INVALID);
    CHECK(chk(p, "(:goal (and (on b1 b2) (on b3 b2)", false) == SMC_VERDICT_INVALID);
    CHECK(chk(p, "(:goal (and (on b1 b2) (on-table b1)", false) == SMC_VERDICT_INVALID);
    CHECK(chk(p, "(:goal (and (clear b2) (on b1 b2)", false) == SMC_VERDICT_INVALID);
    /* an unfinished literal with no satisfiable completion: b1 is on b2 and
     * b3 on b1, so "(on b2 " can only name b1 or b3 (cycles) or b2 (itself) */
    CHECK(chk(p, "(:goal (and (on b1 b2) (on b3 b1) (on b2 ", false) == SMC_VERDICT_INVALID);
    CHECK(chk(p, "(:goal (and (on b1 b2) (on b3 b1) (on-table b2 ", false) == SMC_VERDICT_PREFIX);
    /* prompts that already hold "(:goal" or "(:goal (and" */
    CHECK(chk(p, " (on b1 b2) (on-table b2))\n)", true) == SMC_VERDICT_COMPLETE);
    CHECK(chk(p, " (and (on b1 b2)))", true) == SMC_VERDICT_COMPLETE);
    CHECK(chk(p, " (on b1 b2) (on b2 b1", false) == SMC_VERDICT_INVALID);
    CHECK(chk(p, "(a", false) == SMC_VERDICT_PREFIX);
    CHECK(chk(p, "(an", false) == SMC_VERDICT_PREFIX);
    CHECK(chk(p, "(hold", false) == SMC_VERDICT_PREFIX);
    CHECK(chk(p, "(onn", false) == SMC_VERDICT_INVALID);
    CHECK(chk(p, " (on b1 b2)", true) == SMC_VERDICT_INVALID); /* not closed */
    /* syntax */
    CHECK(chk(p, "(:goal (and (on b1 b4)", false) == SMC_VERDICT_INVALID);
    CHECK(chk(p, "(:goal (and (on b1)", false) == SMC_VERDICT_INVALID);
    CHECK(chk(p, "(:goal (and (above b1 b2)", false) == SMC_VERDICT_INVALID);
    CHECK(chk(p, "(:goal (or", false) == SMC_VERDICT_INVALID);
    CHECK(chk(p, "(:goal (and (on b1 b2)))) x", false) == SMC_VERDICT_INVALID);
    CHECK(chk(p, "(:goal (and (on b1 b2)", true) == SMC_VERDICT_INVALID);
    char why[128];
    CHECK(smc_bw_goal_check(p, "(:goal (and (on b1 b2) (on b2 b1)))", 35, true, why, sizeof why) == SMC_VERDICT_INVALID);
    CHECK_MSG(strstr(why, "cycle") != NULL, "reason: %s", why);
    /* the grammar names every object and predicate */
    char *g = smc_bw_goal_gbnf(p);
    CHECK(g && strstr(g, "\"b3\"") && strstr(g, "on-table") && strstr(g, "arm-empty") && strstr(g, "root"));
    free(g);
    smc_bw_problem_free(p);
    /* prefix names: b1 may still become b10 */
    const char *p11 = "(define (problem q) (:objects b1 b2 b3 b4 b5 b6 b7 b8 b9 b10 b11) (:init (arm-empty)))";
    CHECK(smc_bw_problem_parse(p11, strlen(p11), &p, &err) == 0);
    if (p) {
        CHECK(chk(p, "(:goal (and (on b2 b1) (on b1 b2", false) == SMC_VERDICT_INVALID);
        CHECK(chk(p, "(:goal (and (on b2 b1) (on b1 b1", false) == SMC_VERDICT_PREFIX); /* b10, b11 */
        CHECK(chk(p, "(:goal (and (on b2 b1) (on b1 b1 ", false) == SMC_VERDICT_INVALID);
        smc_bw_problem_free(p);
    }
    /* malformed problems */
    CHECK(smc_bw_problem_parse("(define (problem x))", 20, &p, &err) < 0 && p == NULL);
    CHECK(smc_bw_problem_parse("(:objects a a)", 14, &p, &err) < 0);
    CHECK(smc_bw_problem_parse("(:objects a b) (:init (on a c))", 31, &p, &err) < 0);
    CHECK(smc_bw_problem_parse("(:objects a b", 13, &p, &err) < 0);
}

/* ---- brute force over all states of n <= 4 blocks -------------------- */

enum { T = -1, H = -2 };
typedef struct { int pred, a, b; } lit; /* 0 on, 1 on-table, 2 clear, 3 holding, 4 arm-empty */
static const char *PN[] = {"on", "on-table", "clear", "holding", "arm-empty"};

static bool valid_state(int n, const int *pos)
{
    int held = 0;
    for (int i = 0; i < n; i++) {
        if (pos[i] == i)
            return false;
        if (pos[i] == H)
            held++;
        for (int j = i + 1; j < n; j++)
            if (pos[i] >= 0 && pos[i] == pos[j])
                return false;
        if (pos[i] >= 0 && pos[pos[i]] == H)
            return false;
        int x = i, steps = 0;
        while (x >= 0 && steps <= n) {
            x = pos[x];
            steps++;
        }
        if (x >= 0)
            return false;
    }
    return held <= 1;
}

static bool holds(int n, const int *pos, lit l)
{
    switch (l.pred) {
    case 0: return pos[l.a] == l.b;
    case 1: return pos[l.a] == T;
    case 3: return pos[l.a] == H;
    case 4:
        for (int i = 0; i < n; i++)
            if (pos[i] == H)
                return false;
        return true;
    default:
        if (pos[l.a] == H)
            return false;
        for (int i = 0; i < n; i++)
            if (pos[i] == l.a)
                return false;
        return true;
    }
}

/* Bit set of the satisfying states (index over (n+2)^n assignments). */
static void sat_states(int n, const lit *ls, int k, unsigned char *out, int n_states)
{
    for (int s = 0; s < n_states; s++) {
        int pos[4], x = s;
        for (int i = 0; i < n; i++) {
            pos[i] = x % (n + 2) - 2;
            x /= n + 2;
        }
        bool ok = valid_state(n, pos);
        for (int j = 0; j < k && ok; j++)
            ok = holds(n, pos, ls[j]);
        out[s] = ok;
    }
}

static void goal_text(const lit *ls, int k, char *buf, size_t cap)
{
    size_t o = (size_t)snprintf(buf, cap, "(:goal\n  (and\n");
    for (int j = 0; j < k; j++) {
        if (ls[j].pred == 0)
            o += (size_t)snprintf(buf + o, cap - o, "    (on b%d b%d)\n", ls[j].a + 1, ls[j].b + 1);
        else if (ls[j].pred == 4)
            o += (size_t)snprintf(buf + o, cap - o, "    (arm-empty)\n");
        else
            o += (size_t)snprintf(buf + o, cap - o, "    (%s b%d)\n", PN[ls[j].pred], ls[j].a + 1);
    }
    snprintf(buf + o, cap - o, "  )\n)\n");
}

static unsigned long long rng = 0x9E3779B97F4A7C15ULL;
static int rnd(int m)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (int)(rng % (unsigned long long)m);
}

static lit random_lit(int n)
{
    lit l = {rnd(5), rnd(n), rnd(n)};
    return l;
}

static void test_brute_force(void)
{
    int loops = getenv("SMC_TEST_SANITIZED") ? 150 : 1500;
    int sat_agree = 0, eq_agree = 0, eq_true = 0, prefix_agree = 0, total = 0, total_pref = 0;
    for (int it = 0; it < loops; it++) {
        int n = 2 + rnd(3);
        char prob[200];
        int o = snprintf(prob, sizeof prob, "(define (problem r) (:objects");
        for (int i = 0; i < n; i++)
            o += snprintf(prob + o, sizeof prob - (size_t)o, " b%d", i + 1);
        snprintf(prob + o, sizeof prob - (size_t)o, ") (:init (arm-empty)))");
        smc_bw_problem *p = NULL;
        smc_error err;
        if (smc_bw_problem_parse(prob, strlen(prob), &p, &err) < 0) {
            CHECK_MSG(0, "%s", err.msg);
            continue;
        }
        int n_states = 1;
        for (int i = 0; i < n; i++)
            n_states *= n + 2;
        static unsigned char s1[1296], s2[1296];
        lit l1[8], l2[9];
        int k1 = rnd(6), k2 = rnd(6);
        for (int j = 0; j < k1; j++)
            l1[j] = random_lit(n);
        for (int j = 0; j < k2; j++)
            l2[j] = random_lit(n);
        sat_states(n, l1, k1, s1, n_states);
        bool any1 = memchr(s1, 1, (size_t)n_states) != NULL;
        char g1[600], g2[600];
        goal_text(l1, k1, g1, sizeof g1);
        bool ours = chk(p, g1, true) == SMC_VERDICT_COMPLETE;
        sat_agree += ours == (any1 && k1 > 0);   /* the critic refuses an empty goal */
        total++;
        /* every literal boundary prefix: viable iff those literals are satisfiable */
        for (int j = 0; j <= k1; j++) {
            char gp[600];
            goal_text(l1, j, gp, sizeof gp);
            gp[strlen(gp) - 6] = '\0'; /* drop the closing "  )\n)\n" */
            sat_states(n, l1, j, s2, n_states);
            bool any = memchr(s2, 1, (size_t)n_states) != NULL;
            prefix_agree += (chk(p, gp, false) == SMC_VERDICT_PREFIX) == any;
            total_pref++;
        }
        /* an unfinished "(on bX " after the literals: viable iff some bY works */
        if (k1 > 0) {
            int x = rnd(n);
            char gp[700];
            goal_text(l1, k1, gp, sizeof gp);
            gp[strlen(gp) - 6] = '\0';
            snprintf(gp + strlen(gp), sizeof gp - strlen(gp), "    (on b%d ", x + 1);
            bool any = false;
            for (int y = 0; y < n && !any; y++) {
                memcpy(l2, l1, sizeof(lit) * (size_t)k1);
                l2[k1] = (lit){0, x, y};
                sat_states(n, l2, k1 + 1, s2, n_states);
                any = memchr(s2, 1, (size_t)n_states) != NULL;
            }
            prefix_agree += (chk(p, gp, false) == SMC_VERDICT_PREFIX) == any;
            total_pref++;
            /* an equivalent goal: l1 plus a literal true in all its states */
            for (int tries = 0; tries < 20; tries++) {
                lit extra = random_lit(n);
                bool entailed = true;
                for (int s = 0; s < n_states && entailed; s++)
                    if (s1[s]) {
                        int pos[4], v = s;
                        for (int i = 0; i < n; i++) {
                            pos[i] = v % (n + 2) - 2;
                            v /= n + 2;
                        }
                        entailed = holds(n, pos, extra);
                    }
                if (entailed) {
                    memcpy(l2, l1, sizeof(lit) * (size_t)k1);
                    l2[k1] = extra;
                    k2 = k1 + 1;
                    break;
                }
            }
        }
        sat_states(n, l2, k2, s2, n_states);
        bool same = memcmp(s1, s2, (size_t)n_states) == 0;
        goal_text(l2, k2, g2, sizeof g2);
        bool eq = false;
        CHECK(smc_bw_goals_equivalent(p, g1, strlen(g1), g2, strlen(g2), &eq, &err) == 0);
        eq_agree += eq == same;
        eq_true += same;
        smc_bw_problem_free(p);
    }
    CHECK_EQ_INT(sat_agree, total);
    CHECK_EQ_INT(prefix_agree, total_pref);
    CHECK_EQ_INT(eq_agree, total);
    CHECK_MSG(eq_true > total / 10, "too few equivalent pairs exercised (%d)", eq_true);
}

/* ---- Planetarium reference problems ---------------------------------- */

static smc_bw_problem *load_problem(const char *name, char **text)
{
    char rel[256];
    snprintf(rel, sizeof rel, "data/planetarium/problems/blocksworld/%s.pddl", name);
    size_t len = 0;
    *text = test_read_file(test_shared_path(rel), &len);
    CHECK_MSG(*text != NULL, "cannot read %s", rel);
    if (!*text)
        return NULL;
    smc_bw_problem *p = NULL;
    smc_error err;
    CHECK_MSG(smc_bw_problem_parse(*text, len, &p, &err) == 0, "%s: %s", name, err.msg);
    return p;
}

static int planetarium_equiv(const char *a, const char *b)
{
    char *ta, *tb;
    smc_bw_problem *pa = load_problem(a, &ta), *pb = load_problem(b, &tb);
    int r = -1;
    if (pa && pb) {
        smc_str ga = smc_bw_problem_goal(pa), gb = smc_bw_problem_goal(pb);
        bool eq = false;
        smc_error err;
        if (smc_bw_goals_equivalent(pa, ga.ptr, ga.len, gb.ptr, gb.len, &eq, &err) == 0)
            r = eq;
    }
    smc_bw_problem_free(pa);
    smc_bw_problem_free(pb);
    free(ta);
    free(tb);
    return r;
}

static void test_planetarium(void)
{
    /* fully specified state vs the same state without the implied clears,
     * or without the implied on-tables: equivalent (reasoned by hand in the
     * file names' sense: every block is placed, so the rest follows) */
    CHECK_EQ_INT(planetarium_equiv("blocksworld_fully_specified", "blocksworld_missing_clears"), 1);
    CHECK_EQ_INT(planetarium_equiv("blocksworld_fully_specified", "blocksworld_missing_ontables"), 1);
    CHECK_EQ_INT(planetarium_equiv("blocksworld_holding", "blocksworld_stack_to_holding"), 1);
    CHECK_EQ_INT(planetarium_equiv("blocksworld_fully_specified", "blocksworld_underspecified"), 0);
    CHECK_EQ_INT(planetarium_equiv("blocksworld_fully_specified", "blocksworld_holding"), 0);
    CHECK_EQ_INT(planetarium_equiv("blocksworld_underspecified", "blocksworld_underspecified_arm"), 0);
    CHECK_EQ_INT(planetarium_equiv("blocksworld_invalid_1", "blocksworld_invalid_2"), 1); /* both empty */
    const char *names[] = {"blocksworld_fully_specified", "blocksworld_holding", "blocksworld_missing_clears",
                           "blocksworld_missing_ontables", "blocksworld_stack_to_holding",
                           "blocksworld_underspecified", "blocksworld_underspecified_arm",
                           "blocksworld_invalid_1", "blocksworld_invalid_2", "blocksworld_invalid_3"};
    for (int i = 0; i < 10; i++) {
        char *t;
        smc_bw_problem *p = load_problem(names[i], &t);
        if (p) {
            smc_str g = smc_bw_problem_goal(p);
            bool invalid = strstr(names[i], "invalid") != NULL;
            CHECK(smc_bw_problem_init_valid(p));
            CHECK_MSG((smc_bw_goal_check(p, g.ptr, g.len, true, NULL, 0) == SMC_VERDICT_INVALID) == invalid,
                      "%s", names[i]);
        }
        smc_bw_problem_free(p);
        free(t);
    }
}

/* ---- the benchmark's gold goals --------------------------------------- */

static void test_dev_goals(void)
{
    size_t len = 0;
    char *all = test_read_file(test_shared_path("data/blocksworld/dev.jsonl"), &len);
    CHECK(all != NULL);
    if (!all)
        return;
    int n_items = 0, ok_complete = 0, ok_prefixes = 0;
    /* minimal JSON string extraction for the two fields we need */
    for (char *line = all; line && *line; ) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *fields[2] = {NULL, NULL};
        const char *keys[2] = {"\"problem_prefix\": \"", "\"gold_problem\": \""};
        for (int f = 0; f < 2; f++) {
            char *s = strstr(line, keys[f]);
            if (!s)
                continue;
            s += strlen(keys[f]);
            char *out = malloc(strlen(s) + 1), *o = out;
            for (; *s && *s != '"'; s++) {
                if (*s == '\\' && s[1]) {
                    s++;
                    *o++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
                } else {
                    *o++ = *s;
                }
            }
            *o = '\0';
            fields[f] = out;
        }
        if (fields[0] && fields[1]) {
            n_items++;
            smc_bw_problem *p = NULL;
            smc_error err;
            if (smc_bw_problem_parse(fields[0], strlen(fields[0]), &p, &err) == 0) {
                size_t pl = strlen(fields[0]);
                const char *goal = fields[1] + pl; /* what the model must write */
                size_t gl = strlen(goal);
                ok_complete += strncmp(fields[1], fields[0], pl) == 0 &&
                               smc_bw_goal_check(p, goal, gl, true, NULL, 0) == SMC_VERDICT_COMPLETE;
                bool all_ok = true;
                for (size_t k = 0; k <= gl && all_ok; k++)
                    all_ok = smc_bw_goal_check(p, goal, k, false, NULL, 0) == SMC_VERDICT_PREFIX;
                ok_prefixes += all_ok;
                bool eq = false;
                smc_bw_goals_equivalent(p, goal, gl, goal, gl, &eq, &err);
                CHECK(eq);
                smc_bw_problem_free(p);
            }
        }
        free(fields[0]);
        free(fields[1]);
        line = next;
    }
    CHECK_EQ_INT(n_items, 100);
    CHECK_EQ_INT(ok_complete, n_items);
    CHECK_EQ_INT(ok_prefixes, n_items);
    free(all);
}

void run_tests(void)
{
    test_tricky();
    test_brute_force();
    if (test_shared_path("")) {
        test_planetarium();
        test_dev_goals();
    } else {
        fprintf(stderr, "note: ../shared absent, Planetarium and dev goals skipped\n");
    }
}
