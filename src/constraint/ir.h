/* ir.h — the grammar IR every front end (GBNF, Lark, regex, JSON Schema)
 * compiles to: a context-free grammar whose terminals are sets of bytes.
 *
 * Front ends build it with ir_* calls (nonterminals, productions, byte-set
 * terminals, repetition sugar, UTF-8 code point classes expanded to exact byte
 * sequences), then ir_finish() checks it, removes unproductive productions
 * (so every Earley item can complete: a non-empty Earley set then means a
 * viable prefix), computes nullability and the prediction closures the Earley
 * recognizer (earley.c) uses, and produces an smc_grammar. */
#ifndef SMC_CONSTRAINT_IR_H
#define SMC_CONSTRAINT_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smcgen.h"

typedef struct ir_byteset {
    uint32_t w[8];
} ir_byteset;

static inline bool ir_byteset_has(const ir_byteset *s, unsigned b) { return s->w[b >> 5] >> (b & 31) & 1; }
static inline void ir_byteset_add(ir_byteset *s, unsigned b) { s->w[b >> 5] |= 1u << (b & 31); }
void ir_byteset_add_range(ir_byteset *s, unsigned lo, unsigned hi);
bool ir_byteset_empty(const ir_byteset *s);

/* A symbol: a nonterminal id, or IR_TERM | terminal id. */
#define IR_TERM 0x80000000u
#define IR_IS_TERM(s) (((s) & IR_TERM) != 0)

/* A code point range [lo, hi], for UTF-8 classes. */
typedef struct ir_cprange {
    uint32_t lo, hi;
} ir_cprange;

typedef struct ir_builder ir_builder;

ir_builder *ir_new(void);
void ir_free(ir_builder *b);
/* First error recorded (allocation failure, limits); front ends check it. */
bool ir_failed(const ir_builder *b);
const char *ir_error(const ir_builder *b);
void ir_set_error(ir_builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ir_warn(ir_builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Named nonterminal (created on first use; line/col of the first reference
 * are kept to report undefined rules). */
uint32_t ir_named(ir_builder *b, const char *name, size_t len, int line, int col);
/* Marks a named nonterminal as defined; returns false when it already was. */
bool ir_define(ir_builder *b, uint32_t nt);
bool ir_is_defined(const ir_builder *b, uint32_t nt);
const char *ir_name(const ir_builder *b, uint32_t nt);
int ir_find_named(const ir_builder *b, const char *name);   /* -1 when absent */
uint32_t ir_fresh(ir_builder *b);                           /* anonymous nonterminal */
void ir_add_prod(ir_builder *b, uint32_t lhs, const uint32_t *syms, size_t n);
uint32_t ir_terminal(ir_builder *b, const ir_byteset *set); /* interned */
uint32_t ir_byte(ir_builder *b, unsigned byte);

/* Sugar, each returning one symbol. Repetitions are left-recursive so the
 * Earley sets of long repetitions stay the same size. */
uint32_t ir_star(ir_builder *b, uint32_t sym);
uint32_t ir_plus(ir_builder *b, uint32_t sym);
uint32_t ir_opt(ir_builder *b, uint32_t sym);
/* max < 0: unbounded. Fails (ir_failed) when the expansion is too large. */
uint32_t ir_repeat(ir_builder *b, uint32_t sym, long min, long max);
uint32_t ir_seq(ir_builder *b, const uint32_t *syms, size_t n);     /* n==1: that symbol */
uint32_t ir_empty(ir_builder *b);                                   /* derives only "" */
/* A set of code points (ranges need not be sorted or disjoint) as one symbol
 * matching exactly one UTF-8 encoded code point of the set (no surrogates).
 * negate: the complement within U+0000..U+10FFFF. */
uint32_t ir_cpclass(ir_builder *b, const ir_cprange *ranges, size_t n, bool negate);
/* Appends the UTF-8 bytes of code point cp as terminals to *syms. */
int ir_append_cp(ir_builder *b, uint32_t cp, uint32_t **syms, size_t *n, size_t *cap);
size_t ir_utf8_encode(uint32_t cp, unsigned char out[4]);

/* Growable symbol vectors used by the front ends. */
typedef struct ir_symvec {
    uint32_t *v;
    size_t n, cap;
} ir_symvec;
int ir_symvec_push(ir_symvec *s, uint32_t sym);
void ir_symvec_free(ir_symvec *s);

/* Checks (every named nonterminal used is defined), trims, compiles. The
 * builder is consumed in every case. n_source_rules is reported in stats. */
int ir_finish(ir_builder *b, uint32_t root, int n_source_rules, smc_grammar **out, smc_error *err);

#endif
