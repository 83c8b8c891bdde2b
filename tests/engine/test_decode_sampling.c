/* test_decode_sampling.c — temperature / top-k / top-p sampling against the
 * exact distributions they should produce, greedy, and seeded
 * reproducibility of the generator. */
#include "test.h"

#include "smcgen.h"

enum { NV = 4 };

/* Empirical frequencies of smc_sample over n draws. */
static void freqs(const float *logits, float temp, int32_t top_k, float top_p, int n, double *out)
{
    smc_rng r;
    smc_rng_seed(&r, 1234);
    for (int i = 0; i < NV; i++)
        out[i] = 0;
    for (int i = 0; i < n; i++) {
        int32_t t = smc_sample(logits, NV, temp, top_k, top_p, &r);
        if (t >= 0 && t < NV)
            out[t] += 1.0 / n;
    }
}

static void check_dist(const char *what, const double *got, const double *want)
{
    /* 200k draws: standard error <= 0.0012; 0.006 is 5 sigma. */
    for (int i = 0; i < NV; i++)
        CHECK_MSG(fabs(got[i] - want[i]) <= 0.006, "%s: token %d frequency %.4f, expected %.4f", what, i,
                  got[i], want[i]);
}

void run_tests(void)
{
    /* Probabilities 0.5, 0.3, 0.15, 0.05 (order scrambled in the ids). */
    const double p[NV] = {0.15, 0.5, 0.05, 0.3};
    float logits[NV];
    for (int i = 0; i < NV; i++)
        logits[i] = (float)log(p[i]) + 3.0f;   /* a shift changes nothing */
    int n = getenv("SMC_TEST_SANITIZED") ? 50000 : 200000;
    double got[NV];

    freqs(logits, 1.0f, 0, 1.0f, n, got);
    check_dist("temp 1", got, p);

    double w2[NV], z = 0;   /* temperature 2: p^(1/2), normalised */
    for (int i = 0; i < NV; i++)
        z += w2[i] = sqrt(p[i]);
    for (int i = 0; i < NV; i++)
        w2[i] /= z;
    freqs(logits, 2.0f, 0, 1.0f, n, got);
    check_dist("temp 2", got, w2);

    const double k2[NV] = {0, 0.5 / 0.8, 0, 0.3 / 0.8};
    freqs(logits, 1.0f, 2, 1.0f, n, got);
    check_dist("top-k 2", got, k2);
    /* top-p 0.7: 0.5 < 0.7, then 0.8 >= 0.7: the two most likely tokens. */
    freqs(logits, 1.0f, 0, 0.7f, n, got);
    check_dist("top-p 0.7", got, k2);
    const double p1[NV] = {0, 1, 0, 0};
    freqs(logits, 1.0f, 0, 0.5f, n, got);
    check_dist("top-p 0.5", got, p1);
    const double k3p[NV] = {0.15 / 0.95, 0.5 / 0.95, 0, 0.3 / 0.95};
    freqs(logits, 1.0f, 3, 0.9f, n, got);   /* top-k 3 then top-p 0.9 of the renormalised 3 */
    check_dist("top-k 3 + top-p 0.9", got, k3p);

    /* top-k over a large vocabulary: only the k best ids ever come out, with
     * their renormalised probabilities. */
    {
        enum { BIG = 5000, K = 5 };
        static float big[BIG];
        uint64_t x = 7;
        for (int i = 0; i < BIG; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            big[i] = (float)((x >> 40) % 1000) / 1000.0f;
        }
        const int best[K] = {17, 4000, 2222, 999, 3};
        for (int i = 0; i < K; i++)
            big[best[i]] = 2.0f - 0.25f * (float)i;
        double want[K], zk = 0, cnt[K] = {0};
        for (int i = 0; i < K; i++)
            zk += want[i] = exp(big[best[i]]);
        smc_rng rk;
        smc_rng_seed(&rk, 3);
        int outside = 0, draws = n / 4;
        for (int d = 0; d < draws; d++) {
            int32_t t = smc_sample(big, BIG, 1.0f, K, 1.0f, &rk), hit = 0;
            for (int i = 0; i < K; i++)
                if (t == best[i]) {
                    cnt[i] += 1.0 / draws;
                    hit = 1;
                }
            outside += !hit;
        }
        CHECK_EQ_INT(outside, 0);
        for (int i = 0; i < K; i++)
            CHECK_NEAR(cnt[i], want[i] / zk, 0.012);
    }

    /* Greedy. */
    smc_rng r;
    smc_rng_seed(&r, 5);
    CHECK_EQ_INT(smc_sample(logits, NV, 0.0f, 0, 1.0f, &r), 1);
    CHECK_EQ_INT(smc_argmax(logits, NV), 1);
    float tie[3] = {1, 2, 2};
    CHECK_EQ_INT(smc_argmax(tie, 3), 1);   /* first of equal maxima */

    /* Same seed, same stream; different seeds differ; uniform in [0, 1). */
    smc_rng a, b;
    smc_rng_seed(&a, 99);
    smc_rng_seed(&b, 99);
    int same = 1, in_range = 1;
    double mean = 0;
    for (int i = 0; i < 1000; i++) {
        double u = smc_rng_uniform(&a);
        same &= u == smc_rng_uniform(&b);
        in_range &= u >= 0 && u < 1;
        mean += u / 1000;
    }
    CHECK(same);
    CHECK(in_range);
    CHECK_NEAR(mean, 0.5, 0.05);
    smc_rng_seed(&b, 100);
    CHECK(smc_rng_next(&a) != smc_rng_next(&b));
}
