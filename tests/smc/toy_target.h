/* toy_target.h — shared by the SMC tests: the toy bigram table and an
 * independent exact enumeration of the target over all strings of the toy
 * alphabet up to a maximum length (not using the sampler's code). */
#ifndef SMC_TEST_TOY_TARGET_H
#define SMC_TEST_TOY_TARGET_H

#include <math.h>
#include <stdbool.h>
#include <string.h>

#define TOY_NSYM 6
#define TOY_V 7
#define TOY_MAXLEN 6

/* Rows: start, after a..f; columns a..f, EOS. 'a' is likely at the start but
 * the constraint only allows 'b' after it, which the LM dislikes: the masked
 * proposal (lcd) over-samples strings starting "ab". */
static const double toy_logits[TOY_V * TOY_V] = {
    2.0, 0.5, 0.3, 0.0, 0.2, -0.5, -1.0,
    1.5, -1.5, 1.0, 0.5, 0.0, 0.3, 0.5,
    0.2, 0.1, 1.2, 0.4, -0.3, 0.0, 0.6,
    0.5, 0.8, 0.2, 1.0, 0.1, -0.2, 0.9,
    0.1, 0.3, 0.6, 0.4, 0.9, 0.2, 1.1,
    0.4, 0.2, 0.1, 0.3, 0.8, 1.3, 0.7,
    0.3, 0.5, 0.2, 0.6, 0.4, 0.1, 1.0,
};

/* log p(next | prev) of the LM at temperature t (softmax of logits / t). */
static inline double toy_logp_t(int prev, int next, double t)   /* prev -1 = start; next 6 = EOS */
{
    const double *row = toy_logits + (prev + 1) * TOY_V;
    double m = row[0] / t, s = 0;
    for (int j = 1; j < TOY_V; j++)
        if (row[j] / t > m)
            m = row[j] / t;
    for (int j = 0; j < TOY_V; j++)
        s += exp(row[j] / t - m);
    return row[next] / t - m - log(s);
}
static inline double toy_logp(int prev, int next)
{
    return toy_logp_t(prev, next, 1.0);
}

/* The constraint, written out directly: no symbol twice in a row, 'a' only
 * before 'b', no "ef", non-empty, not ending in 'a'. */
static inline bool toy_rules_prefix_ok(const char *s, int n)
{
    for (int i = 1; i < n; i++) {
        if (s[i] == s[i - 1])
            return false;
        if (s[i - 1] == 'a' && s[i] != 'b')
            return false;
        if (s[i - 1] == 'e' && s[i] == 'f')
            return false;
    }
    return true;
}
static inline bool toy_rules_ok(const char *s, int n)
{
    return n > 0 && s[n - 1] != 'a' && toy_rules_prefix_ok(s, n);
}

/* The critic's complete score, written out directly. */
static inline double toy_critic_exact(const char *s, int n)
{
    int e = 0, f = 0;
    bool bc = false;
    for (int i = 0; i < n; i++) {
        e += s[i] == 'e';
        f += s[i] == 'f';
        if (i && s[i - 1] == 'b' && s[i] == 'c')
            bc = true;
    }
    if (e >= 2)
        return -INFINITY;
    return -0.4 * f + (bc ? 0.5 : 0) + (n && s[n - 1] == 'd' ? 0.7 : -0.2);
}

/* Every string of length <= maxlen, in a table indexed by a base-7 code. */
typedef struct toy_exact {
    int n;                          /* strings */
    char str[20000][TOY_MAXLEN + 1];
    int len[20000];
    double logp[20000];             /* log p_LM(x EOS) */
    double w_lm[20000];             /* p_LM(x EOS) */
    double w_cheap[20000];          /* p_LM · Φ_cheap */
    double w_full[20000];           /* p_LM · Φ_cheap · Φ_critic */
    double z_lm, z_cheap, z_full;
} toy_exact;

static inline int toy_code(const char *s, int n)
{
    int c = 0;
    for (int i = 0; i < n; i++)
        c = c * 7 + (s[i] - 'a' + 1);
    return c;
}

static inline void toy_enumerate_t(toy_exact *E, int maxlen, double temp)
{
    memset(E, 0, sizeof *E);
    /* breadth-first over lengths */
    char s[TOY_MAXLEN + 1];
    int total = 1, pw = 1;
    for (int k = 1; k <= maxlen; k++) {
        pw *= TOY_NSYM;
        total += pw;
    }
    for (int idx = 0; idx < total; idx++) {
        /* decode idx into (length, digits) */
        int rem = idx, n = 0, cnt = 1;
        while (rem >= cnt && n < TOY_MAXLEN) {
            rem -= cnt;
            cnt *= TOY_NSYM;
            n++;
        }
        for (int i = n - 1; i >= 0; i--) {
            s[i] = (char)('a' + rem % TOY_NSYM);
            rem /= TOY_NSYM;
        }
        s[n] = 0;
        double lp = 0;
        int prev = -1;
        for (int i = 0; i < n; i++) {
            lp += toy_logp_t(prev, s[i] - 'a', temp);
            prev = s[i] - 'a';
        }
        lp += toy_logp_t(prev, 6, temp);
        int j = E->n++;
        memcpy(E->str[j], s, (size_t)n + 1);
        E->len[j] = n;
        E->logp[j] = lp;
        E->w_lm[j] = exp(lp);
        E->w_cheap[j] = toy_rules_ok(s, n) ? exp(lp) : 0;
        E->w_full[j] = E->w_cheap[j] * exp(toy_critic_exact(s, n));
        E->z_lm += E->w_lm[j];
        E->z_cheap += E->w_cheap[j];
        E->z_full += E->w_full[j];
    }
}

static inline void toy_enumerate(toy_exact *E, int maxlen)
{
    toy_enumerate_t(E, maxlen, 1.0);
}

/* Index of text in E (linear in the code table), or -1. */
static inline int toy_find(const toy_exact *E, const int *code_index, const char *s, size_t n)
{
    (void)E;
    if (n > TOY_MAXLEN)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'a' || s[i] >= 'a' + TOY_NSYM)
            return -1;
    return code_index[toy_code(s, (int)n)];
}

#endif
