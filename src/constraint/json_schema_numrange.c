/* json_schema_numrange.c — exact GBNF for JSON numbers within integer-valued
 * bounds (minimum/maximum/exclusiveMinimum/exclusiveMaximum on "number").
 * A text is sign? I ("." F)? without exponent; its magnitude M = I + 0.F.
 * Each sign side turns the bounds into bounds on M, and those into ranges of
 * the integer part I (js_int_range) with any, zero or non-zero fractions. */
#include "constraint/json_schema_internal.h"

#include <math.h>

#define ANY_FRAC "( \".\" [0-9]{1,16} )?"
#define ZERO_FRAC "( \".\" \"0\"{1,16} )?"
#define NONZERO_FRAC "\".\" \"0\"{0,15} [1-9] [0-9]{0,15}"
#define MAX_I 9999999999999999LL          /* 16 integer digits */

typedef struct mbound {
    bool set, excl;
    int64_t v;                             /* >= 0 */
} mbound;

/* Alternatives for unsigned texts whose magnitude satisfies lo and hi;
 * returns how many were written (0: none). */
static int magnitude(js_buf *o, const char *sign, mbound lo, mbound hi)
{
    int n = 0;
    int64_t low_i = !lo.set ? 0 : lo.excl ? lo.v + 1 : lo.v;   /* I from here: any fraction */
    int64_t high_i = !hi.set ? MAX_I : hi.v - 1;              /* I up to here: any fraction */
    if (low_i <= high_i) {
        js_printf(o, "%s%s ", n++ ? " | " : "", sign);
        js_int_range(o, low_i, high_i);
        js_put(o, " " ANY_FRAC);
    }
    /* M > p: I == p with a non-zero fraction, below any upper bound */
    if (lo.set && lo.excl && (!hi.set || lo.v < hi.v)) {
        js_printf(o, "%s%s \"%lld\" " NONZERO_FRAC, n++ ? " | " : "", sign, (long long)lo.v);
    }
    /* M <= q: I == q with a zero fraction, above the lower bound */
    if (hi.set && !hi.excl && (!lo.set || (lo.excl ? hi.v > lo.v : hi.v >= lo.v))) {
        js_printf(o, "%s%s \"%lld\" " ZERO_FRAC, n++ ? " | " : "", sign, (long long)hi.v);
    }
    return n;
}

int js_number_range(js_buf *out, bool has_lo, double lo, bool lo_excl, bool has_hi, double hi,
                    bool hi_excl)
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
        int k = magnitude(&part, "", l, h);
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
        int k = magnitude(&part, "\"-\"", l, h);
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
