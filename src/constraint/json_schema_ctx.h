/* json_schema_ctx.h — the JSON Schema converter's shared state (rules being
 * written, $ref memo, primitive rules used) and the functions that the
 * converter's files (keywords, scalars, objects, arrays, dispatch) share. */
#ifndef SMC_CONSTRAINT_JSON_SCHEMA_CTX_H
#define SMC_CONSTRAINT_JSON_SCHEMA_CTX_H

#include "constraint/json_schema_internal.h"

/* Type masks ("number" is T_NUMBER | T_INTEGER). */
enum { T_NULL = 1, T_BOOL = 2, T_OBJECT = 4, T_ARRAY = 8, T_STRING = 16, T_NUMBER = 32,
       T_INTEGER = 64, T_ALL = 127 };

enum prim { P_WS, P_VALUE, P_OBJECT, P_ARRAY, P_STRING, P_CHAR, P_UESC, P_HEX, P_NUMBER,
            P_INTEGER, P_BOOLEAN, P_NULL, P_KCHAR, N_PRIM };

typedef struct js_rule {
    char *name, *body;
} js_rule;

typedef struct js_memo {
    const cJSON *node;
    char *name;
} js_memo;

typedef struct js_ctx {
    const cJSON *root;
    smc_error *err;
    const char *W;            /* "ws" or "" */
    unsigned flags;           /* SMC_JSON_SCHEMA_* */
    js_rule *rules;
    size_t n_rules, cap_rules;
    js_memo *memo;
    size_t n_memo, cap_memo;
    cJSON *owned;             /* merged schemas made while compiling */
    bool used[N_PRIM];
    unsigned n_names;         /* rule names handed out */
    unsigned long own_work;
    unsigned long *work;      /* steps (compiles, merges) so far, shared with
                                 nested conversions; against JS_MAX_WORK */
    int depth;
    js_buf *warn;             /* ignored unknown keywords, one per line;
                                 shared with nested conversions */
} js_ctx;

extern const char *const js_prim_name[N_PRIM];

/* Schemas compiled per conversion before giving up: merging allOf/$ref can
 * expand a schema exponentially. */
#define JS_MAX_WORK 200000UL

/* Repetition bounds the GBNF compiler accepts. */
#define JS_MAX_COUNT 10000

/* T_* mask of a "type" value (-1 when bad; json_schema_merge.c) and of a
 * JSON value (json_schema_scalar.c). */
int js_type_mask(const cJSON *t);
int js_value_types(const cJSON *v);

/* ---- oneOf (json_schema_disjoint.c) ---- */
/* 0 when the alternatives of the oneOf at path provably exclude each other
 * (then anyOf is exact); else -1 with err naming the overlapping pair. */
int js_oneof_check(const cJSON *root, const cJSON *alts, const char *path, smc_error *err);

/* -1 (err filled) when a "$ref" sits inside a subschema with its own "$id"
 * (json_schema_ctx.c): the resolver knows only the document root. */
int js_check_ref_bases(const cJSON *root, smc_error *err);

/* ---- rewrites (json_schema_rewrite.c) ---- */
/* A new schema with dependentRequired/dependentSchemas/dependencies, not
 * {type}, and if-less then/else (contains-less min/maxContains) expressed by
 * supported keywords; NULL when there is nothing to rewrite. */
cJSON *js_rewrite_schema(const cJSON *root, const cJSON *s);

/* ---- complements (json_schema_negate.c) ---- */
/* A new schema matching exactly the instances s rejects; NULL when some
 * keyword has no complement here (*why names it). */
cJSON *js_negate(const cJSON *root, const cJSON *s, const char **why);
/* The if/then/else of s as one schema (anyOf of the two branches); NULL when
 * the "if" schema's complement is needed and not expressible. */
cJSON *js_if_then_else(const cJSON *root, const cJSON *s, const char **why);
/* {"type": [...]} array for a T_* mask (json_schema_merge.c). */
cJSON *js_type_json(int mask);
/* In place, once per document: subschemas with not {} / not true become false. */
void js_normalize(cJSON *root);

/* ---- rules and paths (json_schema_ctx.c) ---- */
const char *js_prim(js_ctx *c, enum prim p);               /* marks a primitive rule used */
char *js_new_name(js_ctx *c, const char *kind, const char *hint);  /* unique: kind-hint-N */
int js_add_rule(js_ctx *c, char *name, char *body);        /* takes ownership of both */
char *js_path_join(const char *path, const char *key);     /* JSON pointer + escaped key */
char *js_path_index(const char *path, const char *key, int i);
const cJSON *js_get(const cJSON *s, const char *k);
/* Non-negative integer keyword; def when absent; -2 (err filled) on a bad value. */
long long js_get_count(js_ctx *c, const cJSON *s, const char *k, long long def, const char *path);

/* ---- keywords (json_schema_keywords.c) ---- */
int js_parse_types(js_ctx *c, const cJSON *t, const char *path);   /* T_* mask or -1 */
int js_check_keywords(js_ctx *c, const cJSON *s, const char *path); /* unsupported → -1 */
/* Adds the warning line "WHAT at PATH" once (the conversion's warnings). */
void js_warn(js_ctx *c, const char *what, const char *path);
/* True when s has keys other than annotations, $defs/definitions and the exceptions. */
bool js_has_other_keywords(const cJSON *s, const char *except1, const char *except2);

/* Converts top_schema (inside root, for $refs; at JSON pointer top_path) into
 * a whole GBNF text whose compile depth starts at depth (json_schema.c). */
int js_convert(const cJSON *root, const cJSON *top_schema, const char *top_path, unsigned flags,
               int depth, unsigned long *work /* NULL: fresh */, js_buf *warn,
               char **gbnf_out, smc_error *err);

/* The compiled grammar (compact) of schema s, to test values at compile
 * time; NULL with err filled (json_schema_scalar.c). */
smc_grammar *js_schema_grammar(js_ctx *c, const cJSON *s, const char *path);

/* patternProperties/propertyNames rewritten for the object compiler
 * (json_schema_keys.c): s itself when it has neither, else a new schema
 * (*owned, the caller frees) with "$smcExtraKey" where undeclared keys are
 * constrained; NULL with err filled (free *owned). */
const cJSON *js_object_keys(js_ctx *c, const cJSON *s, const char *path, cJSON **owned);

/* ---- compilers: a GBNF expression (malloc'd) or NULL with err filled ---- */
char *js_compile(js_ctx *c, const cJSON *s, const char *path);             /* json_schema.c */
char *js_compile_enum(js_ctx *c, const cJSON *s, int types, const char *path); /* _scalar.c */
char *js_compile_string(js_ctx *c, const cJSON *s, const char *path);
char *js_compile_integer(js_ctx *c, const cJSON *s, const char *path);
char *js_compile_number(js_ctx *c, const cJSON *s, const char *path);
char *js_compile_object(js_ctx *c, const cJSON *s, const char *path);      /* _object.c */
/* Expression for unescaped string text (kchar*) that is none of
 * names[0..n) (sorted, plain, sharing their first d bytes; _object.c). */
void js_not_strings(js_ctx *c, js_buf *o, const char **names, size_t n, size_t d);
int js_cmp_str(const void *a, const void *b);   /* qsort of const char * */
char *js_compile_array(js_ctx *c, const cJSON *s, const char *path);       /* _array.c */
char *js_compile_contains(js_ctx *c, const cJSON *s, const char *path);    /* _counting.c */
char *js_compile_unique(js_ctx *c, const cJSON *s, const char *path);

#endif
