/* test_main.c — runs one test binary's run_tests() and prints the tally. */
#include "test.h"
#include "util/file.h"
#include "util/paths.h"

int test_passed, test_failed;

const char *test_shared_path(const char *rel)
{
    static char buf[4][4096];
    static int slot;
    const char *dir = smc_shared_dir();
    if (!dir)
        return NULL;
    char *out = buf[slot++ & 3];
    snprintf(out, sizeof buf[0], "%s/%s", dir, rel);
    return out;
}

char *test_read_file(const char *path, size_t *len)
{
    smc_error err = {{0}};
    char *buf = smc_read_file(path, len, &err);
    if (!buf)
        fprintf(stderr, "test_read_file: %s\n", err.msg);
    return buf;
}

int main(void)
{
    run_tests();
    printf("%d passed, %d failed\n", test_passed, test_failed);
    if (test_passed + test_failed == 0) {
        fprintf(stderr, "no checks ran\n");
        return 1;
    }
    return test_failed ? 1 : 0;
}
