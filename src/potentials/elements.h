/* elements.h — element symbols and valence limits for the SMILES checker. */
#ifndef SMC_POTENTIALS_ELEMENTS_H
#define SMC_POTENTIALS_ELEMENTS_H

#include <stdbool.h>
#include <stddef.h>

int smc_element_count(void);
const char *smc_element_symbol(int z);          /* 0 is "*" */
/* Atomic number of an exact symbol ("Cl"), -1 when unknown. */
int smc_element_lookup(const char *sym, size_t len);
/* How a formal charge shifts allowed valences (RDKit's rule: +1 for N+,
 * -1 for O-, C+ and C- both -1, flipped for early atoms such as B). */
int smc_element_charge_shift(int z, int charge);
/* Largest valence RDKit allows for the element with that charge (N+ 4,
 * O- 1, C+ 5, B- 4); -1 = any. */
int smc_element_max_valence(int z, int charge);
/* Smallest allowed valence (charge-shifted) that is >= at_least, or the
 * largest when none is; -1 = any. */
int smc_element_default_valence(int z, int charge, int at_least);
/* RDKit's forgiveness for aromatic atoms: the largest charge-shifted listed
 * valence not above accum (the default one when all are). -1 = any. */
int smc_element_floor_valence(int z, int charge, double accum);

#endif
