/* smiles_mol.h — the molecule graph the SMILES checker builds (internal). */
#ifndef SMC_POTENTIALS_SMILES_MOL_H
#define SMC_POTENTIALS_SMILES_MOL_H

#include "smcgen.h"

#include <stdbool.h>
#include <stddef.h>

#define SMILES_AROMATIC 5   /* bond order code of an aromatic bond */
#define SMILES_DIRECTIONAL 6 /* '/' or '\\' while parsing: single, or aromatic between aromatic atoms */

typedef struct smiles_atom {
    int z;              /* atomic number, 0 for '*' */
    bool aromatic;
    bool bracket;
    int hcount;         /* explicit hydrogens of a bracket atom, else 0 */
    int charge;
    int bond_sum;       /* bond orders so far, aromatic counted 1, open rings included */
    int degree;
    int open_rings;     /* ring numbers opened on this atom and not closed yet */
    int first_bond;     /* head of this atom's bond list, -1 when none */
} smiles_atom;

typedef struct smiles_bond {
    int a, b;
    int order;          /* 1..4 or SMILES_AROMATIC */
    int next_a, next_b; /* next bond in the lists of atoms a and b */
} smiles_bond;

typedef struct smiles_mol {
    smiles_atom *atoms;
    int n_atoms, cap_atoms;
    smiles_bond *bonds;
    int n_bonds, cap_bonds;
    int *stack;         /* branch points */
    int n_stack, cap_stack;
    int ring_atom[100]; /* atom holding an open ring number, -1 when free */
    int ring_order[100];
    int n_open_rings;
    int cur;            /* current atom at the end, -1 after '.' or at start */
    int pending;
    bool expect_more;   /* the string cannot end here */
    bool truncated_atom;
    int truncated_ring;
    int *adj_start, *adj; /* bonds of each atom (CSR), built by smiles_finish */
    char reason[160];
} smiles_mol;

/* Parses a prefix: 0 when it is a valid prefix so far, -1 (reason set)
 * when no continuation can make it valid. Free with smiles_mol_free even
 * on failure. */
int smiles_parse(smiles_mol *m, const char *s, size_t n);
void smiles_mol_free(smiles_mol *m);
/* Exact valence of atoms that can take no more bonds. */
int smiles_check_closed_atoms(smiles_mol *m);
/* Whole-molecule checks: closed rings and branches, aromatic atoms in rings,
 * kekulization, exact valences. */
int smiles_finish(smiles_mol *m);

#endif
