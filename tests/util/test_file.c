/* test_file.c — smc_read_file / smc_read_stream: contents, NUL bytes, large
 * files, and a missing file named in the error. */
#include "test.h"
#include "util/file.h"

void run_tests(void)
{
    char path[] = "/tmp/smc_test_file_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    size_t n = 100000;
    for (size_t i = 0; i < n; i++)
        fputc((int)(i * 7 % 256), f);
    fclose(f);
    smc_error err = {{0}};
    size_t len = 0;
    char *buf = smc_read_file(path, &len, &err);
    CHECK(buf != NULL);
    CHECK_EQ_INT(len, n);
    int same = 1;
    for (size_t i = 0; buf && i < n; i++)
        same &= (unsigned char)buf[i] == (unsigned char)(i * 7 % 256);
    CHECK(same);
    CHECK(buf && buf[n] == 0);
    free(buf);
    remove(path);
    CHECK(smc_read_file("/nonexistent/dir/file.txt", &len, &err) == NULL);
    CHECK(strstr(err.msg, "/nonexistent/dir/file.txt") != NULL);
    f = tmpfile();
    buf = smc_read_stream(f, &len, &err);
    CHECK(buf && len == 0 && buf[0] == 0);
    free(buf);
    fclose(f);
}
