/* test_smiles.c — the SMILES critic on textbook molecules and mistakes,
 * prefixes, RDKit's quirks, robustness on random bytes, and the GBNF file. */
#include "test.h"
#include "smcgen.h"

static smc_verdict full(const char *s) { return smc_smiles_check(s, strlen(s), true, NULL, 0); }
static smc_verdict pre(const char *s) { return smc_smiles_check(s, strlen(s), false, NULL, 0); }

#define VALID(s) CHECK_MSG(full(s) == SMC_VERDICT_COMPLETE, "%s should be a valid molecule", s)
#define INVALID(s) CHECK_MSG(full(s) == SMC_VERDICT_INVALID, "%s should be invalid", s)
#define PREFIX_OK(s) CHECK_MSG(pre(s) == SMC_VERDICT_PREFIX, "%s should be a valid prefix", s)
#define PREFIX_BAD(s) CHECK_MSG(pre(s) == SMC_VERDICT_INVALID, "%s should be an invalid prefix", s)

static void test_valid_molecules(void)
{
    const char *ok[] = {
        "C", "CCO", "c1ccccc1", "C1=CC=CC=C1", "c1ccc2ccccc2c1", "c1cc[nH]c1", "n1ccccc1",
        "O=c1cccc[nH]1", "C[N+](=O)[O-]", "CN(=O)=O" /* nitro, as RDKit reads it */, "[NH4+]", "[Na+].[Cl-]",
        "F/C=C/F", "C(/F)=C/F", "[C@@H](F)(Cl)Br", "[13CH4]", "[2H]C", "C%10CC%10", "C1CC1C1CC1" /* reuse */,
        "C1CC=1", "C=1CC1", "OC(=O)C(N)Cc1ccc(O)cc1", "[O-][n+]1ccccc1", "CS(=O)(=O)C", "OP(=O)(O)O",
        "c1ccc1", "[cH-]1cccc1", "Cn1cnc2c1c(=O)n(C)c(=O)n2C" /* caffeine */, "*C", "[*]", "[H]", "[C]",
        "C(C)", "[CH3:12]", "Cl(=O)(=O)(=O)O" /* perchloric acid */, "CN=N#N" /* azide */, "C:C",
        "c1ccccc1c1ccccc1", "[C+](C)(C)(C)C", "[B-](F)(F)(F)F", "[Se]", "c1cc[se]c1",
        "C/C(=N\\\\NC)C" /* a doubled backslash is one bond */, "Cc1=cccc1" /* RDKit: a cumulene */,
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        VALID(ok[i]);
}

static void test_invalid_molecules(void)
{
    const char *bad[] = {
        "", "C(", "C)", "(C)C", "C()C", "C1CC", "C1C1" /* double bond by ring */, "C12CCC12", "C11",
        "CC(C)(C)(C)C" /* pentavalent C */, "[CH5]", "CN(C)(=O)", "C=", "C.", ".C", "C..C", "C==C", "C=#C",
        "cc" /* aromatic, no ring */, "c1cccc1" /* 5 atoms need a double bond */, "c1ccnc1" /* needs [nH] */,
        "c1cc2cccc3cccc(c1)c23" /* phenalene, odd */, "b1cccc1", "Cc1ccc(cc1)=O", "C%1", "C%", "[C", "[Xx]",
        "[C+++]", "[13]", "[C@@@H]", "F(F)F", "O(C)(C)C", "[NH5]", "C$C$C", "Q", "C\x01", "C1CC(C1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        INVALID(bad[i]);
}

static void test_prefixes(void)
{
    /* every prefix of a valid molecule is a valid prefix */
    const char *mols[] = {"CC[NH+]1CCC[C@H]([C@@H](C)Nc2ccc(C)cc2)C1", "C%12CC%12", "O=[N+]([O-])c1ccccc1",
                          "[2H][C@@H:7](Cl)/C=C\\Br", "Cl(=O)(=O)(=O)O"};
    for (size_t i = 0; i < sizeof mols / sizeof mols[0]; i++)
        for (size_t k = 0; k <= strlen(mols[i]); k++)
            CHECK_MSG(smc_smiles_check(mols[i], k, false, NULL, 0) == SMC_VERDICT_PREFIX, "prefix %zu of %s", k,
                      mols[i]);
    /* incomplete things that can still be completed */
    PREFIX_OK("");
    PREFIX_OK("C(");
    PREFIX_OK("C1CC");
    PREFIX_OK("[13C@@");
    PREFIX_OK("[N");
    PREFIX_OK("C%1");
    PREFIX_OK("c1ccc");
    PREFIX_OK("C=");
    PREFIX_OK("CC(C)(C)C");        /* the last C may still be anything */
    /* dead ends */
    PREFIX_BAD(")");
    PREFIX_BAD("C)");
    PREFIX_BAD("=C");
    PREFIX_BAD("C(C)(C)(C)(C)C");  /* fifth bond on the first C */
    PREFIX_BAD("CC(C)(C)(C)C");    /* the second C has five bonds */
    PREFIX_BAD("C#C=");            /* five bonds on the second C */
    PREFIX_BAD("O(C)(C)C");        /* O has three bonds */
    PREFIX_OK("o(C)(C)C");         /* aromatic o: RDKit forgives 1.5 over */
    PREFIX_BAD("FC(F)(F)(F)F");
    PREFIX_BAD("C11");
    PREFIX_BAD("C1C1");
    PREFIX_BAD("[Cx");
    PREFIX_BAD("C(.C)");
    PREFIX_BAD("CC..");
    PREFIX_BAD("[C@@@");
    /* prefix verdicts never say COMPLETE */
    CHECK(pre("CCO") == SMC_VERDICT_PREFIX);
}

static void test_reason_and_logw(void)
{
    char why[64];
    CHECK(smc_smiles_check("c1cccc1", 7, true, why, sizeof why) == SMC_VERDICT_INVALID);
    CHECK_MSG(strstr(why, "kekul") != NULL, "reason: %s", why);
    CHECK(smc_smiles_check("C1CC", 4, true, why, sizeof why) == SMC_VERDICT_INVALID);
    CHECK_MSG(strstr(why, "ring") != NULL, "reason: %s", why);
    char tiny[4];
    CHECK(smc_smiles_check("C)", 2, true, tiny, sizeof tiny) == SMC_VERDICT_INVALID);
    CHECK_EQ_INT(strlen(tiny), 3);
    CHECK(isinf(smc_verdict_logw(SMC_VERDICT_INVALID)) && smc_verdict_logw(SMC_VERDICT_INVALID) < 0);
    CHECK(smc_verdict_logw(SMC_VERDICT_PREFIX) == 0.0);
    CHECK(smc_verdict_logw(SMC_VERDICT_COMPLETE) == 0.0);
    CHECK(smc_smiles_check(NULL, 0, false, NULL, 0) == SMC_VERDICT_PREFIX);
    CHECK(smc_smiles_check(NULL, 5, false, NULL, 0) == SMC_VERDICT_PREFIX); /* NULL reads nothing */
}

static void test_random_bytes(void)
{
    /* robustness: random and SMILES-alphabet garbage never crashes, and a
     * prefix verdict is monotone: once invalid, every extension is invalid */
    const char alpha[] = "CNOScnos()[]=#123%@+-H.BrlF/\\0";
    unsigned long long x = 88172645463325252ULL;
    int loops = getenv("SMC_TEST_SANITIZED") ? 300 : 3000;
    int monotone_ok = 1;
    for (int it = 0; it < loops; it++) {
        char buf[48];
        int len = 1 + (int)(x % 47);
        for (int i = 0; i < len; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            buf[i] = it % 4 == 0 ? (char)(x & 0xff) : alpha[x % (sizeof alpha - 1)];
        }
        bool dead = false;
        for (int k = 0; k <= len; k++) {
            bool bad = smc_smiles_check(buf, (size_t)k, false, NULL, 0) == SMC_VERDICT_INVALID;
            if (dead && !bad)
                monotone_ok = 0;
            dead = dead || bad;
        }
        smc_smiles_check(buf, (size_t)len, true, NULL, 0);
    }
    CHECK(monotone_ok);
    /* very long inputs: deep branches, long aromatic chains, many rings */
    size_t big = 200000;
    char *s = malloc(big + 8);
    for (size_t i = 0; i < big; i++)
        s[i] = i % 2 ? '(' : 'C';
    CHECK(smc_smiles_check(s, big, true, NULL, 0) == SMC_VERDICT_INVALID);
    memset(s, 'c', big);
    s[0] = 'c'; s[1] = '1'; s[big - 1] = '1';
    smc_smiles_check(s, big, true, NULL, 0); /* no crash, no stack overflow */
    free(s);
}

static void test_grammar_file(void)
{
    const char *g = smc_smiles_gbnf();
    CHECK(g && strstr(g, "root") != NULL);
    char path[4096];
    snprintf(path, sizeof path, "%s/grammars/smiles.gbnf", SMC_SOURCE_DIR);
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f != NULL, "cannot open %s", path);
    if (!f)
        return;
    char *text = calloc(1, 1 << 16);
    size_t n = fread(text, 1, (1 << 16) - 1, f);
    fclose(f);
    CHECK_EQ_INT(n, strlen(g));
    CHECK_MSG(strcmp(text, g) == 0, "grammars/smiles.gbnf differs from smc_smiles_gbnf()");
    free(text);
}

void run_tests(void)
{
    test_valid_molecules();
    test_invalid_molecules();
    test_prefixes();
    test_reason_and_logw();
    test_random_bytes();
    test_grammar_file();
}
