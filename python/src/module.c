/* module.c — the smcgen._core extension module: its types, its error, and
 * run(), which reads its options with the library's option table (as the
 * CLI and the HTTP API do), builds the run's instance with the CLI's own
 * setup code (smc_setup_instance: constraint, critic's default grammar and
 * stop string, prompt), calls smc_run with the GIL released, and returns the
 * result. */
#include <math.h>
#include <string.h>

#include "ext.h"

PyObject *SmcgenError;

PyObject *ext_raise(PyObject *exc, const smc_error *err)
{
    PyErr_SetString(exc ? exc : SmcgenError, err->msg[0] ? err->msg : "smcgen: unknown error");
    return NULL;
}

/* What the run's shared JSON shape (smc_result_to_json, added as "json" by
 * run()) cannot carry: the posterior's and the particles' exact bytes and the
 * particles' token ids. Everything else smcgen.Posterior reads from the JSON. */
PyObject *ext_result_dict(const smc_result *r)
{
    PyObject *post = PyList_New(r->n_posterior), *parts = PyList_New(r->n_particles), *out = NULL;
    if (!post || !parts)
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
    out = Py_BuildValue("{s:O,s:O}", "posterior", post, "particles", parts);
done:
    Py_XDECREF(post);
    Py_XDECREF(parts);
    return out;
}

/* The option table (smc_opt_at) as a list of dicts: what smcgen.smc()'s
 * keyword arguments, defaults and docstring are made from. */
static PyObject *mod_options(PyObject *mod, PyObject *unused)
{
    (void)mod, (void)unused;
    static const char *const types[] = {"int", "float", "bool", "string", "choice", "strings"};
    static const char *const groups[] = {"prompt", "constraint", "critic", "sampling", "chat", "model"};
    PyObject *l = PyList_New(0);
    for (int i = 0; l && i < smc_opt_count(); i++) {
        const smc_opt_desc *d = smc_opt_at(i);
        PyObject *choices = d->choices ? PyUnicode_FromString(d->choices) : Py_NewRef(Py_None);
        PyObject *e = choices ? Py_BuildValue(
            "{s:s,s:z,s:z,s:z,s:s,s:O,s:O,s:O,s:s,s:d,s:d,s:O,s:O,s:z,s:s}", "name", d->name, "flag", d->flag,
            "alias", d->json_alias, "metavar", d->metavar, "type", types[d->type], "json",
            (d->where & SMC_OPT_JSON) ? Py_True : Py_False, "cli", (d->where & SMC_OPT_CLI) ? Py_True : Py_False,
            "model", (d->where & SMC_OPT_MODEL) ? Py_True : Py_False,
            "group", groups[d->group], "min", d->min, "max", d->max, "min_open", d->min_open ? Py_True : Py_False,
            "choices", choices, "default", d->def, "help", d->help) : NULL;
        Py_XDECREF(choices);
        if (!e || PyList_Append(l, e))
            Py_CLEAR(l);
        Py_XDECREF(e);
    }
    return l;
}

static int dup_into(char **field, const char *text)
{
    free(*field);
    *field = strdup(text);
    if (!*field) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* The options of one run: the table's defaults, the caller's values (a JSON
 * object, checked by the library as for the HTTP API), and the constraint
 * and critic objects standing in for the options' constraint text and critic
 * spec, so that smc_run_opts_check settles the method as everywhere else. */
static int build_opts(smc_run_opts *o, const char *prompt, const char *json, Py_ssize_t len, PyObject *grammar,
                      PyObject *critic)
{
    smc_error err = {{0}};
    smc_run_opts_init(o);
    if (smc_run_opts_set_json(o, json, (size_t)len, true, &err)) {
        ext_raise(PyExc_ValueError, &err);
        return -1;
    }
    if (prompt && dup_into(&o->prompt, prompt))
        return -1;
    if (!prompt && !o->chat && !o->messages) {
        PyErr_SetString(PyExc_ValueError, "give a prompt, or a chat (chat or messages)");
        return -1;
    }
    if (grammar != Py_None) {
        GrammarObject *g = (GrammarObject *)grammar;
        const char *kind = PyUnicode_AsUTF8(g->kind), *src = PyUnicode_AsUTF8(g->source);
        if (!kind || !src)
            return -1;
        char **field = !strcmp(kind, "lark") ? &o->lark : !strcmp(kind, "regex") ? &o->regex
                       : !strcmp(kind, "json_schema") ? &o->json_schema : &o->grammar;
        if (dup_into(field, src))
            return -1;
    }
    if (critic != Py_None) {
        const char *spec = PyObject_TypeCheck(critic, &BuiltinCritic_Type)
                               ? PyUnicode_AsUTF8(((BuiltinCriticObject *)critic)->spec_text) : "python";
        if (!spec || dup_into(&o->critic, spec))
            return -1;
    }
    if (smc_run_opts_check(o, SMC_OPT_JSON, &err)) {
        ext_raise(PyExc_ValueError, &err);
        return -1;
    }
    return 0;
}

/* Called after every SMC step (GIL released around the rest of the run):
 * Ctrl-C and other signal handlers' exceptions stop the run. */
static int check_signals(void *ud, int n, const char *const *texts, const size_t *lens, const double *logw)
{
    (void)n, (void)texts, (void)lens, (void)logw;
    PyObject **exc = ud;
    PyGILState_STATE g = PyGILState_Ensure();
    int stop = PyErr_CheckSignals() < 0;
    if (stop)
        PyErr_Fetch(&exc[0], &exc[1], &exc[2]);
    PyGILState_Release(g);
    return stop;
}

/* run(model, prompt, options_json, grammar=None, critic=None) -> dict
 * prompt None: the options hold a chat, written by the chat template. */
static PyObject *mod_run(PyObject *mod, PyObject *args, PyObject *kw)
{
    (void)mod;
    static char *names[] = {"model", "prompt", "options", "grammar", "critic", NULL};
    ModelObject *model;
    const char *prompt, *json;
    Py_ssize_t json_len;
    PyObject *grammar = Py_None, *critic = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!zs#|OO:run", names, &Model_Type, &model, &prompt, &json,
                                     &json_len, &grammar, &critic))
        return NULL;
    if (!model->lock) {
        PyErr_SetString(PyExc_RuntimeError, "Model.__init__ was not called");
        return NULL;
    }
    if (grammar != Py_None && (!PyObject_TypeCheck(grammar, &Grammar_Type) || !((GrammarObject *)grammar)->grammar)) {
        PyErr_Format(PyExc_TypeError, "constraint must be an smcgen.Grammar or None, not %s", Py_TYPE(grammar)->tp_name);
        return NULL;
    }
    smc_run_opts opts;
    if (build_opts(&opts, prompt, json, json_len, grammar, critic)) {
        smc_run_opts_free(&opts);
        return NULL;
    }
    /* The run options as everywhere else; the constraint is the compiled
     * Grammar object instead of its source text. */
    smc_setup_opts o;
    smc_setup_opts_from_run(&opts, &o);
    o.grammar_text = o.lark_text = o.regex = o.json_schema_text = NULL;
    if (grammar != Py_None)
        o.grammar = ((GrammarObject *)grammar)->grammar;
    char *chat_prompt = NULL;
    smc_error cerr = {{0}};
    if (smc_run_opts_chat_prompt(&opts, model->setup.model, &chat_prompt, &cerr)) {
        smc_run_opts_free(&opts);
        return ext_raise(PyExc_ValueError, &cerr);
    }
    if (chat_prompt) {
        o.prompt = chat_prompt;
        o.parse_special = true;
    }

    /* The critic: borrowed from a built-in critic object, or a Python object
     * wrapped for this run. */
    critic_spec spec = {0};
    BuiltinCriticObject *builtin = NULL;
    pycritic *pyc = NULL;
    if (critic != Py_None) {
        if (PyObject_TypeCheck(critic, &BuiltinCritic_Type)) {
            builtin = (BuiltinCriticObject *)critic;
            if (builtin->busy) {
                free(chat_prompt);
                smc_run_opts_free(&opts);
                PyErr_Format(PyExc_RuntimeError, "critic %R is in use by another run", builtin->spec_text);
                return NULL;
            }
            builtin->busy = 1;
            spec = builtin->spec;
        } else if (!(pyc = pycritic_new(critic))) {
            free(chat_prompt);
            smc_run_opts_free(&opts);
            return NULL;
        } else {
            spec.critic = pycritic_potential(pyc);
        }
        spec.borrowed = true;
    }

    smc_error err = {{0}};
    smc_result *res = NULL;
    int rc = -1;
    bool no_constraint = false, bad_input = false;
    PyObject *signal_exc[3] = {NULL, NULL, NULL};
    opts.cfg.on_step = check_signals;
    opts.cfg.on_step_ud = signal_exc;
    if (ext_model_lock(model) == 0) {
        smc_setup *s = &model->setup;
        Py_BEGIN_ALLOW_THREADS
        rc = smc_setup_instance(&o, critic != Py_None ? &spec : NULL, s, &err);
        bad_input = rc != 0;   /* the prompt, stop strings, the critic's grammar */
        if (rc == 0 && !s->cheap && opts.cfg.method != SMC_METHOD_PLAIN) {
            no_constraint = true;
            rc = -1;
        }
        if (rc == 0)
            rc = smc_run(s->lm, s->prompt, s->n_prompt, s->cheap, s->critic.critic, &opts.cfg, &res, &err);
        smc_setup_instance_free(s);
        Py_END_ALLOW_THREADS
        ext_model_unlock(model);
    }
    if (builtin)
        builtin->busy = 0;

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
        char *text = NULL;
        if (out && smc_result_to_json(res, true, &text, &err) == 0) {
            PyObject *j = PyUnicode_FromString(text);
            if (!j || PyDict_SetItemString(out, "json", j))
                Py_CLEAR(out);
            Py_XDECREF(j);
        } else if (out) {
            Py_CLEAR(out);
            ext_raise(NULL, &err);
        }
        free(text);
    } else if (signal_exc[0]) {
        PyErr_Restore(signal_exc[0], signal_exc[1], signal_exc[2]);
        signal_exc[0] = NULL;
    } else if (PyErr_Occurred() || (pyc && pycritic_raise(pyc))) {
        /* the model lock's error, or the critic's own exception */
    } else if (no_constraint) {
        PyErr_Format(PyExc_ValueError, "method %s needs a constraint: a Grammar, or a critic with a grammar",
                     smc_method_name(opts.cfg.method));
    } else {
        ext_raise(bad_input ? PyExc_ValueError : NULL, &err);
    }
    Py_XDECREF(signal_exc[0]);
    Py_XDECREF(signal_exc[1]);
    Py_XDECREF(signal_exc[2]);
    smc_result_free(res);
    pycritic_free(pyc);
    free(chat_prompt);
    smc_run_opts_free(&opts);
    return out;
}

static PyMethodDef mod_methods[] = {
    {"run", (PyCFunction)(void (*)(void))mod_run, METH_VARARGS | METH_KEYWORDS,
     "run(model, prompt, options_json, grammar=None, critic=None) -> dict\n"
     "The low-level run behind smcgen.smc()."},
    {"options", mod_options, METH_NOARGS, "The run-option table (name, type, range, default, help)."},
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
