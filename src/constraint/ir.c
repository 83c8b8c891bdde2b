/* ir.c — building the grammar IR (nonterminals, productions, byte-set
 * terminals, repetition sugar) and compiling it into an smc_grammar. */
#include "constraint/ir.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "constraint/earley.h"
#include "constraint/grammar_internal.h"
#include "constraint/ir_internal.h"
#include "util/error.h"

#define IR_MAX_SYMBOLS 4000000u   /* guards against exponential sugar */
#define IR_MAX_RULES 100000u      /* named rules (a rule-chain bomb stops here) */

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(p, c * elem);
    if (q)
        *cap = c;
    return q;
}

void ir_byteset_add_range(ir_byteset *s, unsigned lo, unsigned hi)
{
    for (unsigned b = lo; b <= hi && b < 256; b++)
        ir_byteset_add(s, b);
}

bool ir_byteset_empty(const ir_byteset *s)
{
    for (int i = 0; i < 8; i++)
        if (s->w[i])
            return false;
    return true;
}

ir_builder *ir_new(void)
{
    ir_builder *b = calloc(1, sizeof *b);
    if (b)
        b->empty_nt = UINT32_MAX;
    return b;
}

void ir_free(ir_builder *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n_nt; i++)
        free(b->nts[i].name);
    for (size_t i = 0; i < b->n_classes; i++)
        free(b->class_keys[i]);
    free(b->class_keys);
    free(b->class_key_lens);
    free(b->class_syms);
    free(b->nts);
    free(b->prods);
    free(b->syms);
    free(b->terms);
    free(b->warn);
    free(b->name_tab);
    free(b);
}

bool ir_failed(const ir_builder *b) { return b->err[0] != 0; }
const char *ir_error(const ir_builder *b) { return b->err; }

void ir_set_error(ir_builder *b, const char *fmt, ...)
{
    if (b->err[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err, sizeof b->err, fmt, ap);
    va_end(ap);
    if (!b->err[0])
        strcpy(b->err, "error");
}

void ir_warn(ir_builder *b, const char *fmt, ...)
{
    char line[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t n = strlen(line);
    if (b->warn_len > 4000)
        return;
    char *w = realloc(b->warn, b->warn_len + n + 2);
    if (!w)
        return;
    b->warn = w;
    memcpy(w + b->warn_len, line, n);
    w[b->warn_len + n] = '\n';
    w[b->warn_len + n + 1] = 0;
    b->warn_len += n + 1;
}

static uint32_t new_nt(ir_builder *b, const char *name, size_t len, int line, int col)
{
    ir_nt *nts = grow(b->nts, &b->cap_nt, b->n_nt + 1, sizeof *nts);
    if (!nts) {
        ir_set_error(b, "out of memory");
        return 0;
    }
    b->nts = nts;
    ir_nt *nt = &nts[b->n_nt];
    memset(nt, 0, sizeof *nt);
    if (name) {
        nt->name = malloc(len + 1);
        if (!nt->name) {
            ir_set_error(b, "out of memory");
            return 0;
        }
        memcpy(nt->name, name, len);
        nt->name[len] = 0;
    }
    nt->line = line;
    nt->col = col;
    return (uint32_t)b->n_nt++;
}

static size_t name_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return (size_t)h;
}

/* The hash slot of name (its id + 1 there, or 0 where it would go). */
static size_t name_slot(const ir_builder *b, const char *name, size_t len)
{
    size_t m = b->name_cap - 1, i = name_hash(name, len) & m;
    for (; b->name_tab[i]; i = (i + 1) & m) {
        const char *o = b->nts[b->name_tab[i] - 1].name;
        if (strlen(o) == len && memcmp(o, name, len) == 0)
            break;
    }
    return i;
}

static bool name_tab_grow(ir_builder *b)
{
    size_t cap = b->name_cap ? b->name_cap * 2 : 256;
    uint32_t *old = b->name_tab;
    size_t old_cap = b->name_cap;
    b->name_tab = calloc(cap, sizeof *b->name_tab);
    if (!b->name_tab) {
        b->name_tab = old;
        return false;
    }
    b->name_cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i]) {
            const char *n = b->nts[old[i] - 1].name;
            b->name_tab[name_slot(b, n, strlen(n))] = old[i];
        }
    free(old);
    return true;
}

uint32_t ir_named(ir_builder *b, const char *name, size_t len, int line, int col)
{
    if (b->n_nt + 1 > b->name_cap / 2 && !name_tab_grow(b)) {
        ir_set_error(b, "out of memory");
        return 0;
    }
    size_t slot = name_slot(b, name, len);
    if (b->name_tab[slot])
        return b->name_tab[slot] - 1;
    if (b->n_nt >= IR_MAX_RULES) {
        ir_set_error(b, "grammar too large (over %u rules)", IR_MAX_RULES);
        return 0;
    }
    uint32_t id = new_nt(b, name, len, line, col);
    if (!ir_failed(b))
        b->name_tab[slot] = id + 1;
    return id;
}

int ir_find_named(const ir_builder *b, const char *name)
{
    if (!b->name_cap)
        return -1;
    size_t slot = name_slot(b, name, strlen(name));
    return b->name_tab[slot] ? (int)b->name_tab[slot] - 1 : -1;
}

bool ir_define(ir_builder *b, uint32_t nt)
{
    if (nt >= b->n_nt)
        return false;
    if (b->nts[nt].defined)
        return false;
    b->nts[nt].defined = true;
    return true;
}

bool ir_is_defined(const ir_builder *b, uint32_t nt) { return nt < b->n_nt && b->nts[nt].defined; }
const char *ir_name(const ir_builder *b, uint32_t nt) { return nt < b->n_nt && b->nts[nt].name ? b->nts[nt].name : "?"; }

uint32_t ir_fresh(ir_builder *b)
{
    uint32_t nt = new_nt(b, NULL, 0, 0, 0);
    if (!ir_failed(b))
        b->nts[nt].defined = true;
    return nt;
}

void ir_add_prod(ir_builder *b, uint32_t lhs, const uint32_t *syms, size_t n)
{
    if (ir_failed(b))
        return;
    if (b->n_syms + n > IR_MAX_SYMBOLS) {
        ir_set_error(b, "grammar too large (over %u symbols after expansion)", IR_MAX_SYMBOLS);
        return;
    }
    uint32_t *s = grow(b->syms, &b->cap_syms, b->n_syms + n + 1, sizeof *s);
    ir_prod *p = grow(b->prods, &b->cap_prod, b->n_prod + 1, sizeof *p);
    if (s)
        b->syms = s;
    if (p)
        b->prods = p;
    if (!s || !p) {
        ir_set_error(b, "out of memory");
        return;
    }
    if (n)
        memcpy(b->syms + b->n_syms, syms, n * sizeof *syms);
    b->prods[b->n_prod++] = (ir_prod){lhs, (uint32_t)b->n_syms, (uint32_t)n};
    b->n_syms += n;
}

uint32_t ir_terminal(ir_builder *b, const ir_byteset *set)
{
    for (size_t i = 0; i < b->n_terms; i++)
        if (memcmp(&b->terms[i], set, sizeof *set) == 0)
            return IR_TERM | (uint32_t)i;
    ir_byteset *t = grow(b->terms, &b->cap_terms, b->n_terms + 1, sizeof *t);
    if (!t) {
        ir_set_error(b, "out of memory");
        return IR_TERM;
    }
    b->terms = t;
    t[b->n_terms] = *set;
    return IR_TERM | (uint32_t)b->n_terms++;
}

uint32_t ir_byte(ir_builder *b, unsigned byte)
{
    ir_byteset s = {{0}};
    ir_byteset_add(&s, byte & 255);
    return ir_terminal(b, &s);
}

uint32_t ir_empty(ir_builder *b)
{
    if (b->empty_nt == UINT32_MAX) {
        b->empty_nt = ir_fresh(b);
        ir_add_prod(b, b->empty_nt, NULL, 0);
    }
    return b->empty_nt;
}

static int nt_kind(const ir_builder *b, uint32_t sym)
{
    return !IR_IS_TERM(sym) && sym < b->n_nt ? b->nts[sym].kind : NT_PLAIN;
}

static void set_kind(ir_builder *b, uint32_t nt, int kind, uint32_t inner)
{
    if (!ir_failed(b) && nt < b->n_nt) {
        b->nts[nt].kind = kind;
        b->nts[nt].inner = inner;
    }
}

/* Algebra on the sugar keeps nested repetitions (e.g. (x*)*, (x?)*,
 * (x+)+, (x*){500}) from building ambiguous grammars whose Earley sets grow
 * quadratically: (x*)* = (x*)? = (x*)+ = (x*){m,n} = x*, (x?)* = (x?)+ =
 * (x+)* = (x+)? = x*, (x+)+ = x+. */
uint32_t ir_star(ir_builder *b, uint32_t sym)
{
    if (nt_kind(b, sym) == NT_STAR)
        return sym;
    if (nt_kind(b, sym) == NT_OPT || nt_kind(b, sym) == NT_PLUS)
        sym = b->nts[sym].inner;
    uint32_t r = ir_fresh(b);
    set_kind(b, r, NT_STAR, sym);
    uint32_t rhs[2] = {r, sym};
    ir_add_prod(b, r, NULL, 0);
    ir_add_prod(b, r, rhs, 2);
    return r;
}

uint32_t ir_plus(ir_builder *b, uint32_t sym)
{
    if (nt_kind(b, sym) == NT_STAR || nt_kind(b, sym) == NT_OPT)
        return ir_star(b, sym);
    if (nt_kind(b, sym) == NT_PLUS)
        return sym;
    uint32_t r = ir_fresh(b);
    set_kind(b, r, NT_PLUS, sym);
    uint32_t rhs[2] = {r, sym};
    ir_add_prod(b, r, &sym, 1);
    ir_add_prod(b, r, rhs, 2);
    return r;
}

uint32_t ir_opt(ir_builder *b, uint32_t sym)
{
    if (nt_kind(b, sym) == NT_STAR || nt_kind(b, sym) == NT_OPT)
        return sym;
    if (nt_kind(b, sym) == NT_PLUS)
        return ir_star(b, sym);
    uint32_t r = ir_fresh(b);
    set_kind(b, r, NT_OPT, sym);
    ir_add_prod(b, r, NULL, 0);
    ir_add_prod(b, r, &sym, 1);
    return r;
}

uint32_t ir_seq(ir_builder *b, const uint32_t *syms, size_t n)
{
    if (n == 1)
        return syms[0];
    uint32_t r = ir_fresh(b);
    ir_add_prod(b, r, syms, n);
    return r;
}

/* x{min,max}: min copies, then (max-min) nested optionals x (x (x)?)? ... or
 * x* when unbounded. */
uint32_t ir_repeat(ir_builder *b, uint32_t sym, long min, long max)
{
    if (min < 0 || (max >= 0 && max < min)) {
        ir_set_error(b, "bad repetition bounds {%ld,%ld}", min, max);
        return 0;
    }
    if (min > 10000 || max > 10000) {
        ir_set_error(b, "repetition bound over 10000");
        return 0;
    }
    if (max == 0)
        return ir_empty(b);
    if (nt_kind(b, sym) == NT_STAR)
        return sym;
    if (nt_kind(b, sym) == NT_PLUS && max < 0 && min <= 1)
        return min == 0 ? ir_star(b, sym) : sym;
    if (min == 0 && max < 0)
        return ir_star(b, sym);
    if (min == 1 && max < 0)
        return ir_plus(b, sym);
    if (min == 0 && max == 1)
        return ir_opt(b, sym);
    uint32_t tail = UINT32_MAX;   /* the optional part */
    if (max < 0) {
        tail = ir_star(b, sym);
    } else if (max > min) {
        /* nested optionals from the inside out */
        for (long i = 0; i < max - min && !ir_failed(b); i++) {
            uint32_t o = ir_fresh(b);
            ir_add_prod(b, o, NULL, 0);
            uint32_t rhs[2] = {sym, tail};
            ir_add_prod(b, o, rhs, tail == UINT32_MAX ? 1 : 2);
            tail = o;
        }
    }
    size_t n = (size_t)min + (tail != UINT32_MAX);
    if (n == 0)
        return ir_empty(b);
    uint32_t *rhs = malloc(n * sizeof *rhs);
    if (!rhs) {
        ir_set_error(b, "out of memory");
        return 0;
    }
    for (long i = 0; i < min; i++)
        rhs[i] = sym;
    if (tail != UINT32_MAX)
        rhs[min] = tail;
    uint32_t r = ir_seq(b, rhs, n);
    free(rhs);
    return r;
}

int ir_symvec_push(ir_symvec *s, uint32_t sym)
{
    uint32_t *v = grow(s->v, &s->cap, s->n + 1, sizeof *v);
    if (!v)
        return -1;
    s->v = v;
    s->v[s->n++] = sym;
    return 0;
}

void ir_symvec_free(ir_symvec *s)
{
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

size_t ir_utf8_encode(uint32_t cp, unsigned char out[4])
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | cp >> 6);
        out[1] = (unsigned char)(0x80 | (cp & 63));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | cp >> 12);
        out[1] = (unsigned char)(0x80 | (cp >> 6 & 63));
        out[2] = (unsigned char)(0x80 | (cp & 63));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | cp >> 18);
    out[1] = (unsigned char)(0x80 | (cp >> 12 & 63));
    out[2] = (unsigned char)(0x80 | (cp >> 6 & 63));
    out[3] = (unsigned char)(0x80 | (cp & 63));
    return 4;
}

int ir_append_cp(ir_builder *b, uint32_t cp, uint32_t **syms, size_t *n, size_t *cap)
{
    unsigned char u[4];
    size_t k = ir_utf8_encode(cp, u);
    uint32_t *v = grow(*syms, cap, *n + k, sizeof *v);
    if (!v) {
        ir_set_error(b, "out of memory");
        return -1;
    }
    *syms = v;
    for (size_t i = 0; i < k; i++)
        v[(*n)++] = ir_byte(b, u[i]);
    return 0;
}

/* ---- UTF-8 classes ---------------------------------------------------- */

static int cmp_range(const void *a, const void *b)
{
    const ir_cprange *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorted, merged, surrogates removed, clipped to U+10FFFF; optionally
 * complemented. Returns the count (out has room for n + 2). */
static size_t normalize_ranges(const ir_cprange *in, size_t n, bool negate, ir_cprange *out)
{
    ir_cprange *tmp = malloc((n + 1) * sizeof *tmp);
    if (!tmp)
        return 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        ir_cprange r = in[i];
        if (r.lo > r.hi || r.lo > 0x10FFFF)
            continue;
        if (r.hi > 0x10FFFF)
            r.hi = 0x10FFFF;
        tmp[m++] = r;
    }
    qsort(tmp, m, sizeof *tmp, cmp_range);
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (k && tmp[i].lo <= out[k - 1].hi + 1) {
            if (tmp[i].hi > out[k - 1].hi)
                out[k - 1].hi = tmp[i].hi;
        } else {
            out[k++] = tmp[i];
        }
    }
    free(tmp);
    if (negate) {
        ir_cprange *c = malloc((k + 1) * sizeof *c);
        if (!c)
            return 0;
        size_t j = 0;
        uint32_t next = 0;
        for (size_t i = 0; i < k; i++) {
            if (out[i].lo > next)
                c[j++] = (ir_cprange){next, out[i].lo - 1};
            next = out[i].hi + 1;
        }
        if (next <= 0x10FFFF)
            c[j++] = (ir_cprange){next, 0x10FFFF};
        memcpy(out, c, j * sizeof *c);
        k = j;
        free(c);
    }
    return k;
}

/* Emits, as productions of lhs, byte-range sequences matching exactly the
 * UTF-8 encodings of [lo, hi] (all of one encoded length, no surrogates). */
static void emit_utf8_range(ir_builder *b, uint32_t lhs, uint32_t lo, uint32_t hi)
{
    if (ir_failed(b) || lo > hi)
        return;
    /* split at encoded-length boundaries and around surrogates */
    static const uint32_t bounds[] = {0x7F, 0x7FF, 0xD7FF, 0xDFFF, 0xFFFF};
    for (int i = 0; i < 5; i++) {
        if (lo <= bounds[i] && hi > bounds[i]) {
            emit_utf8_range(b, lhs, lo, bounds[i]);
            emit_utf8_range(b, lhs, bounds[i] + 1, hi);
            return;
        }
    }
    if (lo >= 0xD800 && hi <= 0xDFFF)
        return;   /* surrogates: not valid UTF-8 */
    unsigned char a[4], z[4];
    size_t n = ir_utf8_encode(lo, a);
    ir_utf8_encode(hi, z);
    /* make every continuation position a full range except where lo/hi
     * differ in a higher position */
    for (size_t i = 1; i < n; i++) {
        uint32_t mask = (1u << (6 * i)) - 1;
        if ((lo & ~mask) != (hi & ~mask)) {
            if ((lo & mask) != 0) {
                emit_utf8_range(b, lhs, lo, lo | mask);
                emit_utf8_range(b, lhs, (lo | mask) + 1, hi);
                return;
            }
            if ((hi & mask) != mask) {
                emit_utf8_range(b, lhs, lo, (hi & ~mask) - 1);
                emit_utf8_range(b, lhs, hi & ~mask, hi);
                return;
            }
        }
    }
    uint32_t rhs[4];
    for (size_t i = 0; i < n; i++) {
        ir_byteset s = {{0}};
        ir_byteset_add_range(&s, a[i], z[i]);
        rhs[i] = ir_terminal(b, &s);
    }
    ir_add_prod(b, lhs, rhs, n);
}

uint32_t ir_cpclass(ir_builder *b, const ir_cprange *ranges, size_t n, bool negate)
{
    ir_cprange *norm = malloc((n + 2) * sizeof *norm);
    if (!norm) {
        ir_set_error(b, "out of memory");
        return 0;
    }
    size_t k = normalize_ranges(ranges, n, negate, norm);
    /* cache by normalized content */
    size_t key_len = k * sizeof *norm;
    for (size_t i = 0; i < b->n_classes; i++) {
        if (b->class_key_lens[i] == key_len && memcmp(b->class_keys[i], norm, key_len) == 0) {
            free(norm);
            return b->class_syms[i];
        }
    }
    uint32_t sym;
    ir_byteset ascii = {{0}};
    bool multi = false;
    for (size_t i = 0; i < k; i++) {
        if (norm[i].lo < 0x80)
            ir_byteset_add_range(&ascii, norm[i].lo, norm[i].hi < 0x7F ? norm[i].hi : 0x7F);
        if (norm[i].hi >= 0x80)
            multi = true;
    }
    if (!multi && !ir_byteset_empty(&ascii)) {
        sym = ir_terminal(b, &ascii);
    } else {
        sym = ir_fresh(b);
        if (!ir_byteset_empty(&ascii)) {
            uint32_t t = ir_terminal(b, &ascii);
            ir_add_prod(b, sym, &t, 1);
        }
        for (size_t i = 0; i < k; i++) {
            uint32_t lo = norm[i].lo < 0x80 ? 0x80 : norm[i].lo;
            if (norm[i].hi >= 0x80)
                emit_utf8_range(b, sym, lo, norm[i].hi);
        }
        /* an empty class has no production: it is unproductive and
         * ir_finish trims whatever needs it */
    }
    char **keys = grow(b->class_keys, &b->cap_classes, b->n_classes + 1, sizeof *keys);
    if (keys) {
        b->class_keys = keys;
        size_t cap2 = b->n_classes, cap3 = b->n_classes;
        size_t *lens = grow(b->class_key_lens, &cap2, b->cap_classes, sizeof *lens);
        if (lens)
            b->class_key_lens = lens;
        uint32_t *syms = grow(b->class_syms, &cap3, b->cap_classes, sizeof *syms);
        if (syms)
            b->class_syms = syms;
        if (lens && syms) {
            b->class_keys[b->n_classes] = (char *)norm;
            b->class_key_lens[b->n_classes] = key_len;
            b->class_syms[b->n_classes] = sym;
            b->n_classes++;
            return sym;
        }
    }
    free(norm);
    return sym;
}

/* ---- finishing ----------------------------------------------------------- */

static int finish_fail(ir_builder *b, smc_error *err, const char *msg)
{
    smc_fail(err, "%s", msg);
    ir_free(b);
    return -1;
}

/* Productive nonterminals (derive some string) and the productions made
 * only of productive symbols, by a worklist: each production counts its
 * nonterminal occurrences not yet productive (linear in the grammar size). */
static int mark_productive(const ir_builder *b, uint8_t *productive, uint8_t *keep)
{
    size_t n_nt = b->n_nt, n_prod = b->n_prod;
    uint32_t *missing = calloc(n_prod ? n_prod : 1, sizeof *missing);
    uint32_t *occ_off = calloc(n_nt + 1, sizeof *occ_off);
    uint32_t *queue = malloc((n_nt ? n_nt : 1) * sizeof *queue);
    uint8_t *dead = calloc(n_prod ? n_prod : 1, 1);
    uint32_t *occ = NULL;
    int rc = -1;
    if (!missing || !occ_off || !queue || !dead)
        goto out;
    size_t n_occ = 0;
    for (size_t p = 0; p < n_prod; p++) {
        const ir_prod *pr = &b->prods[p];
        for (uint32_t i = 0; i < pr->len; i++) {
            uint32_t sy = b->syms[pr->start + i];
            if (IR_IS_TERM(sy)) {
                dead[p] |= ir_byteset_empty(&b->terms[sy & ~IR_TERM]);
            } else {
                missing[p]++;
                occ_off[sy + 1]++;
                n_occ++;
            }
        }
    }
    for (size_t i = 0; i < n_nt; i++)
        occ_off[i + 1] += occ_off[i];
    occ = malloc((n_occ ? n_occ : 1) * sizeof *occ);
    uint32_t *fill = calloc(n_nt + 1, sizeof *fill);
    if (!occ || !fill) {
        free(fill);
        goto out;
    }
    for (size_t p = 0; p < n_prod; p++) {
        const ir_prod *pr = &b->prods[p];
        for (uint32_t i = 0; i < pr->len; i++) {
            uint32_t sy = b->syms[pr->start + i];
            if (!IR_IS_TERM(sy))
                occ[occ_off[sy] + fill[sy]++] = (uint32_t)p;
        }
    }
    free(fill);
    size_t qh = 0, qt = 0;
    for (size_t p = 0; p < n_prod; p++)
        if (!dead[p] && missing[p] == 0) {
            keep[p] = 1;
            uint32_t l = b->prods[p].lhs;
            if (!productive[l])
                productive[l] = 1, queue[qt++] = l;
        }
    while (qh < qt) {
        uint32_t nt = queue[qh++];
        for (uint32_t k = occ_off[nt]; k < occ_off[nt + 1]; k++) {
            uint32_t p = occ[k];
            if (--missing[p] == 0 && !dead[p]) {
                keep[p] = 1;
                uint32_t l = b->prods[p].lhs;
                if (!productive[l])
                    productive[l] = 1, queue[qt++] = l;
            }
        }
    }
    rc = 0;
out:
    free(missing);
    free(occ_off);
    free(queue);
    free(dead);
    free(occ);
    return rc;
}

int ir_finish(ir_builder *b, uint32_t root, int n_source_rules, smc_grammar **out, smc_error *err)
{
    *out = NULL;
    if (ir_failed(b))
        return finish_fail(b, err, b->err);
    for (size_t i = 0; i < b->n_nt; i++) {
        if (!b->nts[i].defined) {
            char msg[400];
            snprintf(msg, sizeof msg, "%d:%d: undefined rule '%s'", b->nts[i].line, b->nts[i].col,
                     b->nts[i].name ? b->nts[i].name : "?");
            return finish_fail(b, err, msg);
        }
    }
    if (root >= b->n_nt)
        return finish_fail(b, err, "no root rule");
    /* start symbol S' -> root */
    uint32_t start = ir_fresh(b);
    ir_add_prod(b, start, &root, 1);
    if (ir_failed(b))
        return finish_fail(b, err, b->err);
    /* groups inlined, optionals' alternatives grouped, equal groups merged,
     * repetitions nested on the left nested on the right */
    if (ir_inline(b, root) != 0 || ir_factor(b) != 0 || ir_merge(b, root, start) != 0 || ir_flip(b) != 0)
        return finish_fail(b, err, "out of memory");

    size_t n_nt = b->n_nt, n_prod = b->n_prod;
    uint8_t *productive = calloc(n_nt, 1);
    uint8_t *keep = calloc(n_prod ? n_prod : 1, 1);
    if (!productive || !keep) {
        free(productive);
        free(keep);
        return finish_fail(b, err, "out of memory");
    }
    if (mark_productive(b, productive, keep) < 0) {
        free(productive);
        free(keep);
        return finish_fail(b, err, "out of memory");
    }
    if (!productive[root]) {
        free(productive);
        free(keep);
        char msg[300];
        snprintf(msg, sizeof msg, "the root rule '%s' matches no string at all", ir_name(b, root));
        return finish_fail(b, err, msg);
    }

    smc_grammar *g = calloc(1, sizeof *g);
    if (!g) {
        free(productive);
        free(keep);
        return finish_fail(b, err, "out of memory");
    }
    size_t n_pos = 0, n_kept = 0;
    for (size_t p = 0; p < n_prod; p++)
        if (keep[p]) {
            n_pos += b->prods[p].len + 1;
            n_kept++;
        }
    g->n_nt = (uint32_t)n_nt;
    g->n_pos = (uint32_t)n_pos;
    g->n_terms = (uint32_t)b->n_terms;
    g->pos_sym = malloc((n_pos ? n_pos : 1) * sizeof *g->pos_sym);
    g->pos_lhs = malloc((n_pos ? n_pos : 1) * sizeof *g->pos_lhs);
    g->terms = malloc((b->n_terms ? b->n_terms : 1) * sizeof *g->terms);
    g->nullable = calloc(n_nt, 1);
    g->pred = calloc(n_nt, sizeof *g->pred);
    g->n_pred = calloc(n_nt, sizeof *g->n_pred);
    uint32_t *prod_first = malloc((n_kept ? n_kept : 1) * sizeof *prod_first);
    uint32_t *prod_lhs = malloc((n_kept ? n_kept : 1) * sizeof *prod_lhs);
    /* per nonterminal: list of its productions' first positions */
    uint32_t *nt_first_off = calloc(n_nt + 1, sizeof *nt_first_off);
    uint32_t *nt_firsts = malloc((n_kept ? n_kept : 1) * sizeof *nt_firsts);
    uint32_t *stack = malloc((n_pos ? n_pos : 1) * sizeof *stack);
    uint32_t *seen = calloc(n_pos ? n_pos : 1, sizeof *seen);
    uint32_t *nt_seen = calloc(n_nt, sizeof *nt_seen);
    bool oom = false;   /* on any allocation failure: free the scratch arrays below */
    if (!g->pos_sym || !g->pos_lhs || !g->terms || !g->nullable || !g->pred || !g->n_pred || !prod_first || !prod_lhs ||
        !nt_first_off || !nt_firsts || !stack || !seen || !nt_seen) {
        oom = true;
        goto free_scratch;
    }
    if (b->n_terms)   /* (a grammar of empty strings has none, and b->terms NULL) */
        memcpy(g->terms, b->terms, b->n_terms * sizeof *g->terms);
    size_t pos = 0, k = 0;
    for (size_t p = 0; p < n_prod; p++) {
        if (!keep[p])
            continue;
        const ir_prod *pr = &b->prods[p];
        prod_first[k] = (uint32_t)pos;
        prod_lhs[k] = pr->lhs;
        k++;
        nt_first_off[pr->lhs + 1]++;
        for (uint32_t i = 0; i < pr->len; i++) {
            g->pos_lhs[pos] = pr->lhs;
            g->pos_sym[pos++] = b->syms[pr->start + i];
        }
        g->pos_lhs[pos] = pr->lhs;
        g->pos_sym[pos++] = POS_END | pr->lhs;
    }
    for (size_t i = 0; i < n_nt; i++)
        nt_first_off[i + 1] += nt_first_off[i];
    uint32_t *fill = calloc(n_nt, sizeof *fill);
    if (!fill) {
        oom = true;
        goto free_scratch;
    }
    for (size_t i = 0; i < n_kept; i++)
        nt_firsts[nt_first_off[prod_lhs[i]] + fill[prod_lhs[i]]++] = prod_first[i];
    free(fill);
    /* nullable fixpoint */
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < n_kept; i++) {
            if (g->nullable[prod_lhs[i]])
                continue;
            bool all = true;
            for (uint32_t q = prod_first[i];; q++) {
                uint32_t s = g->pos_sym[q];
                if (POS_IS_END(s))
                    break;
                if (IR_IS_TERM(s) || !g->nullable[s]) {
                    all = false;
                    break;
                }
            }
            if (all) {
                g->nullable[prod_lhs[i]] = 1;
                changed = true;
            }
        }
    }
    /* prediction closure per nonterminal: the positions predicted (origin =
     * the current set) when a nonterminal is expected, walking through
     * nullable prefixes */
    for (uint32_t a = 0; a < n_nt && !oom; a++) {
        if (!productive[a])
            continue;
        uint32_t stamp = a + 1;
        size_t cnt = 0, cap = 0, nq = 0;
        uint32_t *list = NULL;
        uint32_t *ntq = stack;   /* nonterminals still to expand */
        nt_seen[a] = stamp;
        ntq[nq++] = a;
        while (nq && !oom) {
            uint32_t x = ntq[--nq];
            for (uint32_t j = nt_first_off[x]; j < nt_first_off[x + 1]; j++) {
                /* walk the production while symbols are nullable nonterminals */
                for (uint32_t q = nt_firsts[j];; q++) {
                    if (seen[q] == stamp)
                        break;
                    seen[q] = stamp;
                    if (cnt == cap) {
                        cap = cap ? cap * 2 : 16;
                        uint32_t *l = realloc(list, cap * sizeof *l);
                        if (!l) {
                            oom = true;
                            break;
                        }
                        list = l;
                    }
                    list[cnt++] = q;
                    uint32_t s = g->pos_sym[q];
                    if (POS_IS_END(s) || IR_IS_TERM(s))
                        break;
                    if (nt_seen[s] != stamp) {
                        nt_seen[s] = stamp;
                        if (nq < n_pos)
                            ntq[nq++] = s;
                    }
                    if (!g->nullable[s])
                        break;
                }
            }
        }
        /* in position order: a step's predictions then come as sorted runs
         * (earley.c sorts each new set's items) */
        if (list)
            qsort(list, cnt, sizeof *list, cmp_u32);
        g->pred[a] = list;
        g->n_pred[a] = (uint32_t)cnt;
    }
free_scratch:
    free(prod_first);
    free(prod_lhs);
    free(nt_first_off);
    free(nt_firsts);
    free(stack);
    free(seen);
    free(nt_seen);
    if (oom) {
        free(productive);
        free(keep);
        smc_grammar_free(g);
        return finish_fail(b, err, "out of memory");
    }
    g->start_nt = start;
    g->stats.n_rules = n_source_rules;
    g->stats.n_nonterminals = 0;
    for (size_t i = 0; i < n_nt; i++)
        g->stats.n_nonterminals += productive[i] ? 1 : 0;
    g->stats.n_productions = (int)n_kept;
    g->stats.n_terminals = (int)b->n_terms;
    g->warnings = b->warn ? b->warn : NULL;
    b->warn = NULL;
    free(productive);
    free(keep);
    ir_free(b);
    if (pthread_mutex_init(&g->lock, NULL) != 0 || earley_cache_init(g) != 0) {
        smc_grammar_free(g);
        return smc_fail(err, "out of memory");
    }
    *out = g;
    return 0;
}
