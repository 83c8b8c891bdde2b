/* placeholder.c — keeps the engine module buildable until its sources land. */
int smc_engine_placeholder_(void);
int smc_engine_placeholder_(void) { return 0; }
