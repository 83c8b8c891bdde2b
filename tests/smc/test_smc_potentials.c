/* test_smc_potentials.c — the potential interface: the Boolean adapter
 * (masks, empty tokens, EOS), products (scores add, masks intersect, only
 * factors at a boundary are re-evaluated, the last value carries over), and
 * the logw_next / prefix / complete consistency of the toy potentials, and
 * products forwarding batches (score_batch) to the factors that have them. */
#include "test.h"

#include <stdlib.h>

#include "smc/potential.h"
#include "smc/toy.h"
#include "smcgen.h"

/* A tiny LM vocabulary (only token_bytes is used): "a", "b", "" (a control
 * token), "ab", "ba", EOS. */
static const char *const vb[] = {"a", "b", "", "ab", "ba", ""};
static smc_str tiny_bytes(void *self, int32_t tok)
{
    (void)self;
    return (smc_str){vb[tok], strlen(vb[tok])};
}
static const smc_lm tiny = {.n_vocab = 6, .eos = 5, .token_bytes = tiny_bytes};

/* A byte-level critic with its own boundary byte and call counter:
 * prefix = -weight × (number of boundary bytes), -inf after 3 of them. */
typedef struct counted {
    char boundary;
    double weight;
    int calls;
    int completes;
} counted;

static double counted_score(const counted *c, const char *t, size_t n)
{
    int k = 0;
    for (size_t i = 0; i < n; i++)
        k += t[i] == c->boundary;
    return k >= 3 ? -INFINITY : -c->weight * k;
}
static double counted_prefix(void *self, void *st, const char *t, size_t n)
{
    (void)st;
    counted *c = self;
    c->calls++;
    return counted_score(c, t, n);
}
static double counted_complete(void *self, void *st, const char *t, size_t n)
{
    (void)st;
    counted *c = self;
    c->completes++;
    return counted_score(c, t, n) + 1.0;
}
static bool counted_boundary(void *self, const char *t, size_t n, size_t n_new)
{
    const counted *c = self;
    for (size_t i = n - n_new; i < n; i++)
        if (t[i] == c->boundary)
            return true;
    return false;
}
static const smc_potential_vtable counted_vt = {
    .prefix = counted_prefix, .complete = counted_complete, .is_boundary = counted_boundary};

/* The same critic with a batch hook; calls counts the prefixes it scored. */
static int counted_batches;
static int counted_batch(void *self, int n, const smc_score_request *reqs, double *out,
                         smc_error *err)
{
    (void)err;
    counted *c = self;
    counted_batches++;
    for (int i = 0; i < n; i++) {
        c->calls += !reqs[i].complete;
        c->completes += reqs[i].complete;
        out[i] = counted_score(c, reqs[i].text, reqs[i].len) + (reqs[i].complete ? 1.0 : 0.0);
    }
    return 0;
}
static const smc_potential_vtable counted_batch_vt = {
    .prefix = counted_prefix, .complete = counted_complete, .is_boundary = counted_boundary,
    .score_batch = counted_batch};

/* Boolean: at most 3 bytes. */
static int len_new(void *self, void **st, smc_error *err)
{
    (void)self, (void)err;
    *st = calloc(1, sizeof(size_t));
    return *st ? 0 : -1;
}
static int len_clone(void *self, const void *st, void **out, smc_error *err)
{
    (void)self, (void)err;
    *out = malloc(sizeof(size_t));
    if (!*out)
        return -1;
    memcpy(*out, st, sizeof(size_t));
    return 0;
}
static void len_free(void *self, void *st)
{
    (void)self;
    free(st);
}
static bool len_advance(void *self, void *st, const char *b, size_t n)
{
    (void)self, (void)b;
    size_t *k = st;
    if (*k + n > 3)
        return false;
    *k += n;
    return true;
}
static bool len_accepting(void *self, const void *st)
{
    (void)self, (void)st;
    return true;
}
static const smc_bool_vtable len_vt = {.state_new = len_new, .state_clone = len_clone,
                                       .state_free = len_free, .advance = len_advance,
                                       .is_accepting = len_accepting};

/* Checks logw_next against prefix/complete for every token sequence of the
 * tiny vocabulary up to depth 3 (genlm's assert_logw_next_consistency). */
static int consistency_errors(smc_potential *p, const smc_potential_vtable *vt, void *self)
{
    int bad = 0;
    int32_t seq[3];
    double lw[6];
    for (int depth = 0; depth <= 3; depth++) {
        int total = 1;
        for (int i = 0; i < depth; i++)
            total *= 5;
        for (int code = 0; code < total; code++) {
            int c = code;
            for (int i = 0; i < depth; i++) {
                seq[i] = c % 5;
                c /= 5;
            }
            void *st = NULL;
            smc_error err;
            vt->state_new(self, &st, &err);
            char text[16];
            size_t len = 0;
            bool alive = true;
            for (int i = 0; i < depth; i++) {
                size_t k = strlen(vb[seq[i]]);
                memcpy(text + len, vb[seq[i]], k);
                len += k;
                vt->advance(self, st, text, len, k, &err);
            }
            double pre = vt->prefix(self, st, text, len);
            alive = pre > -INFINITY;
            if (vt->logw_next(self, st, text, len, lw, &err) != 0)
                bad++;
            for (int32_t v = 0; v < 6 && alive; v++) {
                double expect;
                if (v == 5) {
                    expect = vt->complete(self, st, text, len) - pre;
                } else {
                    void *st2 = NULL;
                    vt->state_clone(self, st, &st2, &err);
                    char t2[16];
                    memcpy(t2, text, len);
                    size_t k = strlen(vb[v]);
                    memcpy(t2 + len, vb[v], k);
                    vt->advance(self, st2, t2, len + k, k, &err);
                    double p2 = vt->prefix(self, st2, t2, len + k);
                    vt->state_free(self, st2);
                    expect = (k == 0) ? -INFINITY : p2 - pre; /* empty tokens are never allowed */
                }
                if (!(lw[v] == expect || fabs(lw[v] - expect) < 1e-12))
                    bad++;
            }
            vt->state_free(self, st);
        }
    }
    (void)p;
    return bad;
}

/* The stop-token wrapper: stop tokens' mass moves to EOS, others unchanged. */
static void test_stop_lm(void)
{
    smc_toy_lm *t = smc_toy_random_new(400, 3, 2.0, 0.0);
    const smc_lm *base = smc_toy_lm_iface(t);
    int32_t *ids = NULL;
    size_t n = 0;
    smc_error err = {{0}};
    CHECK_EQ_INT(smc_lm_tokens_containing(base, "fa", 2, &ids, &n, &err), 0);
    size_t manual = 0;
    int wrong = 0;
    for (int32_t v = 0; v < base->n_vocab; v++) {
        smc_str b = base->token_bytes(base->self, v);
        bool has = false;
        for (size_t i = 0; i + 1 < b.len; i++)
            has |= b.ptr[i] == 'f' && b.ptr[i + 1] == 'a';
        manual += has;
        bool listed = false;
        for (size_t k = 0; k < n; k++)
            listed |= ids[k] == v;
        wrong += has != listed;
    }
    CHECK(n > 0);
    CHECK_EQ_INT(n, manual);
    CHECK_EQ_INT(wrong, 0);
    smc_lm *lm = NULL;
    CHECK_EQ_INT(smc_lm_stops_new(base, ids, n, &lm, &err), 0);
    if (!lm)
        return;
    void *st = NULL;
    int32_t p0 = 2;
    CHECK_EQ_INT(lm->root(lm->self, &p0, 1, &st, &err), 0);
    float *a = malloc(sizeof *a * 400), *b = malloc(sizeof *b * 400);
    void *sts[1] = {st};
    base->next_logits(base->self, sts, 1, a, &err);
    lm->next_logits(lm->self, sts, 1, b, &err);
    double za = 0, zb = 0;
    for (int v = 0; v < 400; v++) {
        za += exp(a[v]);
        zb += exp(b[v]);
    }
    double moved = exp(a[base->eos]) / za;
    for (size_t k = 0; k < n; k++)
        moved += exp(a[ids[k]]) / za;
    CHECK_NEAR(exp(b[base->eos]) / zb, moved, 1e-6);
    int bad = 0;
    for (int v = 0; v < 400; v++) {
        bool stop = false;
        for (size_t k = 0; k < n; k++)
            stop |= ids[k] == v;
        if (stop)
            bad += b[v] != -INFINITY;
        else if (v != base->eos)
            bad += fabs(exp(b[v]) / zb - exp(a[v]) / za) > 1e-6;
    }
    CHECK_EQ_INT(bad, 0);
    lm->release(lm->self, st);
    CHECK_EQ_INT(smc_toy_lm_live_states(t), 0);
    int32_t badid = 5000;
    smc_lm *l2 = NULL;
    CHECK_EQ_INT(smc_lm_stops_new(base, &badid, 1, &l2, &err), -1);
    free(a);
    free(b);
    free(ids);
    smc_lm_stops_free(lm);
    smc_toy_lm_free(t);
}

/* A product whose first factor has score_batch, driven with one batch per
 * step for four texts, against the same product without it driven one call
 * at a time: equal values (bit for bit), the same factor evaluations (only
 * those at a boundary), and one batch per step at most. */
static void test_product_batch(void)
{
    counted a1 = {'c', 0.5, 0, 0}, a2 = {'e', 0.25, 0, 0}, b1 = {'c', 0.5, 0, 0}, b2 = {'e', 0.25, 0, 0};
    smc_potential *fa[2] = {smc_potential_new(&counted_batch_vt, &a1, "a1", 0, -1),
                            smc_potential_new(&counted_vt, &a2, "a2", 0, -1)};
    smc_potential *fb[2] = {smc_potential_new(&counted_vt, &b1, "b1", 0, -1),
                            smc_potential_new(&counted_vt, &b2, "b2", 0, -1)};
    smc_potential *pa = NULL, *pb = NULL;
    smc_error err = {{0}};
    CHECK_EQ_INT(smc_potential_product(fa, 2, &pa, &err), 0);
    CHECK_EQ_INT(smc_potential_product(fb, 2, &pb, &err), 0);
    if (!pa || !pb)
        return;
    CHECK(pa->vt->score_batch != NULL && pb->vt->score_batch == NULL);
    const char *texts[4] = {"abcdeec", "ccxccc", "eeabce", "cdcdcdc"};
    void *sa[4], *sb[4];
    for (int k = 0; k < 4; k++) {
        pa->vt->state_new(pa->self, &sa[k], &err);
        pb->vt->state_new(pb->self, &sb[k], &err);
    }
    smc_score_request req[4];
    double va[4], vb_[4];
    int mismatches = 0, steps = 0;
    counted_batches = 0;
    for (size_t n = 0; n <= 8; n++) {   /* prefixes of n bytes; the whole text at len + 1 */
        int m = 0;
        for (int k = 0; k < 4; k++) {
            size_t len = strlen(texts[k]);
            if (n > len + 1)
                continue;
            bool complete = n == len + 1;
            if (n > 0 && !complete) {
                pa->vt->advance(pa->self, sa[k], texts[k], n, 1, &err);
                pb->vt->advance(pb->self, sb[k], texts[k], n, 1, &err);
            }
            size_t at = complete ? len : n;
            req[m] = (smc_score_request){sa[k], texts[k], at, complete};
            vb_[m++] = (complete ? pb->vt->complete : pb->vt->prefix)(pb->self, sb[k], texts[k], at);
        }
        if (m == 0)
            continue;
        steps++;
        CHECK_EQ_INT(pa->vt->score_batch(pa->self, m, req, va, &err), 0);
        for (int j = 0; j < m; j++)
            mismatches += memcmp(&va[j], &vb_[j], sizeof va[j]) != 0;
    }
    CHECK_EQ_INT(mismatches, 0);
    CHECK_EQ_INT(a1.calls, b1.calls);
    CHECK_EQ_INT(a2.calls, b2.calls);
    CHECK_EQ_INT(a1.completes, b1.completes);
    CHECK_EQ_INT(a2.completes, b2.completes);   /* not asked after a -inf factor */
    CHECK_EQ_INT(a2.completes, 2);   /* "abcdeec", "eeabce": the others have 3+ c */
    CHECK(a1.calls > 0 && counted_batches > 0 && counted_batches <= steps);
    /* A value checked by hand: "ccxccc" has three 'c': -inf, complete too. */
    CHECK(pa->vt->complete(pa->self, sa[1], "ccxccc", 6) == -INFINITY);
    for (int k = 0; k < 4; k++) {
        pa->vt->state_free(pa->self, sa[k]);
        pb->vt->state_free(pb->self, sb[k]);
    }
    smc_potential_free(pa);
    smc_potential_free(pb);
}

void run_tests(void)
{
    test_product_batch();
    smc_error err = {{0}};
    smc_toy_dfa *dfa = smc_toy_dfa_default();

    /* Boolean adapter on the tiny vocabulary: masks by trying tokens. */
    smc_potential *b = NULL;
    CHECK_EQ_INT(smc_potential_from_bool(&smc_toy_dfa_vtable, dfa, "dfa", &tiny, &b, &err), 0);
    CHECK_STR(smc_potential_name(b), "dfa");
    const smc_potential_vtable *vt = b->vt; 
    void *self = b->self;
    void *st = NULL;
    CHECK_EQ_INT(vt->state_new(self, &st, &err), 0);
    uint32_t bits[1];
    CHECK_EQ_INT(vt->token_mask(self, st, "", 0, bits, &err), 0);
    /* At the start: "a", "b", "ab", "ba" allowed; "" (control) and EOS not. */
    CHECK_EQ_INT(bits[0], (1u << 0) | (1u << 1) | (1u << 3) | (1u << 4));
    CHECK(vt->prefix(self, st, "", 0) == 0);
    CHECK(vt->complete(self, st, "", 0) == -INFINITY);
    vt->advance(self, st, "a", 1, 1, &err);
    CHECK_EQ_INT(vt->token_mask(self, st, "a", 1, bits, &err), 0);
    CHECK_EQ_INT(bits[0], (1u << 1) | (1u << 4)); /* after 'a' only b... */
    CHECK_EQ_INT(vt->token_allowed(self, st, "a", 1, 3, &err), 0);
    CHECK_EQ_INT(vt->token_allowed(self, st, "a", 1, 4, &err), 1);
    CHECK_EQ_INT(vt->token_allowed(self, st, "a", 1, 5, &err), 0);
    vt->advance(self, st, "ab", 2, 1, &err);
    CHECK_EQ_INT(vt->token_allowed(self, st, "ab", 2, 5, &err), 1); /* EOS: accepting */
    CHECK(vt->complete(self, st, "ab", 2) == 0);
    vt->advance(self, st, "abb", 3, 1, &err); /* "bb" rejected: dead for good */
    CHECK(vt->prefix(self, st, "abb", 3) == -INFINITY);
    CHECK(vt->complete(self, st, "abb", 3) == -INFINITY);
    CHECK_EQ_INT(vt->token_mask(self, st, "abb", 3, bits, &err), 0);
    CHECK_EQ_INT(bits[0], 0);
    vt->state_free(self, st);
    smc_potential_free(b);

    /* Bad adapters are refused. */
    smc_bool_vtable broken = smc_toy_dfa_vtable;
    broken.advance = NULL;
    CHECK_EQ_INT(smc_potential_from_bool(&broken, dfa, "x", &tiny, &b, &err), -1);
    CHECK(b == NULL && strstr(err.msg, "missing") != NULL);

    /* Product of two Boolean constraints: masks intersect, consistent
     * logw_next; token_allowed is the AND. */
    smc_potential *p1 = NULL, *p2 = NULL, *prod = NULL;
    smc_potential_from_bool(&smc_toy_dfa_vtable, dfa, "dfa", &tiny, &p1, &err);
    smc_potential_from_bool(&len_vt, NULL, "len<=3", &tiny, &p2, &err);
    smc_potential *parts[2] = {p1, p2};
    CHECK_EQ_INT(smc_potential_product(parts, 2, &prod, &err), 0);
    CHECK_STR(smc_potential_name(prod), "dfa*len<=3");
    vt = prod->vt;
    self = prod->self;
    CHECK(vt->token_mask != NULL && vt->token_allowed != NULL && vt->logw_next != NULL);
    CHECK_EQ_INT(consistency_errors(prod, vt, self), 0);
    vt->state_new(self, &st, &err);
    vt->advance(self, st, "ba", 2, 2, &err);
    CHECK_EQ_INT(vt->token_mask(self, st, "ba", 2, bits, &err), 0);
    /* DFA allows only "b" (and "ba") after 'a'; length allows 1 more byte. */
    CHECK_EQ_INT(bits[0], (1u << 1));
    CHECK_EQ_INT(vt->token_allowed(self, st, "ba", 2, 4, &err), 0);
    CHECK_EQ_INT(vt->token_allowed(self, st, "ba", 2, 1, &err), 1);
    vt->state_free(self, st);
    smc_potential_free(prod);

    /* Product of two critics with different boundaries: only the factor
     * whose boundary was crossed is re-evaluated; values carry over. */
    counted c1 = {'c', 0.5, 0, 0}, c2 = {'e', 0.25, 0, 0};
    smc_potential *q[2] = {smc_potential_new(&counted_vt, &c1, "c1", 0, -1),
                           smc_potential_new(&counted_vt, &c2, "c2", 0, -1)};
    smc_potential *crit = NULL;
    CHECK_EQ_INT(smc_potential_product(q, 2, &crit, &err), 0);
    vt = crit->vt;
    self = crit->self;
    CHECK(vt->logw_next == NULL); /* byte-level critics stay byte-level */
    CHECK(vt->is_boundary != NULL);
    vt->state_new(self, &st, &err);
    CHECK(vt->prefix(self, st, "", 0) == 0);
    CHECK_EQ_INT(c1.calls, 1);
    CHECK_EQ_INT(c2.calls, 1);
    const char *text = "abcdeec";
    int expect1 = 1, expect2 = 1;
    for (size_t n = 1; n <= strlen(text); n++) {
        vt->advance(self, st, text, n, 1, &err);
        bool bd = vt->is_boundary(self, text, n, 1);
        CHECK(bd == (text[n - 1] == 'c' || text[n - 1] == 'e'));
        double v = vt->prefix(self, st, text, n);
        expect1 += text[n - 1] == 'c';
        expect2 += text[n - 1] == 'e';
        CHECK_EQ_INT(c1.calls, expect1);
        CHECK_EQ_INT(c2.calls, expect2);
        /* carry-over: the value equals the sum of each factor's value at its
         * own last boundary, which is its value now (scores only change at
         * boundary bytes). */
        double want = counted_score(&c1, text, n) + counted_score(&c2, text, n);
        CHECK_NEAR(v, want, 1e-12);
    }
    CHECK_NEAR(vt->complete(self, st, text, strlen(text)), -1.0 - 0.5 + 2.0, 1e-12);
    void *st2 = NULL;
    CHECK_EQ_INT(vt->state_clone(self, st, &st2, &err), 0);
    vt->advance(self, st2, "abcdeecc", 8, 1, &err);
    CHECK(vt->prefix(self, st2, "abcdeecc", 8) == -INFINITY);  /* third 'c' */
    CHECK_NEAR(vt->prefix(self, st, text, 7), -1.5, 1e-12);    /* original unchanged */
    vt->state_free(self, st2);
    vt->state_free(self, st);
    smc_potential_free(crit);

    /* Products refuse missing factors (and free the others). */
    smc_potential *bad[2] = {smc_potential_new(&counted_vt, &c1, "c1", 0, -1), NULL};
    CHECK_EQ_INT(smc_potential_product(bad, 2, &crit, &err), -1);
    CHECK(crit == NULL);
    CHECK_EQ_INT(smc_potential_product(NULL, 0, &crit, &err), -1);

    /* The fast (precomputed) DFA mask equals the adapter's per-token mask on
     * a larger random vocabulary, in every DFA state reachable by one token. */
    smc_toy_lm *big = smc_toy_random_new(3000, 9, 4.0, 0.0);
    const smc_lm *blm = smc_toy_lm_iface(big);
    smc_potential *fast = NULL, *slow = NULL;
    CHECK_EQ_INT(smc_toy_dfa_potential(dfa, blm, true, &fast, &err), 0);
    CHECK_EQ_INT(smc_toy_dfa_potential(dfa, blm, false, &slow, &err), 0);
    const smc_potential_vtable *fv = fast->vt;
    const smc_potential_vtable *sv = slow->vt;
    void *fs = fast->self, *ss = slow->self;
    uint32_t *m1 = malloc(4 * 94), *m2 = malloc(4 * 94);
    int diff = 0;
    for (int first = -1; first < 6; first++) {
        void *a = NULL, *c = NULL;
        fv->state_new(fs, &a, &err);
        sv->state_new(ss, &c, &err);
        char t[1] = {(char)('a' + first)};
        if (first >= 0) {
            fv->advance(fs, a, t, 1, 1, &err);
            sv->advance(ss, c, t, 1, 1, &err);
        }
        fv->token_mask(fs, a, t, first >= 0, m1, &err);
        sv->token_mask(ss, c, t, first >= 0, m2, &err);
        diff += memcmp(m1, m2, 4 * 94) != 0;
        fv->state_free(fs, a);
        sv->state_free(ss, c);
    }
    CHECK_EQ_INT(diff, 0);
    free(m1);
    free(m2);
    smc_potential_free(fast);
    smc_potential_free(slow);
    smc_toy_lm_free(big);
    smc_toy_dfa_free(dfa);
    test_stop_lm();
}
