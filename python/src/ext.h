/* ext.h — shared by the files of the smcgen._core CPython extension: the
 * object types (Model, Grammar, BuiltinCritic), the Python-critic adapter and
 * the helpers that turn library errors into Python exceptions. The extension
 * is a thin layer: every step of the work is a libsmcgen call. */
#ifndef SMCGEN_PY_EXT_H
#define SMCGEN_PY_EXT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>

#include "pipeline/smc_setup.h"
#include "smcgen.h"

/* A loaded model with its context and LM (smc_setup after smc_setup_model);
 * a run builds its instance (constraint, critic, prompt) into the same setup.
 * lock: one run or logits call at a time (the context is not thread safe). */
typedef struct ModelObject {
    PyObject_HEAD
    smc_setup setup;
    PyThread_type_lock lock;
    unsigned long owner;   /* thread holding lock, 0 when free */
    PyObject *path;
} ModelObject;

typedef struct GrammarObject {
    PyObject_HEAD
    smc_grammar *grammar;
    PyObject *kind;        /* "gbnf", "lark", "regex", "json_schema" */
    PyObject *source;      /* the text it was compiled from */
} GrammarObject;

/* A built-in critic (smiles, sql:, pddl:, python:, plugin:, exec:) with its
 * default grammar and stop string; busy while a run uses it. */
typedef struct BuiltinCriticObject {
    PyObject_HEAD
    critic_spec spec;
    PyObject *spec_text;
    int busy;
} BuiltinCriticObject;

extern PyTypeObject Model_Type, Grammar_Type, BuiltinCritic_Type;
extern PyObject *SmcgenError;   /* smcgen.SmcgenError: a library call failed */

/* Raises SmcgenError (or exc when not NULL) with err's message; returns NULL. */
PyObject *ext_raise(PyObject *exc, const smc_error *err);
/* Takes the model's lock, waiting with the GIL released; -1 with a Python
 * error when this thread holds it already (a critic using its own model). */
int ext_model_lock(ModelObject *m);
void ext_model_unlock(ModelObject *m);

/* A Python object with prefix(text) and complete(text) (and optionally
 * batch(texts, complete_flags)) as an smc_potential. The GIL is taken in each
 * call (the sampler runs with it released). The first exception, or a
 * non-number / NaN / +inf score, stops the run: the potential returns +inf and
 * its failure() names the critic; pycritic_raise then raises it in Python. */
typedef struct pycritic pycritic;
pycritic *pycritic_new(PyObject *obj);            /* NULL with a Python error set */
smc_potential *pycritic_potential(pycritic *c);   /* owned by c; NULL: no memory */
/* After a failed run: sets the Python error the critic recorded and returns 1,
 * or returns 0 when it recorded none. */
int pycritic_raise(pycritic *c);
/* Calls made to the critic (texts scored) and Python calls made. */
void pycritic_counts(const pycritic *c, long long *texts, long long *calls);
void pycritic_free(pycritic *c);

/* Text from the library (bytes, possibly cut inside a UTF-8 character) as a
 * Python str, invalid bytes as U+FFFD (as exec: critics see them). */
PyObject *ext_text(const char *s, size_t n);

/* The posterior and the particles of a run as a dict, with their exact
 * bytes and token ids (the rest comes from the run's JSON: smcgen/posterior.py). */
PyObject *ext_result_dict(const smc_result *r);

#endif
