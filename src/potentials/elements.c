/* elements.c — the periodic table as the SMILES checker needs it: symbols,
 * the valence lists RDKit 2022.09 uses (the reference our verdicts are
 * compared with), and the charge adjustment of allowed valences. */
#include "potentials/elements.h"

#include <string.h>

static const char *const SYMBOLS[] = {
    "*", "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl",
    "Ar", "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As", "Se",
    "Br", "Kr", "Rb", "Sr", "Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb",
    "Te", "I", "Xe", "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er",
    "Tm", "Yb", "Lu", "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At",
    "Rn", "Fr", "Ra", "Ac", "Th", "Pa", "U", "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md", "No",
    "Lr", "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh", "Fl", "Mc", "Lv", "Ts", "Og"};
#define N_ELEMENTS ((int)(sizeof SYMBOLS / sizeof SYMBOLS[0]))

/* Allowed valences (ascending, 0-terminated list of up to 4); {-1} = any.
 * Taken from RDKit's periodic table (GetValenceList) so that verdicts agree;
 * elements past Rn and transition metals accept any valence. */
typedef struct { signed char v[4]; } valence_list;
static const valence_list VALENCES[] = {
    [0] = {{-1}}, [1] = {{1}}, [2] = {{0}}, [3] = {{1}}, [4] = {{2}}, [5] = {{3}}, [6] = {{4}},
    [7] = {{3}}, [8] = {{2}}, [9] = {{1}}, [10] = {{0}}, [11] = {{1}}, [12] = {{-1}}, [13] = {{3, 6}},
    [14] = {{4, 6}}, [15] = {{3, 5, 7}}, [16] = {{2, 4, 6}}, [17] = {{1}}, [18] = {{0}}, [19] = {{1}},
    [20] = {{-1}}, [31] = {{3}}, [32] = {{4}}, [33] = {{3, 5, 7}}, [34] = {{2, 4, 6}}, [35] = {{1}},
    [36] = {{0}}, [37] = {{1}}, [38] = {{-1}}, [49] = {{3}}, [50] = {{2, 4}}, [51] = {{3, 5, 7}},
    [52] = {{2, 4, 6}}, [53] = {{1, 3, 5}}, [54] = {{0, 2, 4, 6}}, [55] = {{1}}, [56] = {{-1}},
    [81] = {{3}}, [82] = {{2, 4}}, [83] = {{3, 5, 7}}, [84] = {{2, 4, 6}}, [85] = {{1, 3, 5}},
    [86] = {{0}},
};
#define N_VALENCES ((int)(sizeof VALENCES / sizeof VALENCES[0]))

/* Transition metals and lanthanides: any valence (RDKit lists -1). */
static bool any_valence(int z)
{
    if (z <= 0 || z > 86)
        return true;
    if ((z >= 21 && z <= 30) || (z >= 39 && z <= 48) || (z >= 57 && z <= 80))
        return true;
    return z < N_VALENCES && VALENCES[z].v[0] == -1;
}

int smc_element_count(void) { return N_ELEMENTS; }

const char *smc_element_symbol(int z)
{
    return z >= 0 && z < N_ELEMENTS ? SYMBOLS[z] : "?";
}

int smc_element_lookup(const char *sym, size_t len)
{
    for (int z = 1; z < N_ELEMENTS; z++)
        if (strlen(SYMBOLS[z]) == len && memcmp(SYMBOLS[z], sym, len) == 0)
            return z;
    return -1;
}

/* RDKit's "early atoms" (groups 1, 2 and 13 and their kind): a positive
 * charge lowers, a negative charge raises their valence. */
static bool early_atom(int z)
{
    switch (z) {
    case 3: case 4: case 5: case 11: case 12: case 13: case 19: case 20: case 31:
    case 37: case 38: case 49: case 55: case 56: case 81:
        return true;
    default:
        return false;
    }
}

int smc_element_charge_shift(int z, int charge)
{
    int chr = charge;
    if (early_atom(z))
        chr = -chr;
    if (z == 6 && chr > 0)
        chr = -chr;
    return chr;
}

static int outer_electrons(int z)
{
    static const int period_start[] = {1, 3, 11, 19, 37, 55, 87};
    if (z == 1)
        return 1;
    if (z == 2)
        return 2;
    int start = 1;
    for (int i = 0; i < 7; i++)
        if (z >= period_start[i])
            start = period_start[i];
    int k = z - start + 1;           /* position in the period */
    if (start <= 11)
        return k;                    /* periods 2 and 3: 1..8 */
    if (k <= 2)
        return k;
    int len = start == 19 || start == 37 ? 18 : 32;
    int back = len - k;              /* 0 for the noble gas */
    return back < 6 ? 8 - back : 2;  /* p block 3..8; d/f blocks rarely matter */
}

int smc_element_max_valence(int z, int charge)
{
    if (any_valence(z))
        return -1;
    const valence_list *l = &VALENCES[z];
    int mx = l->v[0];
    for (int i = 1; i < 4 && l->v[i] > 0; i++)
        mx = l->v[i];
    /* RDKit: the "effective valence" (valence - charge for atoms with at
     * least 4 outer electrons, valence + charge otherwise) must not exceed
     * the largest listed valence. */
    int v = outer_electrons(z) >= 4 ? mx + charge : mx - charge;
    return v < 0 ? 0 : v;
}

int smc_element_default_valence(int z, int charge, int at_least)
{
    if (any_valence(z))
        return -1;
    const valence_list *l = &VALENCES[z];
    int shift = smc_element_charge_shift(z, charge);
    int dv = l->v[0] + shift;
    for (int i = 1; i < 4 && l->v[i] > 0 && dv < at_least; i++)
        dv = l->v[i] + shift;
    return dv;
}

int smc_element_floor_valence(int z, int charge, double accum)
{
    if (any_valence(z))
        return -1;
    const valence_list *l = &VALENCES[z];
    int shift = smc_element_charge_shift(z, charge);
    int pval = l->v[0] + shift;
    for (int i = 0; i < 4 && (i == 0 || l->v[i] > 0); i++) {
        if (l->v[i] + shift > accum)
            break;
        pval = l->v[i] + shift;
    }
    return pval;
}
