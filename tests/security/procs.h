/* procs.h — what the security tests look for on the host after an attack:
 * processes by name (comm), names made unique to this test process so that
 * copies running at once (ctest -j, test_as_user.sh, other checkouts on the
 * machine) never count each other's. Header-only, for the tests here. */
#ifndef SMC_TESTS_SECURITY_PROCS_H
#define SMC_TESTS_SECURITY_PROCS_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* This test process's own version of a process name: "smc" + tag + pid
 * (at most 15 characters, as comm holds). */
static inline const char *procs_own_name(char out[16], char tag)
{
    snprintf(out, 16, "smc%c%d", tag, (int)getpid() % 10000000);
    return out;
}

/* code with every `from` replaced by `to` (malloc'd; NULL when out of memory). */
static inline char *procs_rename(const char *code, const char *from, const char *to)
{
    size_t nf = strlen(from), nt = strlen(to), n = 0;
    for (const char *p = strstr(code, from); p; p = strstr(p + nf, from))
        n++;
    char *out = malloc(strlen(code) + n * (nt > nf ? nt - nf : 0) + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = code, *q; ; p = q + nf) {
        q = strstr(p, from);
        size_t k = q ? (size_t)(q - p) : strlen(p);
        memcpy(o, p, k);
        o += k;
        if (!q)
            break;
        memcpy(o, to, nt);
        o += nt;
    }
    *o = '\0';
    return out;
}

/* Processes on the host whose name (comm) is name. */
static inline int procs_named(const char *name)
{
    DIR *d = opendir("/proc");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[300], comm[64] = "";
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f) {
            if (fgets(comm, sizeof comm, f))
                comm[strcspn(comm, "\n")] = '\0';
            fclose(f);
        }
        n += strcmp(comm, name) == 0;
    }
    if (d)
        closedir(d);
    return n;
}

#endif
