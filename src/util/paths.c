/* paths.c — locating the bundled default model and ../shared. */
#include "util/paths.h"

#include <stdlib.h>
#include <sys/stat.h>

#ifndef SMC_DEFAULT_MODEL
#define SMC_DEFAULT_MODEL "models/default.gguf"
#endif
#ifndef SMC_SHARED_DIR
#define SMC_SHARED_DIR "../shared"
#endif

const char *smc_default_model_path(void)
{
    const char *env = getenv("SMCGEN_MODEL");
    return (env && *env) ? env : SMC_DEFAULT_MODEL;
}

const char *smc_shared_dir(void)
{
    const char *dir = getenv("SMCGEN_SHARED");
    if (!dir || !*dir)
        dir = SMC_SHARED_DIR;
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return dir;
}
