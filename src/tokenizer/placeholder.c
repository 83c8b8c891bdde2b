/* placeholder.c — keeps the tokenizer module buildable until its sources land. */
int smc_tokenizer_placeholder_(void);
int smc_tokenizer_placeholder_(void) { return 0; }
