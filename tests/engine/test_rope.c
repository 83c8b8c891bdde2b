/* test_rope.c — rotary position embeddings against a float64 reference
 * written from the definitions (adjacent pairs for llama, NeoX halves for
 * qwen, partial rotation, linear and llama3 frequency scaling), the
 * relative-position property, and the loader's RoPE / epsilon settings for
 * the sharp architecture fixtures of ../shared/models/arch. */
#include "test.h"

#include "engine/rope.h"

enum { HD = 8 };

static smc_model shape(bool neox, int n_rot, double base)
{
    smc_model m;
    memset(&m, 0, sizeof m);
    m.head_dim = HD;
    m.n_rot = n_rot;
    m.rope_neox = neox;
    m.rope_pos_scale = 1.0f;
    m.rope_theta_scale = (float)pow(base, -2.0 / n_rot);
    return m;
}

/* The definition: pair i (dims 2i,2i+1 or i,i+n_rot/2) turns by
 * pos·scale·base^(-2i/n_rot)/factor_i; dims past n_rot stay. */
static void rope_ref(bool neox, int n_rot, double base, double pos_scale, const float *factors, int pos,
                     const float *x, double *out)
{
    for (int i = 0; i < HD; i++)
        out[i] = x[i];
    int half = n_rot / 2;
    for (int i = 0; i < half; i++) {
        double th = pos * pos_scale * pow(base, -2.0 * i / n_rot) / (factors ? factors[i] : 1.0);
        int a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
        out[a] = x[a] * cos(th) - x[b] * sin(th);
        out[b] = x[a] * sin(th) + x[b] * cos(th);
    }
}

static void rotate(const smc_model *m, int pos, const float *x, float *out)
{
    float cs[HD];
    smc_rope_table(m, pos, cs);
    memcpy(out, x, HD * sizeof *out);
    smc_rope_apply(m, out, 1, cs);
}

static const float X[HD] = {0.3f, -1.2f, 0.7f, 2.0f, -0.4f, 1.1f, 0.9f, -0.6f};
static const float Y[HD] = {-0.8f, 0.5f, 1.4f, -0.2f, 0.6f, -1.5f, 0.1f, 1.3f};

static double max_diff(const float *a, const double *b)
{
    double mx = 0;
    for (int i = 0; i < HD; i++)
        mx = fmax(mx, fabs(a[i] - b[i]));
    return mx;
}

static void check_against_definition(void)
{
    static const struct { bool neox; int n_rot; double base; } cases[] = {
        {false, 8, 10000.0}, {true, 8, 10000.0}, {false, 6, 10000.0}, {true, 4, 1e6}, {true, 8, 1e6},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        smc_model m = shape(cases[k].neox, cases[k].n_rot, cases[k].base);
        for (int pos = 0; pos < 40; pos += 3) {
            float got[HD];
            double want[HD];
            rotate(&m, pos, X, got);
            rope_ref(cases[k].neox, cases[k].n_rot, cases[k].base, 1.0, NULL, pos, X, want);
            CHECK_MSG(max_diff(got, want) < 2e-5, "case %zu pos %d: differs by %g", k, pos, max_diff(got, want));
        }
    }
    /* Position 0 is the identity; the other pairing is a different rotation. */
    smc_model adj = shape(false, 8, 10000.0), neox = shape(true, 8, 10000.0);
    float a[HD], b[HD];
    rotate(&adj, 0, X, a);
    CHECK(memcmp(a, X, sizeof a) == 0);
    rotate(&adj, 7, X, a);
    rotate(&neox, 7, X, b);
    double d = 0;
    for (int i = 0; i < HD; i++)
        d = fmax(d, fabs(a[i] - b[i]));
    CHECK_MSG(d > 0.1, "adjacent and NeoX rotations agree (%g): the test could not tell them apart", d);
}

static void check_scaling(void)
{
    /* Linear scaling: positions times 1/factor. llama3: per-pair divisors. */
    smc_model m = shape(false, 8, 500000.0);
    m.rope_pos_scale = 0.25f;
    float got[HD];
    double want[HD];
    rotate(&m, 13, X, got);
    rope_ref(false, 8, 500000.0, 0.25, NULL, 13, X, want);
    CHECK_MSG(max_diff(got, want) < 2e-5, "linear scaling: %g", max_diff(got, want));
    float factors[4] = {1.0f, 1.5f, 8.0f, 32.0f};
    smc_model f = shape(true, 8, 500000.0);
    f.rope_factors = factors;
    rotate(&f, 29, X, got);
    rope_ref(true, 8, 500000.0, 1.0, factors, 29, X, want);
    CHECK_MSG(max_diff(got, want) < 2e-5, "llama3 factors: %g", max_diff(got, want));
}

static double dot(const float *a, const float *b)
{
    double s = 0;
    for (int i = 0; i < HD; i++)
        s += (double)a[i] * b[i];
    return s;
}

/* q·k after rotation depends only on the distance between positions, and
 * rotation keeps the norm. */
static void check_relative(void)
{
    for (int neox = 0; neox < 2; neox++) {
        smc_model m = shape(neox, 8, 10000.0);
        float q[HD], k[HD];
        rotate(&m, 5, X, q);
        rotate(&m, 2, Y, k);
        double base = dot(q, k);
        for (int shift = 1; shift < 60; shift += 7) {
            rotate(&m, 5 + shift, X, q);
            rotate(&m, 2 + shift, Y, k);
            CHECK_NEAR(dot(q, k), base, 1e-4);
            CHECK_NEAR(dot(q, q), dot(X, X), 1e-4);
        }
        rotate(&m, 6, X, q);   /* another distance gives another score */
        CHECK_MSG(fabs(dot(q, k) - base) > 1e-3, "score does not depend on distance");
    }
}

/* The loader reads RoPE pairing, base and epsilon from the file: the qwen
 * sharp fixtures use base 1e6 and epsilon 1e-6, llama's 1e4 and 1e-5. */
static void check_loader(void)
{
    static const struct { const char *file; bool neox; double base, eps; } fx[] = {
        {"models/arch/llama-sharp.gguf", false, 1e4, 1e-5},
        {"models/arch/qwen2-sharp.gguf", true, 1e6, 1e-6},
        {"models/arch/qwen3-sharp.gguf", true, 1e6, 1e-6},
    };
    if (!test_shared_path("")) {
        fprintf(stderr, "  (../shared absent: loader checks skipped)\n");
        return;
    }
    for (size_t i = 0; i < 3; i++) {
        smc_model *m = NULL;
        smc_error err = {{0}};
        int rc = smc_model_load(test_shared_path(fx[i].file), &m, &err);
        CHECK_MSG(rc == 0, "%s: %s", fx[i].file, err.msg);
        if (rc)
            continue;
        CHECK_EQ_INT(m->rope_neox, fx[i].neox);
        CHECK_EQ_INT(m->n_rot, 64);
        CHECK_NEAR(m->eps, fx[i].eps, fx[i].eps * 1e-6);
        CHECK_NEAR(m->rope_theta_scale, pow(fx[i].base, -2.0 / 64), 1e-7);
        CHECK(m->rope_factors == NULL);
        CHECK_NEAR(m->rope_pos_scale, 1.0, 0);
        smc_model_free(m);
    }
}

void run_tests(void)
{
    check_against_definition();
    check_scaling();
    check_relative();
    check_loader();
}
