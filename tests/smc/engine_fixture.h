/* engine_fixture.h — the set-up shared by the tests that drive the engine LM:
 * the small shared model, two contexts (one behind the engine LM, one for
 * fresh reference evaluations) and the engine LM itself, and their release.
 * Include after test.h; the caller has already checked REQUIRE_SHARED(). */
#ifndef SMC_TEST_ENGINE_FIXTURE_H
#define SMC_TEST_ENGINE_FIXTURE_H

#include "smcgen.h"

typedef struct {
    smc_model *model;
    const smc_vocab *vocab;
    smc_ctx *ctx, *ref;
    smc_lm *lm;
} engine_fixture;

static void engine_fixture_close(engine_fixture *f)
{
    if (f->lm)
        smc_engine_lm_free(f->lm);
    if (f->ref)
        smc_ctx_free(f->ref);
    if (f->ctx)
        smc_ctx_free(f->ctx);
    if (f->model)
        smc_model_free(f->model);
    *f = (engine_fixture){0};
}

/* Loads models/small-q8_0.gguf with 1-thread contexts; 0 when all is ready,
 * else -1 with a failed check recorded and everything released. */
static int engine_fixture_open(engine_fixture *f)
{
    *f = (engine_fixture){0};
    smc_error err = {{0}};
    if (smc_model_load(test_shared_path("models/small-q8_0.gguf"), &f->model, &err) != 0) {
        CHECK_MSG(0, "load: %s", err.msg);
        return -1;
    }
    f->vocab = smc_model_vocab(f->model, &err);
    CHECK(f->vocab != NULL);
    smc_ctx_params cp = smc_ctx_default_params();
    cp.n_threads = 1;
    CHECK_EQ_INT(smc_ctx_new(f->model, &cp, &f->ctx, &err), 0);
    CHECK_EQ_INT(smc_ctx_new(f->model, &cp, &f->ref, &err), 0);
    if (f->vocab && f->ctx)
        CHECK_EQ_INT(smc_engine_lm_new(f->model, f->ctx, f->vocab, -1, &f->lm, &err), 0);
    if (!f->vocab || !f->ctx || !f->ref || !f->lm) {
        engine_fixture_close(f);
        return -1;
    }
    return 0;
}

#endif
