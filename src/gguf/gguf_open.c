/* gguf_open.c — opening a GGUF file (read-only mmap) or a caller-owned
 * buffer, and releasing it. */
#include "gguf/gguf_internal.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int open_image(const void *data, size_t size, int mapped, smc_gguf **out, smc_error *err)
{
    smc_gguf *g = calloc(1, sizeof *g);
    if (!g)
        return smc_fail(err, "out of memory");
    g->base = data;
    g->size = size;
    g->mapped = mapped;
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

int smc_gguf_open(const char *path, smc_gguf **out, smc_error *err)
{
    *out = NULL;
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
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED)
        return smc_fail(err, "%s: cannot mmap %zu bytes: %s", path, size, strerror(e));
    if (open_image(map, size, 1, out, err)) {
        munmap(map, size);
        return smc_fail_context(err, "%s", path);
    }
    return 0;
}

void smc_gguf_close(smc_gguf *g)
{
    if (!g)
        return;
    smc_gguf_free_parsed(g);
    if (g->mapped)
        munmap((void *)g->base, g->size);
    free(g);
}
