/* json_schema_internal.h — shared pieces of the JSON Schema → GBNF converter:
 * a growable text buffer, GBNF literal/char-class writers, the integer-range,
 * regex-pattern and string-format translators, and the allOf merger. */
#ifndef SMC_CONSTRAINT_JSON_SCHEMA_INTERNAL_H
#define SMC_CONSTRAINT_JSON_SCHEMA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "smcgen.h"

/* ---- growable text buffer (json_schema_text.c) ---- */
typedef struct js_buf {
    char *p;
    size_t len, cap;
    bool oom;
} js_buf;

void js_put(js_buf *b, const char *s);
void js_putn(js_buf *b, const char *s, size_t n);
void js_printf(js_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the NUL-terminated text (caller frees) and resets b; NULL when out of memory. */
char *js_take(js_buf *b);
void js_buf_free(js_buf *b);
char *js_strdup(const char *s);

/* Decodes one UTF-8 code point at s[*i] (advancing *i); -1 when invalid. */
int32_t js_utf8_next(const char *s, size_t n, size_t *i);

/* A GBNF string literal matching exactly the UTF-8 bytes s[0..n); -1 on invalid UTF-8. */
int js_gbnf_literal(js_buf *b, const char *s, size_t n);
/* One code point written for use inside a GBNF char class ("a", "\x2D", "\u00E9"). */
void js_gbnf_class_cp(js_buf *b, uint32_t cp);
/* The JSON text of a string value (quotes included; only ", \ and controls escaped). */
void js_json_string(js_buf *b, const char *s);

/* ---- exact numbers (json_schema_decimal.c) ---- */
/* A number as sign x digits x 10^exp (no leading/trailing zeros; 0 has nd 0). */
#define JS_DEC_DIGITS 400
typedef struct js_dec {
    bool neg;
    size_t nd;
    long exp;
    char dig[JS_DEC_DIGITS + 1];
} js_dec;

/* Gives every number node of the parsed document its literal text (as
 * valuestring); -1 when the text and the tree disagree. */
int js_attach_literals(cJSON *root, const char *text, size_t len);
/* The exact value of a number node (its literal when present); false when
 * not a number or more than JS_DEC_DIGITS significant digits. */
bool js_dec_of(const cJSON *v, js_dec *d);
bool js_dec_is_int(const js_dec *d);
int js_dec_cmp(const js_dec *a, const js_dec *b);
/* floor (up false) or ceiling (up true); false when outside int64. */
bool js_dec_round_i64(const js_dec *d, bool up, int64_t *out);
/* The canonical JSON spelling: integers without fraction or exponent (up to
 * 40 digits), other numbers as plain decimals, exponents only for extremes. */
void js_dec_text(const js_dec *d, js_buf *b);
/* Sets a number node, dropping its literal text. */
void js_set_number(cJSON *v, double x);
/* JSON Schema equality: numbers by exact value, objects regardless of key order. */
bool js_values_equal(const cJSON *a, const cJSON *b);
/* A value's compact JSON text with canonical numbers; -1 when a number is too long. */
int js_value_text(js_buf *b, const cJSON *v);

/* ---- integer ranges (json_schema_range.c) ---- */
/* Writes a parenthesised GBNF expression matching exactly the decimal
 * integers in [lo, hi] (no leading zeros, no "-0"). Returns -1 when lo > hi. */
int js_int_range(js_buf *out, int64_t lo, int64_t hi);

/* ---- number ranges (json_schema_numrange.c) ---- */
/* Writes a parenthesised GBNF expression matching exactly the JSON numbers
 * without exponent (at most 16 integer digits, at most frac (1..16)
 * fraction digits) within the bounds. Bounds must be integers with
 * |b| <= 1e15: else -2; no number in range: -1. */
int js_number_range(js_buf *out, bool has_lo, double lo, bool lo_excl, bool has_hi, double hi,
                    bool hi_excl, int frac);

/* ---- code-point sets (json_schema_regex.c) ---- */
typedef struct js_cpset {
    uint32_t (*r)[2];      /* sorted, disjoint, non-adjacent [lo, hi] ranges */
    size_t n, cap;
    bool oom;
} js_cpset;

void js_cpset_add(js_cpset *s, uint32_t lo, uint32_t hi);
void js_cpset_normalize(js_cpset *s);
void js_cpset_complement(js_cpset *s);     /* over the Unicode scalar values */
void js_cpset_free(js_cpset *s);
/* Writes a parenthesised GBNF expression for one character of JSON string
 * text whose decoded value is in s: raw characters, or escapes for ", \ and
 * \t \n \r \b \f. Other control characters are dropped. Returns -1 when
 * nothing is left. */
int js_cpset_json_expr(js_buf *out, const js_cpset *s);

/* ---- patterns (json_schema_regex.c) ---- */
/* Translates an ECMA-262 `pattern` into a GBNF expression over JSON string
 * content (without the quotes): a space-separated sequence, possibly empty
 * (then only the empty string matches). Unanchored ends match any characters
 * (the output then references the rule `char`). */
int js_regex_to_gbnf(const char *pattern, js_buf *out, smc_error *err);

/* ---- formats (json_schema_format.c) ---- */
/* GBNF expression for the content (no quotes) of a string of that format,
 * or NULL when the format is not supported. */
const char *js_format_expr(const char *format);
bool js_format_is_standard(const char *format); /* defined by some draft */
const char *js_format_names(void); /* the formats js_format_expr knows, for messages */

/* ---- allOf merging (json_schema_merge.c) ---- */
/* Resolves a "$ref" within the document: "#", a JSON pointer ("#/$defs/x"),
 * a plain-name fragment ("#foo": $anchor, $dynamicAnchor, draft-7 "$id":
 * "#foo"), each optionally after the root's own $id; NULL otherwise. */
const cJSON *js_resolve_ref(const cJSON *root, const char *ref);
/* Merges schemas (each true/false/object, $refs resolved one level, nested
 * allOf flattened, anyOf/oneOf distributed) into one new schema: an object,
 * possibly {"anyOf":[...]} of merged alternatives, or cJSON false when the
 * conjunction is unsatisfiable. NULL (err filled) when not mergeable or when
 * *work (incremented per step) passes JS_MAX_WORK. */
cJSON *js_merge(const cJSON *root, const cJSON *const *parts, size_t n, const char *path,
                unsigned long *work, smc_error *err);

/* Keyword classification (json_schema.c). */
bool js_is_annotation(const char *key);
/* In no draft's vocabulary (ignored with a warning, or refused when strict). */
bool js_is_unknown(const char *key);
/* What a supported keyword's value must be ("a number", ...), NULL when fine. */
const char *js_value_shape_error(const char *key, const cJSON *v);

#endif
