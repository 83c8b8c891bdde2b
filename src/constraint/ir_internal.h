/* ir_internal.h — the grammar builder's state (struct ir_builder), shared
 * by ir.c (building, compiling) and ir_inline.c, ir_factor.c, ir_merge.c,
 * ir_flip.c (the normalisations run before compiling). */
#ifndef SMC_CONSTRAINT_IR_INTERNAL_H
#define SMC_CONSTRAINT_IR_INTERNAL_H

#include "constraint/ir.h"

typedef struct ir_prod {
    uint32_t lhs, start, len;
} ir_prod;

enum { NT_PLAIN, NT_STAR, NT_OPT, NT_PLUS };

typedef struct ir_nt {
    char *name;          /* NULL for anonymous */
    int kind;            /* NT_STAR: x*, NT_OPT: x?, NT_PLUS: x+ (made by the sugar, ir.c) */
    uint32_t inner;      /* x */
    bool defined;
    int line, col;       /* first reference */
} ir_nt;

struct ir_builder {
    ir_nt *nts;
    size_t n_nt, cap_nt;
    ir_prod *prods;
    size_t n_prod, cap_prod;
    uint32_t *syms;
    size_t n_syms, cap_syms;
    ir_byteset *terms;
    size_t n_terms, cap_terms;
    uint32_t empty_nt;   /* UINT32_MAX until made */
    /* cache of code point classes: key text -> symbol */
    char **class_keys;
    size_t *class_key_lens;
    uint32_t *class_syms;
    size_t n_classes, cap_classes;
    /* named nonterminals: open-addressing hash of ids + 1 (0 = empty) */
    uint32_t *name_tab;
    size_t name_cap;
    char err[400];
    char *warn;
    size_t warn_len;
};

/* Inlines the anonymous nonterminals used once (ir_inline.c); root is kept.
 * 0, or -1 on allocation failure (the builder unchanged). */
int ir_inline(ir_builder *b, uint32_t root);
/* Groups the alternatives of an optional that end with the same rule
 * (ir_factor.c). 0, or -1 on allocation failure. */
int ir_factor(ir_builder *b);
/* Merges the anonymous nonterminals with the same productions (ir_merge.c);
 * root and start are kept. 0, or -1 on allocation failure. */
int ir_merge(ir_builder *b, uint32_t root, uint32_t start);
/* Writes bounded repetitions nested on the left (sK ::= "" | sK+1 x) nested
 * on the right (ir_flip.c). 0, or -1 on allocation failure. */
int ir_flip(ir_builder *b);

#endif
