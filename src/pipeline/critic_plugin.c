/* critic_plugin.c — user critics written in C: a shared library loaded with
 * dlopen whose smcgen_critic_init fills an smc_critic_plugin, wrapped as an
 * smc_potential. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "smcgen.h"
#include "util/error.h"

typedef struct plugin_critic {
    void *handle;
    smc_critic_plugin api;
} plugin_critic;

static double plugin_prefix(void *self, void *state, const char *text, size_t len)
{
    (void)state;
    plugin_critic *p = self;
    return p->api.prefix(p->api.self, text, len);
}

static double plugin_complete(void *self, void *state, const char *text, size_t len)
{
    (void)state;
    plugin_critic *p = self;
    return p->api.complete(p->api.self, text, len);
}

/* Unpacks the requests into the plug-in's arrays (a batch is at most the
 * number of particles). */
static int plugin_score_batch(void *self, int n, const smc_score_request *reqs, double *out,
                              smc_error *err)
{
    plugin_critic *p = self;
    const char **texts = malloc(sizeof *texts * (size_t)n);
    size_t *lens = malloc(sizeof *lens * (size_t)n);
    bool *complete = malloc(sizeof *complete * (size_t)n);
    int rc = 0;
    if (texts && lens && complete) {
        for (int i = 0; i < n; i++) {
            texts[i] = reqs[i].text;
            lens[i] = reqs[i].len;
            complete[i] = reqs[i].complete;
        }
        p->api.score_batch(p->api.self, n, texts, lens, complete, out);
    } else {
        rc = smc_fail(err, "out of memory");
    }
    free(texts);
    free(lens);
    free(complete);
    return rc;
}

static bool plugin_boundary(void *self, const char *text, size_t len, size_t n_new)
{
    plugin_critic *p = self;
    return p->api.is_boundary ? p->api.is_boundary(p->api.self, text, len, n_new) : true;
}

static const char *plugin_failure(void *self)
{
    (void)self;
    return "the plug-in returned +inf (it could not score the text)";
}

static void plugin_destroy(void *self)
{
    plugin_critic *p = self;
    if (p->api.destroy)
        p->api.destroy(p->api.self);
    dlclose(p->handle);
    free(p);
}

static const smc_potential_vtable plugin_vt = {
    .prefix = plugin_prefix,
    .complete = plugin_complete,
    .is_boundary = plugin_boundary,
    .destroy = plugin_destroy,
    .failure = plugin_failure,
};

/* The same, for plug-ins with a batch entry point. */
static const smc_potential_vtable plugin_batch_vt = {
    .prefix = plugin_prefix,
    .complete = plugin_complete,
    .is_boundary = plugin_boundary,
    .destroy = plugin_destroy,
    .failure = plugin_failure,
    .score_batch = plugin_score_batch,
};

int smc_critic_from_plugin(const char *path, const char *arg, smc_potential **out, smc_error *err)
{
    *out = NULL;
    /* dlopen searches the library path for a bare name; a plug-in is a file. */
    char *file = NULL;
    if (!strchr(path, '/')) {
        file = malloc(strlen(path) + 3);
        if (!file)
            return smc_fail(err, "out of memory");
        strcpy(file, "./");
        strcat(file, path);
    }
    void *h = dlopen(file ? file : path, RTLD_NOW | RTLD_LOCAL);
    free(file);
    if (!h)
        return smc_fail(err, "plug-in %s: %s", path, dlerror());
    smc_critic_plugin_init_fn init;
    *(void **)&init = dlsym(h, SMC_CRITIC_PLUGIN_ENTRY);
    if (!init) {
        dlclose(h);
        return smc_fail(err, "plug-in %s does not export %s", path, SMC_CRITIC_PLUGIN_ENTRY);
    }
    plugin_critic *p = calloc(1, sizeof *p);
    if (!p) {
        dlclose(h);
        return smc_fail(err, "out of memory");
    }
    p->handle = h;
    char msg[256] = "";
    if (init(arg, &p->api, msg, sizeof msg) != 0) {
        msg[sizeof msg - 1] = 0;
        dlclose(h);
        free(p);
        return smc_fail(err, "plug-in %s: initialisation failed: %s", path,
                        *msg ? msg : "(no message)");
    }
    if (p->api.abi != SMC_CRITIC_PLUGIN_ABI || !p->api.prefix || !p->api.complete) {
        int abi = p->api.abi;
        if (p->api.destroy)
            p->api.destroy(p->api.self);
        dlclose(h);
        free(p);
        return abi != SMC_CRITIC_PLUGIN_ABI
                   ? smc_fail(err, "plug-in %s has ABI %d, smcgen expects %d", path, abi,
                              SMC_CRITIC_PLUGIN_ABI)
                   : smc_fail(err, "plug-in %s gave no prefix or complete function", path);
    }
    *out = smc_potential_new(p->api.score_batch ? &plugin_batch_vt : &plugin_vt, p, path, 0, -1);
    if (!*out) {
        plugin_destroy(p);
        return smc_fail(err, "out of memory");
    }
    return 0;
}
