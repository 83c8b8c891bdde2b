/* test_gguf_replay.c — replays the fuzzer's inputs through the reader: the
 * seed corpus (fuzz/corpus/gguf: the valid seeds must open, the cut real
 * headers must fail as truncated) and every crash input kept in
 * tests/gguf/crashes (each must open or fail with a message, never crash). */
#include "test.h"
#include "smcgen.h"

#include <dirent.h>
#include <stdint.h>

/* Opens the bytes of path from an exact-size heap copy (so ASan sees any
 * overread) and walks every accessor. Returns 1 opened, 0 failed, -1 bad. */
static int replay(const char *path, char *msg, size_t cap)
{
    size_t n = 0;
    uint8_t *all = (uint8_t *)test_read_file(path, &n);
    if (!all)
        return -1;
    uint8_t *exact = malloc(n ? n : 1);
    memcpy(exact, all, n);
    free(all);
    smc_gguf *g = NULL;
    smc_error err = {{0}};
    int rc = smc_gguf_open_buffer(exact, n, &g, &err);
    int result;
    if (rc == 0 && g) {
        for (int64_t i = 0; i < smc_gguf_n_kv(g); i++) {
            (void)smc_gguf_find_kv(g, smc_gguf_kv_key(g, i));
            (void)smc_gguf_kv_str(g, i);
            for (uint64_t j = 0; j < smc_gguf_kv_arr_len(g, i) && j < 256; j++) {
                (void)smc_gguf_kv_arr_str(g, i, j);
                (void)smc_gguf_kv_arr_num(g, i, j);
            }
        }
        for (int64_t i = 0; i < smc_gguf_n_tensors(g); i++) {
            const smc_gguf_tensor *t = smc_gguf_tensor_at(g, i);
            if (t->nbytes) {
                volatile uint8_t last = ((const uint8_t *)t->data)[t->nbytes - 1];
                (void)last;
            }
        }
        smc_gguf_close(g);
        result = 1;
    } else {
        result = (rc == -1 && !g && err.msg[0]) ? 0 : -1;
    }
    snprintf(msg, cap, "%s", err.msg);
    free(exact);
    return result;
}

static void check_seed(const char *name, int want_open, const char *fragment)
{
    char path[4096], msg[512];
    snprintf(path, sizeof path, "%s/fuzz/corpus/gguf/%s", SMC_SOURCE_DIR, name);
    int r = replay(path, msg, sizeof msg);
    CHECK_MSG(r == want_open && (!fragment || strstr(msg, fragment)), "%s: result %d, \"%s\"", name, r, msg);
}

void run_tests(void)
{
    check_seed("values.gguf", 1, NULL);
    check_seed("values_v2.gguf", 1, NULL);
    check_seed("tensors.gguf", 1, NULL);
    check_seed("align64.gguf", 1, NULL);
    check_seed("stories260K_head.gguf", 0, "truncated");
    check_seed("llama_spm_head.gguf", 0, "truncated");

    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/gguf/crashes", SMC_SOURCE_DIR);
    DIR *d = opendir(dir);
    int n = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.' || strstr(e->d_name, ".md"))
                continue;
            char path[8192], msg[512];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            int r = replay(path, msg, sizeof msg);
            CHECK_MSG(r >= 0, "%s: result %d", e->d_name, r);
            n++;
        }
        closedir(d);
    }
    printf("replayed %d crash inputs\n", n);
}
