/* critic_plugin.c — an example smcgen critic plug-in in C.
 *
 * It forbids a substring given as the plug-in's argument, e.g.
 *     cc -shared -fPIC -I include -o libnosubstr.so examples/critic_plugin.c
 *     smcgen smc ... --critic plugin:./libnosubstr.so:Cl
 * Prefixes containing the substring score -inf (so do all their
 * extensions: the contract every prefix score must keep); everything else 0.
 * A text containing a NUL byte returns +inf, "could not score", to show how a
 * plug-in reports an error. It also has the optional batch entry point
 * (trivial here; a critic that calls a remote model would send one request). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smcgen.h"

typedef struct {
    char *needle;
    size_t len;
} no_substring;

static double score(void *self, const char *text, size_t len)
{
    const no_substring *c = self;
    if (memchr(text, 0, len))
        return INFINITY;
    if (c->len == 0 || len < c->len)
        return 0.0;
    for (size_t i = 0; i + c->len <= len; i++)
        if (!memcmp(text + i, c->needle, c->len))
            return -INFINITY;
    return 0.0;
}

static void score_batch(void *self, int n, const char *const *texts, const size_t *lens,
                        const bool *complete, double *out)
{
    (void)complete;   /* this critic's prefix and complete scores agree */
    for (int i = 0; i < n; i++)
        out[i] = score(self, texts[i], lens[i]);
}

/* Only the last few bytes can create a new match: check when a token ends. */
static bool boundary(void *self, const char *text, size_t len, size_t n_new)
{
    (void)self, (void)text, (void)len;
    return n_new > 0;
}

static void destroy(void *self)
{
    no_substring *c = self;
    free(c->needle);
    free(c);
}

int smcgen_critic_init(const char *arg, smc_critic_plugin *out, char *errbuf, size_t errcap);
int smcgen_critic_init(const char *arg, smc_critic_plugin *out, char *errbuf, size_t errcap)
{
    if (!arg || !*arg) {
        snprintf(errbuf, errcap, "give the forbidden substring: plugin:PATH.so:TEXT");
        return 1;
    }
    no_substring *c = calloc(1, sizeof *c);
    if (!c || !(c->needle = strdup(arg))) {
        free(c);
        snprintf(errbuf, errcap, "out of memory");
        return 1;
    }
    c->len = strlen(arg);
    *out = (smc_critic_plugin){
        .abi = SMC_CRITIC_PLUGIN_ABI,
        .self = c,
        .prefix = score,
        .complete = score,
        .is_boundary = boundary,
        .destroy = destroy,
        .score_batch = score_batch,
    };
    return 0;
}
