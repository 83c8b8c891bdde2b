/* module.c — the smcgen._core extension module: its types, its error, and
 * run(), which builds a run's instance with the CLI's own setup code
 * (smc_setup_instance: constraint, critic's default grammar and stop string,
 * prompt), calls smc_run with the GIL released, and returns the result. */
#include <math.h>
#include <string.h>

#include "ext.h"

PyObject *SmcgenError;

PyObject *ext_raise(PyObject *exc, const smc_error *err)
{
    PyErr_SetString(exc ? exc : SmcgenError, err->msg[0] ? err->msg : "smcgen: unknown error");
    return NULL;
}

static PyObject *timings_dict(const smc_result *r)
{
    return Py_BuildValue("{s:d,s:d,s:d,s:d,s:d}", "total", r->t_total, "lm", r->t_lm, "mask", r->t_mask,
                         "critic", r->t_critic, "resample", r->t_resample);
}

PyObject *ext_result_dict(const smc_result *r)
{
    PyObject *post = PyList_New(r->n_posterior), *parts = PyList_New(r->n_particles);
    PyObject *trace = PyList_New(r->n_steps), *out = NULL;
    if (!post || !parts || !trace)
        goto done;
    for (int i = 0; i < r->n_posterior; i++) {
        const smc_posterior_entry *e = &r->posterior[i];
        PyObject *t = Py_BuildValue("(Ny#di)", ext_text(e->text, e->len), e->text, (Py_ssize_t)e->len,
                                    e->prob, e->count);
        if (!t)
            goto done;
        PyList_SET_ITEM(post, i, t);
    }
    for (int i = 0; i < r->n_particles; i++) {
        const smc_particle_out *p = &r->particles[i];
        PyObject *toks = PyList_New(p->n_tokens);
        if (!toks)
            goto done;
        for (int k = 0; k < p->n_tokens; k++)
            PyList_SET_ITEM(toks, k, PyLong_FromLong(p->tokens[k]));
        PyObject *t = Py_BuildValue("(Ny#dNO)", ext_text(p->text, p->len), p->text, (Py_ssize_t)p->len,
                                    p->log_weight, toks, p->forced_eos ? Py_True : Py_False);
        if (!t)
            goto done;
        PyList_SET_ITEM(parts, i, t);
    }
    for (int i = 0; i < r->n_steps; i++)
        PyList_SET_ITEM(trace, i, PyFloat_FromDouble(r->ess_trace[i]));
    out = Py_BuildValue("{s:s,s:i,s:O,s:O,s:d,s:d,s:O,s:i,s:O,s:i,s:L,s:L,s:N}", "method",
                        smc_method_name(r->method), "n_particles", r->n_particles, "posterior", post,
                        "particles", parts, "log_z", r->log_z, "ess", r->ess, "all_dead",
                        r->all_dead ? Py_True : Py_False, "n_steps", r->n_steps, "ess_trace", trace,
                        "n_resamples", r->n_resamples, "n_lm_evals", (long long)r->n_lm_evals,
                        "n_constraint_checks", (long long)r->n_constraint_checks, "timings",
                        timings_dict(r));
done:
    Py_XDECREF(post);
    Py_XDECREF(parts);
    Py_XDECREF(trace);
    return out;
}

/* Stop strings: a str or a sequence of str, encoded into a setup's table. */
static int take_stops(PyObject *stop, smc_setup_opts *o, PyObject **keep)
{
    *keep = NULL;
    if (stop == Py_None)
        return 0;
    PyObject *seq = PyUnicode_Check(stop) ? PyTuple_Pack(1, stop) : PySequence_Tuple(stop);
    if (!seq)
        return -1;
    Py_ssize_t n = PyTuple_GET_SIZE(seq);
    if (n > (Py_ssize_t)(sizeof o->stops / sizeof o->stops[0])) {
        Py_DECREF(seq);
        PyErr_Format(PyExc_ValueError, "at most %zu stop strings", sizeof o->stops / sizeof o->stops[0]);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *s = PyTuple_GET_ITEM(seq, i);
        const char *c = PyUnicode_Check(s) ? PyUnicode_AsUTF8(s) : NULL;
        if (!c) {
            Py_DECREF(seq);
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "stop must be a str or a sequence of str");
            return -1;
        }
        o->stops[o->n_stops++] = c;
    }
    *keep = seq;
    return 0;
}

/* run(model, prompt, config, grammar=None, critic=None, stop=None,
 *     default_stop=True, add_bos=True) -> dict
 * config: a dict of smc_config fields already validated by the caller. */
static PyObject *mod_run(PyObject *mod, PyObject *args, PyObject *kw)
{
    (void)mod;
    static char *names[] = {"model", "prompt", "method", "particles", "ess_threshold", "resample",
                            "max_tokens", "temperature", "seed", "proposal", "grammar", "critic",
                            "stop", "default_stop", "add_bos", NULL};
    ModelObject *model;
    const char *prompt, *method, *resample, *proposal;
    int particles, max_tokens, default_stop = 1, add_bos = 1;
    double ess, temperature;
    unsigned long long seed;
    PyObject *grammar = Py_None, *critic = Py_None, *stop = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!ssidsidKs|OOOpp:run", names, &Model_Type, &model,
                                     &prompt, &method, &particles, &ess, &resample, &max_tokens,
                                     &temperature, &seed, &proposal, &grammar, &critic, &stop,
                                     &default_stop, &add_bos))
        return NULL;
    if (!model->lock) {
        PyErr_SetString(PyExc_RuntimeError, "Model.__init__ was not called");
        return NULL;
    }
    smc_config cfg;
    smc_config_default(&cfg);
    if (smc_method_parse(method, &cfg.method) || smc_resample_parse(resample, &cfg.resample)) {
        PyErr_Format(PyExc_ValueError, "unknown method '%s' or resample '%s'", method, resample);
        return NULL;
    }
    cfg.n_particles = particles;
    cfg.ess_threshold = ess;
    cfg.max_tokens = max_tokens;
    cfg.temperature = temperature;
    cfg.seed = seed;
    cfg.proposal = !strcmp(proposal, "awrs") ? SMC_PROPOSAL_AWRS : SMC_PROPOSAL_MASKED;

    smc_setup_opts o = {.prompt = prompt, .no_bos = !add_bos, .default_stops = default_stop};
    if (grammar != Py_None) {
        if (!PyObject_TypeCheck(grammar, &Grammar_Type) || !((GrammarObject *)grammar)->grammar) {
            PyErr_SetString(PyExc_TypeError, "constraint must be an smcgen.Grammar or None");
            return NULL;
        }
        o.grammar = ((GrammarObject *)grammar)->grammar;
    }
    PyObject *stops_keep;
    if (take_stops(stop, &o, &stops_keep))
        return NULL;

    /* The critic: borrowed from a built-in critic object, or a Python object
     * wrapped for this run. */
    critic_spec spec = {0};
    BuiltinCriticObject *builtin = NULL;
    pycritic *pyc = NULL;
    if (critic != Py_None) {
        if (PyObject_TypeCheck(critic, &BuiltinCritic_Type)) {
            builtin = (BuiltinCriticObject *)critic;
            if (builtin->busy) {
                Py_XDECREF(stops_keep);
                PyErr_Format(PyExc_RuntimeError, "critic %R is in use by another run", builtin->spec_text);
                return NULL;
            }
            builtin->busy = 1;
            spec = builtin->spec;
        } else {
            pyc = pycritic_new(critic);
            if (!pyc) {
                Py_XDECREF(stops_keep);
                return NULL;
            }
            spec.critic = pycritic_potential(pyc);
        }
        spec.borrowed = true;
    }

    smc_error err = {{0}};
    smc_result *res = NULL;
    int rc;
    const char *usage_error = NULL;
    if (ext_model_lock(model)) {
        if (builtin)
            builtin->busy = 0;
        Py_XDECREF(stops_keep);
        pycritic_free(pyc);
        return NULL;
    }
    smc_setup *s = &model->setup;
    Py_BEGIN_ALLOW_THREADS
    rc = smc_setup_instance(&o, critic != Py_None ? &spec : NULL, s, &err);
    if (rc == 0 && !s->cheap && cfg.method != SMC_METHOD_PLAIN) {
        usage_error = "needs a constraint: a Grammar, or a critic with a grammar";
        rc = -1;
    }
    if (rc == 0)
        rc = smc_run(s->lm, s->prompt, s->n_prompt, s->cheap, s->critic.critic, &cfg, &res, &err);
    smc_setup_instance_free(s);
    Py_END_ALLOW_THREADS
    ext_model_unlock(model);
    if (builtin)
        builtin->busy = 0;
    Py_XDECREF(stops_keep);

    PyObject *out = NULL;
    if (rc == 0) {
        out = ext_result_dict(res);
        if (out && pyc) {
            long long texts, calls;
            pycritic_counts(pyc, &texts, &calls);
            PyObject *c = Py_BuildValue("{s:L,s:L}", "texts", texts, "calls", calls);
            if (!c || PyDict_SetItemString(out, "critic_calls", c))
                Py_CLEAR(out);
            Py_XDECREF(c);
        }
        char *json = NULL;
        if (out && smc_result_to_json(res, true, &json, &err) == 0) {
            PyObject *j = PyUnicode_FromString(json);
            if (!j || PyDict_SetItemString(out, "json", j))
                Py_CLEAR(out);
            Py_XDECREF(j);
        } else if (out) {
            Py_CLEAR(out);
            ext_raise(NULL, &err);
        }
        free(json);
    } else if (!(pyc && pycritic_raise(pyc))) {
        if (usage_error)
            PyErr_Format(PyExc_ValueError, "method %s %s", smc_method_name(cfg.method), usage_error);
        else
            ext_raise(NULL, &err);
    }
    smc_result_free(res);
    pycritic_free(pyc);
    return out;
}

static PyMethodDef mod_methods[] = {
    {"run", (PyCFunction)(void (*)(void))mod_run, METH_VARARGS | METH_KEYWORDS,
     "run(model, prompt, method, particles, ess_threshold, resample, max_tokens, temperature, seed, "
     "proposal, grammar=None, critic=None, stop=None, default_stop=True, add_bos=True) -> dict\n"
     "The low-level run behind smcgen.smc()."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef mod_def = {
    PyModuleDef_HEAD_INIT, "smcgen._core", "libsmcgen bindings (use the smcgen package).", -1, mod_methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__core(void);
PyMODINIT_FUNC PyInit__core(void)
{
    if (PyType_Ready(&Model_Type) || PyType_Ready(&Grammar_Type) || PyType_Ready(&BuiltinCritic_Type))
        return NULL;
    PyObject *m = PyModule_Create(&mod_def);
    if (!m)
        return NULL;
    SmcgenError = PyErr_NewExceptionWithDoc("smcgen.SmcgenError",
                                            "A libsmcgen call failed (the message says why).",
                                            PyExc_RuntimeError, NULL);
    if (!SmcgenError || PyModule_AddObjectRef(m, "SmcgenError", SmcgenError) ||
        PyModule_AddObjectRef(m, "Model", (PyObject *)&Model_Type) ||
        PyModule_AddObjectRef(m, "Grammar", (PyObject *)&Grammar_Type) ||
        PyModule_AddObjectRef(m, "BuiltinCritic", (PyObject *)&BuiltinCritic_Type)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
