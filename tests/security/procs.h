/* procs.h — what the security tests look for on the host after an attack:
 * processes by name (comm). Header-only, for the tests in this folder. */
#ifndef SMC_TESTS_SECURITY_PROCS_H
#define SMC_TESTS_SECURITY_PROCS_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>

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
