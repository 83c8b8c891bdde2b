/* json_schema_range.c — exact GBNF for the decimal integers in [lo, hi]
 * (JSON Schema minimum/maximum on integers). Numbers are split by digit
 * count; each same-length range becomes a prefix tree of digit classes, so
 * the grammar is unambiguous and has no leading zeros. */
#include "constraint/json_schema_internal.h"

#include <string.h>

/* Strings of exactly n digits between A and B (n >= 1, A <= B). */
static void same_len(js_buf *o, const char *A, const char *B, int n)
{
    int k = 0;
    while (k < n && A[k] == B[k])
        k++;
    if (k > 0) {
        js_put(o, "\"");
        js_putn(o, A, (size_t)k);
        js_put(o, "\"");
    }
    if (k == n)
        return;
    if (k > 0)
        js_put(o, " ");
    int m = n - k;                 /* digits left, m >= 1 */
    char a0 = A[k], b0 = B[k];
    const char *ar = A + k + 1, *br = B + k + 1;
    bool low_zero = true, high_nine = true;
    for (int i = 0; i < m - 1; i++) {
        if (ar[i] != '0')
            low_zero = false;
        if (br[i] != '9')
            high_nine = false;
    }
    char nines[24], zeros[24];
    memset(nines, '9', sizeof nines);
    memset(zeros, '0', sizeof zeros);
    char start = low_zero ? a0 : (char)(a0 + 1);
    char end = high_nine ? b0 : (char)(b0 - 1);
    int alts = !low_zero + (start <= end) + !high_nine;
    if (alts > 1)
        js_put(o, "(");
    bool first = true;
    if (!low_zero) {
        js_printf(o, "\"%c\" ", a0);
        same_len(o, ar, nines, m - 1);
        first = false;
    }
    if (start <= end) {
        if (!first)
            js_put(o, " | ");
        if (start == end)
            js_printf(o, "\"%c\"", start);
        else
            js_printf(o, "[%c-%c]", start, end);
        if (m - 1 == 1)
            js_put(o, " [0-9]");
        else if (m - 1 > 1)
            js_printf(o, " [0-9]{%d}", m - 1);
        first = false;
    }
    if (!high_nine) {
        if (!first)
            js_put(o, " | ");
        js_printf(o, "\"%c\" ", b0);
        same_len(o, zeros, br, m - 1);
    }
    if (alts > 1)
        js_put(o, ")");
}

/* v as exactly L decimal digits (zero-padded), L <= 20. */
static void to_digits(char *out, uint64_t v, int L)
{
    out[L] = 0;
    for (int i = L - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

static int n_digits(uint64_t v)
{
    int d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

/* Alternatives (joined by " | ", no outer parentheses) for [a, b], a <= b. */
static void pos_range(js_buf *o, uint64_t a, uint64_t b, bool *first)
{
    int da = n_digits(a), db = n_digits(b);
    uint64_t p10 = 1;
    for (int i = 1; i < da; i++)
        p10 *= 10;
    for (int L = da; L <= db; L++) {
        uint64_t lo = (L == 1) ? 0 : p10;      /* 10^(L-1) */
        if (lo < a)
            lo = a;
        uint64_t hi = (L >= 20) ? UINT64_MAX : p10 * 10 - 1;
        if (hi > b)
            hi = b;
        char A[24], B[24];
        to_digits(A, lo, L);
        to_digits(B, hi, L);
        if (!*first)
            js_put(o, " | ");
        *first = false;
        same_len(o, A, B, L);
        if (L < 20)
            p10 *= 10;
    }
}

int js_int_range(js_buf *out, int64_t lo, int64_t hi)
{
    if (lo > hi)
        return -1;
    js_put(out, "(");
    bool first = true;
    if (lo < 0) {
        /* magnitudes of [lo, min(hi, -1)] are [max(1, -hi), -lo] */
        uint64_t mag_hi = (uint64_t)(-(lo + 1)) + 1;
        uint64_t mag_lo = hi < 0 ? (uint64_t)(-(hi + 1)) + 1 : 1;
        js_put(out, "\"-\" (");
        bool f2 = true;
        pos_range(out, mag_lo, mag_hi, &f2);
        js_put(out, ")");
        first = false;
    }
    if (hi >= 0) {
        if (!first)
            js_put(out, " | ");
        first = true;
        pos_range(out, lo > 0 ? (uint64_t)lo : 0, (uint64_t)hi, &first);
    }
    js_put(out, ")");
    return 0;
}
