/* placeholder.c — keeps the potentials module buildable until its sources land. */
int smc_potentials_placeholder_(void);
int smc_potentials_placeholder_(void) { return 0; }
