/* critic_py.c — critics written in Python, called in-process by the sampler.
 *
 * The sampler runs with the GIL released; every call here takes it
 * (PyGILState_Ensure), calls the object's batch(texts, complete_flags) once
 * per SMC step when it has one (else prefix/complete per text, under one GIL
 * acquisition), checks each score and gives the GIL back. A critic that
 * raises, or returns a non-number, NaN or +inf, stops the run: from then on
 * every score is +inf ("could not score"), smc_run fails with failure()'s
 * message and pycritic_raise re-raises the exception in the caller. Ctrl-C
 * reaches the run through the same path (signals are checked per step). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ext.h"

struct pycritic {
    PyObject *obj;
    PyObject *prefix, *complete, *batch;   /* bound methods (batch may be NULL) */
    char name[160];
    /* The first error: a Python exception (type/value/tb) and a message. */
    PyObject *exc_type, *exc_value, *exc_tb;
    char failure[640];
    long long n_texts, n_calls;
    smc_potential *pot;
};

PyObject *ext_text(const char *s, size_t n)
{
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)n, "replace");
}

/* Short quoted excerpt of a text for messages. */
static void excerpt(const char *text, size_t len, char *out, size_t cap)
{
    size_t n = len < 40 ? len : 40;
    size_t k = 0;
    out[k++] = '"';
    for (size_t i = 0; i < n && k + 6 < cap; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch == '\n') k += (size_t)snprintf(out + k, cap - k, "\\n");
        else if (ch < 32 || ch == '"' || ch == '\\') k += (size_t)snprintf(out + k, cap - k, "\\x%02x", ch);
        else out[k++] = (char)ch;
    }
    k += (size_t)snprintf(out + k, cap - k, "%s\"", len > n ? "..." : "");
    out[k < cap ? k : cap - 1] = 0;
}

/* Records the pending Python exception (GIL held) as the critic's failure. */
static void fail_exception(pycritic *c, const char *method, const char *text, size_t len)
{
    if (c->exc_type) {   /* keep the first */
        PyErr_Clear();
        return;
    }
    PyErr_Fetch(&c->exc_type, &c->exc_value, &c->exc_tb);
    PyErr_NormalizeException(&c->exc_type, &c->exc_value, &c->exc_tb);
    char ex[64];
    excerpt(text, len, ex, sizeof ex);
    const char *tname = ((PyTypeObject *)c->exc_type)->tp_name;
    PyObject *s = c->exc_value ? PyObject_Str(c->exc_value) : NULL;
    const char *msg = s ? PyUnicode_AsUTF8(s) : NULL;
    if (!msg)
        PyErr_Clear();
    snprintf(c->failure, sizeof c->failure, "%s.%s(%s) raised %s: %s", c->name, method, ex, tname,
             msg ? msg : "");
    Py_XDECREF(s);
}

/* Records a bad score (a new exception naming the critic). */
static void fail_score(pycritic *c, PyObject *exc, const char *method, const char *text, size_t len,
                       const char *what)
{
    if (c->exc_type)
        return;
    char ex[64];
    excerpt(text, len, ex, sizeof ex);
    snprintf(c->failure, sizeof c->failure,
             "critic %s.%s(%s) returned %s; a critic returns a log-weight: a float, "
             "-inf to reject", c->name, method, ex, what);
    PyErr_SetString(exc, c->failure);
    PyErr_Fetch(&c->exc_type, &c->exc_value, &c->exc_tb);
    PyErr_NormalizeException(&c->exc_type, &c->exc_value, &c->exc_tb);
}

/* One score from a Python return value (reference stolen); +inf on error. */
static double take_score(pycritic *c, PyObject *v, const char *method, const char *text, size_t len)
{
    if (!v) {
        fail_exception(c, method, text, len);
        return INFINITY;
    }
    double d;
    if (PyBool_Check(v)) {
        goto not_number;
    } else if (PyFloat_Check(v)) {
        d = PyFloat_AS_DOUBLE(v);
    } else if (PyLong_Check(v) || (PyNumber_Check(v) && !PyUnicode_Check(v))) {
        d = PyFloat_AsDouble(v);
        if (d == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            goto not_number;
        }
    } else {
        goto not_number;
    }
    Py_DECREF(v);
    if (isnan(d)) {
        fail_score(c, PyExc_ValueError, method, text, len, "nan");
        return INFINITY;
    }
    if (d == INFINITY) {
        fail_score(c, PyExc_ValueError, method, text, len, "+inf");
        return INFINITY;
    }
    return d;
not_number:;
    char what[200];
    PyObject *r = PyObject_Repr(v);
    const char *rs = r ? PyUnicode_AsUTF8(r) : NULL;
    if (!rs)
        PyErr_Clear();
    snprintf(what, sizeof what, "%.120s (%s), not a number", rs ? rs : "?", Py_TYPE(v)->tp_name);
    Py_XDECREF(r);
    Py_DECREF(v);
    fail_score(c, PyExc_TypeError, method, text, len, what);
    return INFINITY;
}

/* Scores one text (GIL held). */
static double score_one(pycritic *c, const char *text, size_t len, bool complete)
{
    if (c->exc_type)
        return INFINITY;
    PyObject *s = ext_text(text, len);
    if (!s) {
        fail_exception(c, complete ? "complete" : "prefix", text, len);
        return INFINITY;
    }
    c->n_texts++;
    c->n_calls++;
    PyObject *v = PyObject_CallOneArg(complete ? c->complete : c->prefix, s);
    Py_DECREF(s);
    return take_score(c, v, complete ? "complete" : "prefix", text, len);
}

/* A pending Ctrl-C (or other signal handler's exception) stops the run. */
static bool interrupted(pycritic *c)
{
    if (c->exc_type)
        return true;
    if (PyErr_CheckSignals() < 0) {
        fail_exception(c, "(interrupted)", "", 0);
        snprintf(c->failure, sizeof c->failure, "interrupted");
        return true;
    }
    return false;
}

/* One text scored on its own (the sampler's prefix/complete entry points). */
static double score_with_gil(pycritic *c, const char *text, size_t len, bool complete)
{
    PyGILState_STATE g = PyGILState_Ensure();
    double v = interrupted(c) ? INFINITY : score_one(c, text, len, complete);
    PyGILState_Release(g);
    return v;
}

static double py_prefix(void *self, void *state, const char *text, size_t len)
{
    (void)state;
    return score_with_gil(self, text, len, false);
}

static double py_complete(void *self, void *state, const char *text, size_t len)
{
    (void)state;
    return score_with_gil(self, text, len, true);
}

/* batch(texts, complete_flags) -> sequence of n scores (GIL held). */
static void call_batch(pycritic *c, int n, const smc_score_request *reqs, double *out)
{
    PyObject *texts = PyList_New(n), *flags = PyList_New(n), *v = NULL, *seq = NULL;
    if (!texts || !flags)
        goto error;
    for (int i = 0; i < n; i++) {
        PyObject *s = ext_text(reqs[i].text, reqs[i].len);
        if (!s)
            goto error;
        PyList_SET_ITEM(texts, i, s);
        PyList_SET_ITEM(flags, i, PyBool_FromLong(reqs[i].complete));
    }
    c->n_texts += n;
    c->n_calls++;
    v = PyObject_CallFunctionObjArgs(c->batch, texts, flags, NULL);
    if (!v)
        goto error;
    seq = PySequence_Fast(v, "");
    if (!seq || PySequence_Fast_GET_SIZE(seq) != n) {
        PyErr_Clear();
        char what[160];
        snprintf(what, sizeof what, "%s instead of a sequence of %d scores",
                 seq ? "a sequence of another length" : Py_TYPE(v)->tp_name, n);
        fail_score(c, PyExc_TypeError, "batch", reqs[0].text, reqs[0].len, what);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        PyObject *x = PySequence_Fast_GET_ITEM(seq, i);
        Py_INCREF(x);
        out[i] = take_score(c, x, "batch", reqs[i].text, reqs[i].len);
    }
    goto done;
error:
    fail_exception(c, "batch", reqs[0].text, reqs[0].len);
done:
    Py_XDECREF(seq);
    Py_XDECREF(v);
    Py_XDECREF(texts);
    Py_XDECREF(flags);
}

static int py_score_batch(void *self, int n, const smc_score_request *reqs, double *out, smc_error *err)
{
    (void)err;
    pycritic *c = self;
    PyGILState_STATE g = PyGILState_Ensure();
    if (!interrupted(c)) {
        if (c->batch)
            call_batch(c, n, reqs, out);
        else
            for (int i = 0; i < n && !c->exc_type; i++)
                out[i] = score_one(c, reqs[i].text, reqs[i].len, reqs[i].complete);
    }
    if (c->exc_type)
        for (int i = 0; i < n; i++)
            out[i] = INFINITY;
    PyGILState_Release(g);
    return 0;
}

static const char *py_failure(void *self)
{
    pycritic *c = self;
    return c->failure[0] ? c->failure : "it returned +inf";
}

static const smc_potential_vtable py_vt = {
    .prefix = py_prefix,
    .complete = py_complete,
    .failure = py_failure,
    .score_batch = py_score_batch,
};

pycritic *pycritic_new(PyObject *obj)
{
    pycritic *c = PyMem_Calloc(1, sizeof *c);
    if (!c)
        return (pycritic *)PyErr_NoMemory();
    c->obj = Py_NewRef(obj);
    PyObject *name = PyObject_GetAttrString(obj, "name");
    if (!name || !PyUnicode_Check(name)) {
        PyErr_Clear();
        Py_XDECREF(name);
        name = PyUnicode_FromString(Py_TYPE(obj)->tp_name);
    }
    const char *ns = name ? PyUnicode_AsUTF8(name) : NULL;
    snprintf(c->name, sizeof c->name, "%s", ns ? ns : "critic");
    Py_XDECREF(name);
    PyErr_Clear();
    c->prefix = PyObject_GetAttrString(obj, "prefix");
    c->complete = PyObject_GetAttrString(obj, "complete");
    if (!c->prefix || !c->complete || !PyCallable_Check(c->prefix) || !PyCallable_Check(c->complete)) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError,
                     "critic %s needs callable prefix(text) and complete(text) methods "
                     "(or use a built-in critic from smcgen.critics)", c->name);
        pycritic_free(c);
        return NULL;
    }
    c->batch = PyObject_GetAttrString(obj, "batch");
    if (!c->batch || c->batch == Py_None) {
        PyErr_Clear();
        Py_CLEAR(c->batch);
    } else if (!PyCallable_Check(c->batch)) {
        PyErr_Format(PyExc_TypeError, "critic %s: batch must be a method batch(texts, complete_flags)",
                     c->name);
        pycritic_free(c);
        return NULL;
    }
    c->pot = smc_potential_new(&py_vt, c, c->name, 0, -1);
    if (!c->pot) {
        pycritic_free(c);
        return (pycritic *)PyErr_NoMemory();
    }
    return c;
}

smc_potential *pycritic_potential(pycritic *c)
{
    return c->pot;
}

int pycritic_raise(pycritic *c)
{
    if (!c->exc_type)
        return 0;
    PyObject *value = c->exc_value;
    if (value && PyExceptionInstance_Check(value) && strstr(c->failure, " raised ")) {
        /* The critic's own exception, unchanged, with a note saying where it came from. */
        char note[700];
        snprintf(note, sizeof note, "raised by the critic during smcgen.smc(): %s", c->failure);
        PyObject *r = PyObject_CallMethod(value, "add_note", "s", note);
        if (!r)
            PyErr_Clear();
        Py_XDECREF(r);
    }
    PyErr_Restore(c->exc_type, c->exc_value, c->exc_tb);
    c->exc_type = c->exc_value = c->exc_tb = NULL;
    return 1;
}

void pycritic_counts(const pycritic *c, long long *texts, long long *calls)
{
    *texts = c->n_texts;
    *calls = c->n_calls;
}

void pycritic_free(pycritic *c)
{
    if (!c)
        return;
    if (c->pot)
        smc_potential_free(c->pot);   /* no destroy: c is freed here */
    Py_XDECREF(c->obj);
    Py_XDECREF(c->prefix);
    Py_XDECREF(c->complete);
    Py_XDECREF(c->batch);
    Py_XDECREF(c->exc_type);
    Py_XDECREF(c->exc_value);
    Py_XDECREF(c->exc_tb);
    PyMem_Free(c);
}
