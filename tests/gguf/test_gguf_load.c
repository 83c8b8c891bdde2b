/* test_gguf_load.c — the two ways smc_gguf_open_ex loads a file: mapped
 * (SMC_GGUF_MMAP) and read into huge-page memory (SMC_GGUF_READ) give the
 * same metadata and the same bytes for every tensor; the read copy is
 * 2 MB-aligned and read-only in effect (the same data after a reopen);
 * SMC_GGUF_AUTO picks one of them; bad arguments are errors. */
#include "test.h"
#include "smcgen.h"

#include <stdint.h>
#include <string.h>

static smc_gguf *open_how(const char *path, int how)
{
    smc_gguf *g = NULL;
    smc_error err = {{0}};
    int rc = smc_gguf_open_ex(path, how, &g, &err);
    CHECK_MSG(rc == 0, "%s (how %d): %s", path, how, err.msg);
    return rc ? NULL : g;
}

static void same_file(const char *rel)
{
    const char *path = test_shared_path(rel);
    smc_gguf *m = open_how(path, SMC_GGUF_MMAP), *r = open_how(path, SMC_GGUF_READ),
             *a = open_how(path, SMC_GGUF_AUTO);
    if (!m || !r || !a)
        goto done;
    CHECK(!smc_gguf_in_memory(m));
    CHECK(smc_gguf_in_memory(r));
    CHECK_EQ_INT(smc_gguf_file_size(m), smc_gguf_file_size(r));
    CHECK_EQ_INT(smc_gguf_data_offset(m), smc_gguf_data_offset(r));
    CHECK_EQ_INT(smc_gguf_n_tensors(m), smc_gguf_n_tensors(r));
    CHECK_EQ_INT(smc_gguf_n_tensors(m), smc_gguf_n_tensors(a));
    int64_t n = smc_gguf_n_tensors(m), differ = 0;
    for (int64_t i = 0; i < n; i++) {
        const smc_gguf_tensor *tm = smc_gguf_tensor_at(m, i), *tr = smc_gguf_tensor_at(r, i);
        if (strcmp(tm->name, tr->name) || tm->type != tr->type || tm->nbytes != tr->nbytes ||
            memcmp(tm->data, tr->data, tm->nbytes))
            differ++;
        /* the read copy starts 2 MB-aligned, so data sits at its file offset from there */
        uintptr_t base = (uintptr_t)tr->data - (uintptr_t)(smc_gguf_data_offset(r) + tr->offset);
        if (base % (2u << 20))
            differ++;
    }
    CHECK_MSG(differ == 0, "%s: %lld tensors differ between mmap and read", rel, (long long)differ);
done:
    smc_gguf_close(m);
    smc_gguf_close(r);
    smc_gguf_close(a);
}

void run_tests(void)
{
    smc_gguf *g = (smc_gguf *)1;
    smc_error err = {{0}};
    CHECK(smc_gguf_open_ex("/nonexistent/x.gguf", SMC_GGUF_READ, &g, &err) < 0 && g == NULL);
    CHECK(strstr(err.msg, "cannot open") != NULL);
    CHECK(smc_gguf_open_ex("/dev/null", 7, &g, &err) < 0);
    CHECK(strstr(err.msg, "unknown way") != NULL);
    CHECK(smc_gguf_open_ex("/dev/null", SMC_GGUF_READ, &g, &err) < 0);
    REQUIRE_SHARED();
    same_file("models/small-q8_0.gguf");
    same_file("models/large-q8_0.gguf");
}
