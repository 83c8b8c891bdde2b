/* model.c — smcgen._core.Model: a GGUF model loaded once (smc_setup_model:
 * model, context, LM) with its tokenizer and raw logits, the way the CLI's
 * `tokenize`, `detokenize` and `logits` commands compute them. */
#include <stdio.h>
#include <string.h>

#include "ext.h"

int ext_model_lock(ModelObject *m)
{
    unsigned long me = PyThread_get_thread_ident();
    if (m->owner == me) {
        PyErr_SetString(PyExc_RuntimeError,
                        "this model is busy in a run on this thread (a critic cannot use the model it scores for)");
        return -1;
    }
    if (!PyThread_acquire_lock(m->lock, NOWAIT_LOCK)) {
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(m->lock, WAIT_LOCK);
        Py_END_ALLOW_THREADS
    }
    m->owner = me;
    return 0;
}

void ext_model_unlock(ModelObject *m)
{
    m->owner = 0;
    PyThread_release_lock(m->lock);
}

/* The model settings of the option table (SMC_OPT_MODEL: prompt_cache,
 * load), given as {name: text} (None: the table's defaults), into o; values
 * are checked by the library as on the command line, with the same messages. */
static int parse_model_options(PyObject *options, smc_run_opts *o)
{
    if (options != Py_None && !PyDict_Check(options)) {
        PyErr_SetString(PyExc_TypeError, "Model options must be a dict of option name to text");
        return -1;
    }
    smc_error err = {{0}};
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (options != Py_None && PyDict_Next(options, &pos, &k, &v)) {
        const char *name = PyUnicode_Check(k) ? PyUnicode_AsUTF8(k) : NULL;
        const char *text = PyUnicode_Check(v) ? PyUnicode_AsUTF8(v) : NULL;
        const smc_opt_desc *d = name ? smc_opt_find(name) : NULL;
        if (!name || !text) {
            PyErr_SetString(PyExc_TypeError, "Model options must be a dict of option name to text");
            return -1;
        } else if (!d || !(d->where & SMC_OPT_MODEL) || strcmp(d->name, name)) {
            PyErr_Format(PyExc_TypeError, "Model() got an unexpected keyword argument '%s'", name);
            return -1;
        } else if (smc_run_opts_set(o, name, text, &err)) {
            ext_raise(PyExc_ValueError, &err);
            return -1;
        }
    }
    return 0;
}

static int Model_init(ModelObject *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"path", "threads", "options", NULL};
    PyObject *path = Py_None, *options = Py_None;
    int threads = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|OiO:Model", names, &path, &threads, &options))
        return -1;
    if (self->lock) {
        PyErr_SetString(PyExc_RuntimeError, "Model is already initialised");
        return -1;
    }
    if (threads < 0) {
        PyErr_Format(PyExc_ValueError, "threads must be >= 0 (0: all cores), got %d", threads);
        return -1;
    }
    smc_run_opts mo;
    smc_run_opts_init(&mo);
    int rc = parse_model_options(options, &mo);
    smc_run_opts_free(&mo); /* only numbers are kept below */
    if (rc)
        return -1;
    PyObject *bytes = NULL;
    if (path != Py_None && !PyUnicode_FSConverter(path, &bytes))
        return -1;
    smc_setup_opts o = {.model_path = bytes ? PyBytes_AS_STRING(bytes) : NULL, .n_threads = threads, .load = smc_setup_load_how(&mo)};
    smc_error err = {{0}};
    Py_BEGIN_ALLOW_THREADS
    rc = smc_setup_model(&o, &self->setup, &err);
    if (rc == 0)
        rc = smc_engine_lm_set_prompt_cache(self->setup.engine_lm, mo.prompt_cache, &err);
    Py_END_ALLOW_THREADS
    Py_XDECREF(bytes);
    if (rc) {
        smc_setup_free(&self->setup);
        ext_raise(PyExc_ValueError, &err);
        return -1;
    }
    self->lock = PyThread_allocate_lock();
    if (!self->lock) {
        PyErr_NoMemory();
        return -1;
    }
    self->path = path == Py_None ? Py_NewRef(Py_None) : PyObject_Str(path);
    return self->path ? 0 : -1;
}

static void Model_dealloc(ModelObject *self)
{
    smc_setup_free(&self->setup);
    if (self->lock)
        PyThread_free_lock(self->lock);
    Py_XDECREF(self->path);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int ready(ModelObject *self)
{
    if (!self->lock) {
        PyErr_SetString(PyExc_RuntimeError, "Model.__init__ was not called");
        return 0;
    }
    return 1;
}

static const smc_vocab *vocab_of(ModelObject *self)
{
    smc_error err = {{0}};
    const smc_vocab *v = smc_model_vocab(self->setup.model, &err);
    if (!v)
        ext_raise(PyExc_ValueError, &err);
    return v;
}

static PyObject *ids_to_list(const int32_t *ids, size_t n)
{
    PyObject *l = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; l && i < n; i++) {
        PyObject *x = PyLong_FromLong(ids[i]);
        if (!x) {
            Py_CLEAR(l);
            break;
        }
        PyList_SET_ITEM(l, (Py_ssize_t)i, x);
    }
    return l;
}

/* ids (any iterable of ints, each in [0, n_vocab)) -> malloc'd array. */
static int32_t *list_to_ids(PyObject *seq, int32_t n_vocab, size_t *n)
{
    PyObject *fast = PySequence_Fast(seq, "token ids must be a sequence of ints");
    if (!fast)
        return NULL;
    Py_ssize_t k = PySequence_Fast_GET_SIZE(fast);
    int32_t *ids = PyMem_Malloc(sizeof *ids * (size_t)(k ? k : 1));
    if (!ids) {
        Py_DECREF(fast);
        return (int32_t *)PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < k; i++) {
        long v = PyLong_AsLong(PySequence_Fast_GET_ITEM(fast, i));
        if (v == -1 && PyErr_Occurred()) {
            PyMem_Free(ids);
            Py_DECREF(fast);
            return NULL;
        }
        if (v < 0 || v >= n_vocab) {
            PyErr_Format(PyExc_ValueError, "token id %ld at index %zd is out of range [0, %d)", v, i,
                         n_vocab);
            PyMem_Free(ids);
            Py_DECREF(fast);
            return NULL;
        }
        ids[i] = (int32_t)v;
    }
    Py_DECREF(fast);
    *n = (size_t)k;
    return ids;
}

static PyObject *Model_tokenize(ModelObject *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"text", "add_special", "parse_special", NULL};
    const char *text;
    Py_ssize_t len;
    int add_special = 1, parse_special = 0;
    if (!ready(self) || !PyArg_ParseTupleAndKeywords(args, kw, "s#|pp:tokenize", names, &text, &len,
                                                     &add_special, &parse_special))
        return NULL;
    const smc_vocab *v = vocab_of(self);
    if (!v)
        return NULL;
    int32_t *ids = NULL;
    size_t n = 0;
    smc_error err = {{0}};
    if (smc_tokenize(v, text, (size_t)len, add_special, parse_special, &ids, &n, &err))
        return ext_raise(PyExc_ValueError, &err);
    PyObject *l = ids_to_list(ids, n);
    free(ids);
    return l;
}

static PyObject *Model_detokenize_bytes(ModelObject *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"ids", "render_special", NULL};
    PyObject *seq;
    int render = 0;
    if (!ready(self) || !PyArg_ParseTupleAndKeywords(args, kw, "O|p:detokenize_bytes", names, &seq, &render))
        return NULL;
    const smc_vocab *v = vocab_of(self);
    size_t n = 0;
    int32_t *ids = v ? list_to_ids(seq, smc_vocab_n_tokens(v), &n) : NULL;
    if (!ids)
        return NULL;
    char *text = NULL;
    size_t len = 0;
    smc_error err = {{0}};
    int rc = smc_detokenize(v, ids, n, render, &text, &len, &err);
    PyMem_Free(ids);
    if (rc)
        return ext_raise(PyExc_ValueError, &err);
    PyObject *b = PyBytes_FromStringAndSize(text, (Py_ssize_t)len);
    free(text);
    return b;
}

/* Raw logits of a token sequence, as `smcgen logits` computes them: a fresh
 * sequence, one batch, logits at the last position or at every position.
 * Returns (bytes of float32, rows). */
static PyObject *Model_logits_raw(ModelObject *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"ids", "all_positions", NULL};
    PyObject *seq;
    int all = 0;
    if (!ready(self) || !PyArg_ParseTupleAndKeywords(args, kw, "O|p:logits", names, &seq, &all))
        return NULL;
    int32_t nv = smc_model_n_vocab(self->setup.model);
    size_t n = 0;
    int32_t *ids = list_to_ids(seq, nv, &n);
    if (!ids)
        return NULL;
    if (n == 0) {
        PyMem_Free(ids);
        PyErr_SetString(PyExc_ValueError, "logits: no token ids given");
        return NULL;
    }
    smc_batch_entry *e = PyMem_Malloc(n * sizeof *e);
    if (!e) {
        PyMem_Free(ids);
        return PyErr_NoMemory();
    }
    smc_error err = {{0}};
    PyObject *out = NULL;
    if (ext_model_lock(self)) {
        PyMem_Free(e);
        PyMem_Free(ids);
        return NULL;
    }
    smc_ctx *c = self->setup.ctx;
    int rc = -1;
    int32_t s = -1;
    if ((int64_t)n > smc_ctx_n_ctx(c)) {
        snprintf(err.msg, sizeof err.msg, "logits: %zu tokens, more than the context size %d", n, smc_ctx_n_ctx(c));
    } else {
        Py_BEGIN_ALLOW_THREADS
        s = smc_seq_new(c, &err);
        if (s >= 0) {
            for (size_t i = 0; i < n; i++)
                e[i] = (smc_batch_entry){s, ids[i], all || i + 1 == n};
            smc_batch b = {e, (int32_t)n};
            rc = smc_decode(c, &b, &err);
        }
        Py_END_ALLOW_THREADS
    }
    if (rc == 0) {
        int32_t rows = smc_n_logits(c);
        out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)rows * nv * (Py_ssize_t)sizeof(float));
        for (int32_t k = 0; out && k < rows; k++)
            memcpy(PyBytes_AS_STRING(out) + (size_t)k * nv * sizeof(float), smc_logits(c, k),
                   (size_t)nv * sizeof(float));
        if (out)
            out = Py_BuildValue("(Ni)", out, rows);   /* steals the bytes */
    }
    if (s >= 0)
        smc_seq_free(c, s);
    ext_model_unlock(self);
    PyMem_Free(e);
    PyMem_Free(ids);
    if (rc)
        return ext_raise(PyExc_ValueError, &err);
    return out;
}

static PyObject *Model_token_bytes(ModelObject *self, PyObject *arg)
{
    long id = PyLong_AsLong(arg);
    if ((id == -1 && PyErr_Occurred()) || !ready(self))
        return NULL;
    const smc_vocab *v = vocab_of(self);
    if (!v)
        return NULL;
    if (id < 0 || id >= smc_vocab_n_tokens(v)) {
        PyErr_Format(PyExc_ValueError, "token id %ld is out of range [0, %d)", id, smc_vocab_n_tokens(v));
        return NULL;
    }
    smc_str s = smc_vocab_token_bytes(v, (int32_t)id);
    return PyBytes_FromStringAndSize(s.ptr, (Py_ssize_t)s.len);
}

static PyObject *Model_info(ModelObject *self, PyObject *unused)
{
    (void)unused;
    if (!ready(self))
        return NULL;
    const smc_vocab *v = vocab_of(self);
    if (!v)
        return NULL;
    smc_model *m = self->setup.model;
    int64_t decoded = 0, reused = 0; /* since loading (smc_engine_lm_counts) */
    smc_engine_lm_counts(self->setup.engine_lm, &decoded, &reused);
    return Py_BuildValue("{s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:s,s:L,s:L}", "arch", smc_model_arch(m),
                         "n_vocab", smc_model_n_vocab(m), "n_embd", smc_model_n_embd(m), "n_layer",
                         smc_model_n_layer(m), "n_ctx", smc_ctx_n_ctx(self->setup.ctx), "threads",
                         smc_ctx_n_threads(self->setup.ctx), "bos", smc_vocab_bos(v), "eos",
                         smc_vocab_eos(v), "eot", smc_vocab_eot(v), "tokenizer", smc_vocab_model(v),
                         "tokens_evaluated", (long long)decoded, "prompt_tokens_reused", (long long)reused);
}

static PyMethodDef Model_methods[] = {
    {"tokenize", (PyCFunction)(void (*)(void))Model_tokenize, METH_VARARGS | METH_KEYWORDS, NULL},
    {"detokenize_bytes", (PyCFunction)(void (*)(void))Model_detokenize_bytes, METH_VARARGS | METH_KEYWORDS, NULL},
    {"logits_raw", (PyCFunction)(void (*)(void))Model_logits_raw, METH_VARARGS | METH_KEYWORDS, NULL},
    {"token_bytes", (PyCFunction)Model_token_bytes, METH_O, NULL},
    {"info", (PyCFunction)Model_info, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyObject *Model_get_path(ModelObject *self, void *closure)
{
    (void)closure;
    return Py_NewRef(self->path ? self->path : Py_None);
}

static PyGetSetDef Model_getset[] = {
    {"path", (getter)Model_get_path, NULL, "the GGUF file (None: the bundled default)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject Model_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "smcgen._core.Model",
    .tp_basicsize = sizeof(ModelObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "A loaded GGUF model (the low-level type behind smcgen.Model).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Model_init,
    .tp_dealloc = (destructor)Model_dealloc,
    .tp_methods = Model_methods,
    .tp_getset = Model_getset,
};
