/* grammar.c — public smc_grammar functions: free, stats, warnings, counted
 * chains, classification of a whole string, loading a grammar file by extension. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "constraint/earley.h"
#include "constraint/grammar_internal.h"
#include "util/error.h"

void smc_grammar_free(smc_grammar *g)
{
    if (!g)
        return;
    if (g->cache) {
        earley_cache_free(g);
        pthread_mutex_destroy(&g->lock);
    }
    if (g->pred)
        for (uint32_t i = 0; i < g->n_nt; i++)
            free(g->pred[i]);
    free(g->pred);
    free(g->n_pred);
    free(g->pos_sym);
    free(g->pos_lhs);
    free(g->terms);
    free(g->nullable);
    free(g->warnings);
    free(g);
}

void smc_grammar_get_stats(const smc_grammar *g, smc_grammar_stats *out) { *out = g->stats; }

const char *smc_grammar_warnings(const smc_grammar *g) { return g->warnings ? g->warnings : ""; }

int smc_grammar_counted_chains(const smc_grammar *g, uint32_t *bounds, int cap)
{
    /* (found once when the grammar was compiled; read only since) */
    return (int)earley_chain_tops(earley_get_chains(g), bounds, cap > 0 ? (uint32_t)cap : 0);
}

smc_match_kind smc_grammar_classify(const smc_grammar *g, const char *bytes, size_t n)
{
    earley_lock(g);
    eset *s = earley_initial(g);
    for (size_t i = 0; i < n && s && s != &earley_dead; i++)
        s = earley_step(g, s, (unsigned char)bytes[i]);
    smc_match_kind k = SMC_MATCH_INVALID;
    if (s && s != &earley_dead)
        k = s->accepting ? SMC_MATCH_COMPLETE : SMC_MATCH_PREFIX;
    earley_unlock(g);
    return k;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int smc_grammar_from_file(const char *path, smc_grammar **out, smc_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return smc_fail(err, "cannot open %s", path);
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (size_t r; buf && (r = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += r;
        if (n == cap) {
            char *b2 = cap > ((size_t)64 << 20) ? NULL : realloc(buf, cap * 2);
            if (!b2) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b2;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf)
        return smc_fail(err, "%s: too large or out of memory", path);
    int rc;
    if (ends_with(path, ".lark")) {
        rc = smc_grammar_from_lark(buf, n, NULL, out, err);
    } else if (ends_with(path, ".regex") || ends_with(path, ".re")) {
        while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            n--;
        rc = smc_grammar_from_regex(buf, n, out, err);
    } else {
        rc = smc_grammar_from_gbnf(buf, n, NULL, out, err);
    }
    free(buf);
    if (rc != 0)
        return smc_fail_context(err, "%s", path);
    return 0;
}
