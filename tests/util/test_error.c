/* test_error.c — smc_fail and smc_fail_context format and chain messages. */
#include "test.h"
#include "util/error.h"

void run_tests(void)
{
    smc_error err = {{0}};
    CHECK_EQ_INT(smc_fail(&err, "bad %s at %d", "key", 7), -1);
    CHECK_STR(err.msg, "bad key at 7");
    CHECK_EQ_INT(smc_fail_context(&err, "file %s", "x.gguf"), -1);
    CHECK_STR(err.msg, "file x.gguf: bad key at 7");
    CHECK_EQ_INT(smc_fail(NULL, "ignored"), -1);
    char longname[1000];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    smc_fail(&err, "%s", longname);
    CHECK_EQ_INT(strlen(err.msg), sizeof err.msg - 1);
}
