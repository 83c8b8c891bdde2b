/* placeholder.c — keeps the gguf module buildable until its sources land. */
int smc_gguf_placeholder_(void);
int smc_gguf_placeholder_(void) { return 0; }
