/* placeholder.c — keeps the smc module buildable until its sources land. */
int smc_smc_placeholder_(void);
int smc_smc_placeholder_(void) { return 0; }
