/* grammar.c — smcgen._core.Grammar (a compiled constraint: GBNF, Lark, regex
 * or JSON Schema) and smcgen._core.BuiltinCritic (a critic spec such as
 * "sql:DB.sqlite", "exec:COMMAND" or "plugin:PATH.so:ARG", parsed by the same
 * library function as the CLI's --critic). */
#include <string.h>

#include "ext.h"
#include "structmember.h"

static int Grammar_init(GrammarObject *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"kind", "source", "start", NULL};
    const char *kind, *src, *start = NULL;
    Py_ssize_t len;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "ss#|z:Grammar", names, &kind, &src, &len, &start))
        return -1;
    if (self->grammar) {
        PyErr_SetString(PyExc_RuntimeError, "Grammar is already initialised");
        return -1;
    }
    smc_error err = {{0}};
    smc_grammar *g = NULL;
    int rc = -1;
    enum { GBNF, LARK, REGEX, SCHEMA } k;
    if (!strcmp(kind, "gbnf")) k = GBNF;
    else if (!strcmp(kind, "lark")) k = LARK;
    else if (!strcmp(kind, "regex")) k = REGEX;
    else if (!strcmp(kind, "json_schema")) k = SCHEMA;
    else {
        PyErr_Format(PyExc_ValueError, "unknown grammar kind '%s' (gbnf, lark, regex, json_schema)", kind);
        return -1;
    }
    Py_BEGIN_ALLOW_THREADS   /* a large grammar or schema takes a while to compile */
    switch (k) {
    case GBNF: rc = smc_grammar_from_gbnf(src, (size_t)len, start, &g, &err); break;
    case LARK: rc = smc_grammar_from_lark(src, (size_t)len, start, &g, &err); break;
    case REGEX: rc = smc_grammar_from_regex(src, (size_t)len, &g, &err); break;
    case SCHEMA: rc = smc_grammar_from_json_schema(src, (size_t)len, &g, &err); break;
    }
    Py_END_ALLOW_THREADS
    if (rc) {
        ext_raise(PyExc_ValueError, &err);
        return -1;
    }
    self->grammar = g;
    self->kind = PyUnicode_FromString(kind);
    self->source = PyUnicode_DecodeUTF8(src, len, "replace");
    return self->kind && self->source ? 0 : -1;
}

static void Grammar_dealloc(GrammarObject *self)
{
    smc_grammar_free(self->grammar);
    Py_XDECREF(self->kind);
    Py_XDECREF(self->source);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Grammar_classify(GrammarObject *self, PyObject *arg)
{
    Py_buffer b;
    PyObject *enc = NULL;
    if (!self->grammar) {
        PyErr_SetString(PyExc_RuntimeError, "Grammar.__init__ was not called");
        return NULL;
    }
    if (PyUnicode_Check(arg)) {
        enc = PyUnicode_AsUTF8String(arg);
        if (!enc)
            return NULL;
        arg = enc;
    }
    if (PyObject_GetBuffer(arg, &b, PyBUF_SIMPLE)) {
        Py_XDECREF(enc);
        return NULL;
    }
    smc_match_kind k = smc_grammar_classify(self->grammar, b.buf, (size_t)b.len);
    PyBuffer_Release(&b);
    Py_XDECREF(enc);
    return PyUnicode_FromString(k == SMC_MATCH_COMPLETE ? "complete" : k == SMC_MATCH_PREFIX ? "prefix" : "invalid");
}

static PyObject *Grammar_warnings(GrammarObject *self, PyObject *unused)
{
    (void)unused;
    return PyUnicode_FromString(self->grammar ? smc_grammar_warnings(self->grammar) : "");
}

static PyMethodDef Grammar_methods[] = {
    {"classify", (PyCFunction)Grammar_classify, METH_O, NULL},
    {"warnings", (PyCFunction)Grammar_warnings, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef Grammar_members[] = {
    {"kind", T_OBJECT, offsetof(GrammarObject, kind), READONLY, "gbnf, lark, regex or json_schema"},
    {"source", T_OBJECT, offsetof(GrammarObject, source), READONLY, "the text it was compiled from"},
    {NULL, 0, 0, 0, NULL},
};

PyTypeObject Grammar_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "smcgen._core.Grammar",
    .tp_basicsize = sizeof(GrammarObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "A compiled grammar (the low-level type behind smcgen.Grammar).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Grammar_init,
    .tp_dealloc = (destructor)Grammar_dealloc,
    .tp_methods = Grammar_methods,
    .tp_members = Grammar_members,
};

/* ---- Built-in critics ------------------------------------------------ */

static int BuiltinCritic_init(BuiltinCriticObject *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"spec", "python_setup", "python_test", NULL};
    PyObject *spec;
    const char *setup = NULL, *test = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "U|zz:BuiltinCritic", names, &spec, &setup, &test))
        return -1;
    if (self->spec_text) {
        PyErr_SetString(PyExc_RuntimeError, "critic is already initialised");
        return -1;
    }
    const char *s = PyUnicode_AsUTF8(spec);
    if (!s)
        return -1;
    int py_code = !strcmp(s, "python");   /* setup and test code given as text */
    smc_error err = {{0}};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = py_code ? critic_spec_python_code(NULL, setup, test, &self->spec, &err)
                 : critic_spec_parse(s, &self->spec, &err);
    Py_END_ALLOW_THREADS
    if (rc) {
        critic_spec_free(&self->spec);
        ext_raise(PyExc_ValueError, &err);
        return -1;
    }
    self->spec_text = Py_NewRef(spec);
    return 0;
}

static void BuiltinCritic_dealloc(BuiltinCriticObject *self)
{
    critic_spec_free(&self->spec);
    Py_XDECREF(self->spec_text);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *BuiltinCritic_repr(BuiltinCriticObject *self)
{
    return PyUnicode_FromFormat("<smcgen critic %R>", self->spec_text ? self->spec_text : Py_None);
}

static PyObject *BuiltinCritic_grammar(BuiltinCriticObject *self, void *closure)
{
    (void)closure;
    if (!self->spec.grammar_gbnf)
        Py_RETURN_NONE;
    return PyUnicode_FromString(self->spec.grammar_gbnf);
}

static PyObject *BuiltinCritic_stop(BuiltinCriticObject *self, void *closure)
{
    (void)closure;
    if (!self->spec.stop)
        Py_RETURN_NONE;
    return PyUnicode_FromString(self->spec.stop);
}

static PyGetSetDef BuiltinCritic_getset[] = {
    {"grammar_gbnf", (getter)BuiltinCritic_grammar, NULL, "the domain's default grammar (GBNF) or None", NULL},
    {"stop", (getter)BuiltinCritic_stop, NULL, "the domain's default stop string or None", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef BuiltinCritic_members[] = {
    {"spec", T_OBJECT, offsetof(BuiltinCriticObject, spec_text), READONLY, "the critic spec, as the CLI's --critic"},
    {NULL, 0, 0, 0, NULL},
};

PyTypeObject BuiltinCritic_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "smcgen._core.BuiltinCritic",
    .tp_basicsize = sizeof(BuiltinCriticObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A built-in critic (as the CLI's --critic NAME[:ARG]).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)BuiltinCritic_init,
    .tp_dealloc = (destructor)BuiltinCritic_dealloc,
    .tp_repr = (reprfunc)BuiltinCritic_repr,
    .tp_getset = BuiltinCritic_getset,
    .tp_members = BuiltinCritic_members,
};
