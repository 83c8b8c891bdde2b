/* test_smiles_verdicts.c — a verdict printer for the RDKit agreement script
 * (tests/cli/test_smiles_rdkit.sh), and a self-check when run by ctest.
 *
 * With SMC_SMILES_VERDICTS=1 in the environment it reads SMILES strings, one
 * per line, from stdin and prints for each "C P": C is 1 when the complete
 * string is valid, 0 when not; P is the length of the shortest prefix the
 * prefix checker rejects, or -1 when it rejects none. */
#include "test.h"
#include "smcgen.h"

static int shortest_rejected_prefix(const char *s, size_t n)
{
    for (size_t k = 1; k <= n; k++)
        if (smc_smiles_check(s, k, false, NULL, 0) == SMC_VERDICT_INVALID)
            return (int)k;
    return -1;
}

static void print_verdicts(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        int c = smc_smiles_check(line, (size_t)len, true, NULL, 0) == SMC_VERDICT_COMPLETE;
        printf("%d %d\n", c, shortest_rejected_prefix(line, (size_t)len));
    }
    free(line);
    fflush(stdout);
}

void run_tests(void)
{
    const char *mode = getenv("SMC_SMILES_VERDICTS");
    if (mode && strcmp(mode, "1") == 0) {
        print_verdicts();
        exit(0);
    }
    /* Self-check of the printer's building block on strings whose status is
     * textbook chemistry: benzene valid, pentavalent carbon not. */
    CHECK_EQ_INT(shortest_rejected_prefix("c1ccccc1", 8), -1);
    CHECK_EQ_INT(shortest_rejected_prefix("CC(C)(C)(C)C", 12), 12);
    CHECK_EQ_INT(shortest_rejected_prefix("C)", 2), 2);
}
