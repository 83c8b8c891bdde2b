/* json_schema_numrange.c — exact GBNF for JSON numbers within integer-valued
 * bounds (minimum/maximum/exclusiveMinimum/exclusiveMaximum on "number").
 * A text is sign? I ("." F)? without exponent; its magnitude M = I + 0.F.
 * Each sign side turns the bounds into bounds on M, and those into ranges of
 * the integer part I (js_int_range) with any, zero or non-zero fractions. */
#include "constraint/json_schema_internal.h"

#include <math.h>

/* below 16 fraction digits (multipleOf 10^-d), trailing zeros may follow */
#define ZEROS(frac) ((frac) < 16 ? " \"0\"*" : "")
#define MAX_I 9999999999999999LL          /* 16 integer digits */

typedef struct mbound {
    bool set, excl;
    int64_t v;                             /* >= 0 */
} mbound;

/* Alternatives for unsigned texts whose magnitude satisfies lo and hi;
 * returns how many were written (0: none). */
static int magnitude(js_buf *o, const char *sign, mbound lo, mbound hi, int frac)
{
    int n = 0;
    int64_t low_i = !lo.set ? 0 : lo.excl ? lo.v + 1 : lo.v;   /* I from here: any fraction */
    int64_t high_i = !hi.set ? MAX_I : hi.v - 1;              /* I up to here: any fraction */
    if (low_i <= high_i) {
        js_printf(o, "%s%s ", n++ ? " | " : "", sign);
        js_int_range(o, low_i, high_i);
        js_printf(o, " ( \".\" [0-9]{1,%d}%s )?", frac, ZEROS(frac));
    }
    /* M > p: I == p with a non-zero fraction, below any upper bound */
    if (lo.set && lo.excl && (!hi.set || lo.v < hi.v)) {
        js_printf(o, "%s%s \"%lld\" \".\" (", n++ ? " | " : "", sign, (long long)lo.v);
        for (int z = 0; z < frac; z++)     /* z zeros, a non-zero digit, at most frac in all */
        {
            js_put(o, z ? " | " : " ");
            if (z)
                js_printf(o, "\"0\"{%d} ", z);
            js_printf(o, "[1-9] [0-9]{0,%d}%s", frac - 1 - z, ZEROS(frac));
        }
        js_put(o, " )");
    }
    /* M <= q: I == q with a zero fraction, above the lower bound */
    if (hi.set && !hi.excl && (!lo.set || (lo.excl ? hi.v > lo.v : hi.v >= lo.v))) {
        js_printf(o, "%s%s \"%lld\" ( \".\" \"0\"{1,%d}%s )?", n++ ? " | " : "", sign, (long long)hi.v,
                  frac, ZEROS(frac));
    }
    return n;
}

int js_number_range(js_buf *out, bool has_lo, double lo, bool lo_excl, bool has_hi, double hi,
                    bool hi_excl, int frac)
{
    if ((has_lo && (lo != floor(lo) || fabs(lo) > 1e15)) ||
        (has_hi && (hi != floor(hi) || fabs(hi) > 1e15)))
        return -2;
    js_buf o = {0};
    int n = 0;
    /* texts without a sign: v = M */
    if (!(has_hi && (hi < 0 || (hi == 0 && hi_excl)))) {
        mbound l = {0}, h = {0};
        if (has_lo && (lo > 0 || (lo == 0 && lo_excl)))
            l = (mbound){true, lo_excl, (int64_t)lo};
        if (has_hi)
            h = (mbound){true, hi_excl, (int64_t)hi};
        js_buf part = {0};
        int k = magnitude(&part, "", l, h, frac);
        if (k) {
            js_putn(&o, part.p, part.len);
            n += k;
        }
        js_buf_free(&part);
    }
    /* texts with "-": v = -M */
    if (!(has_lo && (lo > 0 || (lo == 0 && lo_excl)))) {
        mbound l = {0}, h = {0};
        if (has_lo)
            h = (mbound){true, lo_excl, (int64_t)-lo};
        if (has_hi && (hi < 0 || (hi == 0 && hi_excl)))
            l = (mbound){true, hi_excl, (int64_t)-hi};
        js_buf part = {0};
        int k = magnitude(&part, "\"-\"", l, h, frac);
        if (k) {
            if (n)
                js_put(&o, " | ");
            js_putn(&o, part.p, part.len);
            n += k;
        }
        js_buf_free(&part);
    }
    if (n == 0 || o.oom) {
        js_buf_free(&o);
        return -1;
    }
    js_printf(out, "( %s )", o.p);
    js_buf_free(&o);
    return 0;
}
