/* gguf_open.c — opening a GGUF file (read-only mmap, or read into memory
 * backed by transparent huge pages; optionally locked in RAM) or a
 * caller-owned buffer, and releasing it. */
#include "gguf/gguf_internal.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int open_image(const void *data, size_t size, size_t map_size, smc_gguf **out, smc_error *err)
{
    smc_gguf *g = calloc(1, sizeof *g);
    if (!g)
        return smc_fail(err, "out of memory");
    g->base = data;
    g->size = size;
    g->mapped = map_size > 0;
    g->map_size = map_size;
    if (smc_gguf_parse(g, err)) {
        g->mapped = 0;   /* the caller unmaps on failure */
        smc_gguf_close(g);
        return -1;
    }
    *out = g;
    return 0;
}

int smc_gguf_open_buffer(const void *data, size_t size, smc_gguf **out, smc_error *err)
{
    *out = NULL;
    if (!data && size)
        return smc_fail(err, "NULL buffer of %zu bytes", size);
    static const uint8_t empty[1];
    return open_image(data ? data : empty, size, 0, out, err);
}

#define HUGE_PAGE ((size_t)2 << 20)
#define READ_MIN_BYTES ((size_t)16 << 20)

/* Whether the kernel gives anonymous memory transparent huge pages on
 * request (madvise) or always. */
static bool thp_available(void)
{
    char buf[128] = {0};
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return strstr(buf, "[always]") || strstr(buf, "[madvise]");
}

static bool read_pays(size_t size)
{
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    return size >= READ_MIN_BYTES && pages > 0 && psz > 0 && size <= (size_t)pages * (size_t)psz / 2 &&
           thp_available();
}

/* The whole file in anonymous memory aligned to 2 MB and advised to use huge
 * pages, then made read-only; *map_size: the bytes to munmap. NULL on failure
 * (errno set). */
static void *read_into_memory(int fd, size_t size, size_t *map_size)
{
    size_t cap = (size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    uint8_t *raw = mmap(NULL, cap + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    uint8_t *p = (uint8_t *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (p > raw)
        munmap(raw, (size_t)(p - raw));
    if (raw + cap + HUGE_PAGE > p + cap)
        munmap(p + cap, (size_t)(raw + cap + HUGE_PAGE - (p + cap)));
#ifdef MADV_HUGEPAGE
    madvise(p, cap, MADV_HUGEPAGE);   /* advice only: without it the data is the same */
#endif
    size_t off = 0;
    while (off < size) {
        ssize_t n = pread(fd, p + off, size - off, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;   /* 0: the file shrank while read */
            munmap(p, cap);
            errno = e;
            return NULL;
        }
        off += (size_t)n;
    }
    mprotect(p, cap, PROT_READ);
    *map_size = cap;
    return p;
}

/* Locks [p, p + size) in RAM (faulting a mapping's pages in); when the kernel
 * refuses, warns naming RLIMIT_MEMLOCK, as llama.cpp does, and goes on:
 * the model works unlocked. munmap drops the lock. The system call itself:
 * AddressSanitizer's mlock does nothing and reports success. */
static void lock_in_ram(const char *path, const void *p, size_t size)
{
#ifdef SYS_mlock
    if (syscall(SYS_mlock, p, size) == 0)
#else
    if (mlock(p, size) == 0)
#endif
        return;
    int e = errno;
    struct rlimit rl;
    char lim[32] = "unknown";
    if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0) {
        if (rl.rlim_cur == RLIM_INFINITY)
            snprintf(lim, sizeof lim, "unlimited");
        else
            snprintf(lim, sizeof lim, "%llu KB", (unsigned long long)rl.rlim_cur / 1024);
    }
    fprintf(stderr,
            "smcgen: warning: cannot lock %s (%zu MB) in RAM: %s; RLIMIT_MEMLOCK is %s "
            "(raise it with 'ulimit -l' or in /etc/security/limits.conf); going on unlocked\n",
            path, (size + (1u << 20) - 1) >> 20, strerror(e), lim);
}

int smc_gguf_open_ex(const char *path, int how, smc_gguf **out, smc_error *err)
{
    *out = NULL;
    bool lock = (how & SMC_GGUF_MLOCK) != 0;
    how &= ~SMC_GGUF_MLOCK;
    if (how != SMC_GGUF_AUTO && how != SMC_GGUF_MMAP && how != SMC_GGUF_READ)
        return smc_fail(err, "%s: unknown way %d to open a GGUF file", path, how);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return smc_fail(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return smc_fail(err, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return smc_fail(err, "%s: not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    if (size == 0) {
        close(fd);
        return smc_fail(err, "%s: file is empty (0 bytes), not a GGUF file", path);
    }
    bool in_memory = how == SMC_GGUF_READ || (how == SMC_GGUF_AUTO && read_pays(size));
    size_t map_size = size;
    void *map = in_memory ? read_into_memory(fd, size, &map_size) : mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (!map)
        map = MAP_FAILED;
    int e = errno;
    close(fd);
    if (map == MAP_FAILED)
        return smc_fail(err, "%s: cannot %s %zu bytes: %s", path, in_memory ? "read" : "mmap", size, strerror(e));
    if (open_image(map, size, map_size, out, err)) {
        munmap(map, map_size);
        return smc_fail_context(err, "%s", path);
    }
    (*out)->in_memory = in_memory;
    if (lock)
        lock_in_ram(path, map, map_size);
    return 0;
}

int smc_gguf_open(const char *path, smc_gguf **out, smc_error *err)
{
    return smc_gguf_open_ex(path, SMC_GGUF_AUTO, out, err);
}

int smc_gguf_in_memory(const smc_gguf *g)
{
    return g && g->in_memory;
}

int smc_gguf_set_writable(smc_gguf *g, int on)
{
    if (!g || !g->in_memory || !g->mapped)
        return -1;
    return mprotect((void *)g->base, g->map_size, on ? PROT_READ | PROT_WRITE : PROT_READ) == 0 ? 0 : -1;
}

void smc_gguf_close(smc_gguf *g)
{
    if (!g)
        return;
    smc_gguf_free_parsed(g);
    if (g->mapped)
        munmap((void *)g->base, g->map_size);
    free(g);
}
