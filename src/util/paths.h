/* paths.h — where the bundled default model and the shared test data are. */
#ifndef SMC_UTIL_PATHS_H
#define SMC_UTIL_PATHS_H

/* $SMCGEN_MODEL if set, else the bundled models/default.gguf. */
const char *smc_default_model_path(void);

/* $SMCGEN_SHARED if set, else ../shared beside the source tree. NULL when that
 * folder does not exist. */
const char *smc_shared_dir(void);

#endif
