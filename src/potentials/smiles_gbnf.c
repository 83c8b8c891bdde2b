/* smiles_gbnf.c — the SMILES grammar as a C string, identical to
 * grammars/smiles.gbnf (a test compares the two). */
#include "smcgen.h"

static const char SMILES_GBNF[] =
    "# SMILES (OpenSMILES syntax): the cheap grammar constraint of the molecule\n"
    "# domain. Chemistry (valences, ring closure, aromaticity) is checked by the\n"
    "# SMILES critic, smc_smiles_check. llama.cpp GBNF: a rule continues on the\n"
    "# next line only after '|' or inside parentheses.\n"
    "root      ::= chain (\".\" chain)*\n"
    "chain     ::= atom item*\n"
    "item      ::= bond? ringnum | \"(\" bond? chain \")\" | bond? atom\n"
    "bond      ::= [-=#$:/\\\\]\n"
    "ringnum   ::= [0-9] | \"%\" [0-9] [0-9]\n"
    "atom      ::= organic | bracket\n"
    "organic   ::= \"Cl\" | \"Br\" | [BCNOPSFI*] | [bcnops]\n"
    "bracket   ::= \"[\" isotope? symbol chiral? hcount? charge? class? \"]\"\n"
    "isotope   ::= [0-9] [0-9]? [0-9]?\n"
    "symbol    ::= element | aromatic | \"*\"\n"
    "aromatic  ::= \"se\" | \"as\" | \"te\" | [bcnops]\n"
    "chiral    ::= \"@\" (\"@\" | \"TH\" [12] | \"AL\" [12] | \"SP\" [1-3] | \"TB\" [1-9] [0-9]? | \"OH\" [1-9] [0-9]?)?\n"
    "hcount    ::= \"H\" [0-9]?\n"
    "charge    ::= \"+\" (\"+\" | [1-9] [0-9]?)? | \"-\" (\"-\" | [1-9] [0-9]?)?\n"
    "class     ::= \":\" [0-9]+\n"
    "element   ::= \"Ac\" | \"Ag\" | \"Al\" | \"Am\" | \"Ar\" | \"As\" | \"At\" | \"Au\" | \"Ba\" | \"Be\" | \"Bh\" | \"Bi\" |\n"
    "            \"Bk\" | \"Br\" | \"Ca\" | \"Cd\" | \"Ce\" | \"Cf\" | \"Cl\" | \"Cm\" | \"Cn\" | \"Co\" | \"Cr\" | \"Cs\" | \"Cu\" |\n"
    "            \"Db\" | \"Ds\" | \"Dy\" | \"Er\" | \"Es\" | \"Eu\" | \"Fe\" | \"Fl\" | \"Fm\" | \"Fr\" | \"Ga\" | \"Gd\" | \"Ge\" |\n"
    "            \"He\" | \"Hf\" | \"Hg\" | \"Ho\" | \"Hs\" | \"In\" | \"Ir\" | \"Kr\" | \"La\" | \"Li\" | \"Lr\" | \"Lu\" | \"Lv\" |\n"
    "            \"Mc\" | \"Md\" | \"Mg\" | \"Mn\" | \"Mo\" | \"Mt\" | \"Na\" | \"Nb\" | \"Nd\" | \"Ne\" | \"Nh\" | \"Ni\" | \"No\" |\n"
    "            \"Np\" | \"Og\" | \"Os\" | \"Pa\" | \"Pb\" | \"Pd\" | \"Pm\" | \"Po\" | \"Pr\" | \"Pt\" | \"Pu\" | \"Ra\" | \"Rb\" |\n"
    "            \"Re\" | \"Rf\" | \"Rg\" | \"Rh\" | \"Rn\" | \"Ru\" | \"Sb\" | \"Sc\" | \"Se\" | \"Sg\" | \"Si\" | \"Sm\" | \"Sn\" |\n"
    "            \"Sr\" | \"Ta\" | \"Tb\" | \"Tc\" | \"Te\" | \"Th\" | \"Ti\" | \"Tl\" | \"Tm\" | \"Ts\" | \"Xe\" | \"Yb\" | \"Zn\" |\n"
    "            \"Zr\" | \"B\" | \"C\" | \"F\" | \"H\" | \"I\" | \"K\" | \"N\" | \"O\" | \"P\" | \"S\" | \"U\" | \"V\" | \"W\" | \"Y\"\n";

const char *smc_smiles_gbnf(void) { return SMILES_GBNF; }
