/* py_worker.h — the Python critic's worker process (internal). */
#ifndef SMC_POTENTIALS_PY_WORKER_H
#define SMC_POTENTIALS_PY_WORKER_H

/* The fork-server script run with `python3 -u -c` (py_server.c). */
extern const char *const SMC_PY_SERVER_SCRIPT;

#endif
