/* placeholder.c — keeps the constraint module buildable until its sources land. */
int smc_constraint_placeholder_(void);
int smc_constraint_placeholder_(void) { return 0; }
