/* cmd_view.c — `smcgen view TRACE.json [-o PAGE.html]`: a trace written by
 * --trace as one self-contained HTML page (smc_trace_render_html). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/file.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: smcgen view TRACE.json [-o PAGE.html]\n\n"
            "Turns a trace (smcgen smc --trace, smcgen eval --trace-dir) into one HTML page that\n"
            "opens from disk with nothing fetched: the particles' genealogy over the steps (line\n"
            "width and colour by weight, deaths with their reason, resampling), any particle's\n"
            "text on hover or click, the ESS and log-weight curves, and the posterior.\n\n"
            "options:\n"
            "  -o FILE   where to write the page (default: TRACE with .html for .json; - for stdout)\n"
            "  TRACE may be - to read the trace from stdin.\n");
}

/* TRACE.json -> TRACE.html; other names get .html appended. */
static char *default_output(const char *in)
{
    size_t n = strlen(in);
    bool json = n > 5 && !strcmp(in + n - 5, ".json");
    char *out = malloc(n + 6);
    if (out)
        sprintf(out, "%.*s.html", (int)(json ? n - 5 : n), in);
    return out;
}

int cmd_view(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "-o")) {
            if (i + 1 >= argc) {
                cli_error("view: -o needs a file name");
                return 2;
            }
            out = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            cli_error("view: unknown option '%s' (see --help)", argv[i]);
            return 2;
        } else if (in) {
            cli_error("view: one trace at a time (got '%s' and '%s')", in, argv[i]);
            return 2;
        } else
            in = argv[i];
    }
    if (!in) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(in, "-") && !out)
        out = "-";
    smc_error err = {{0}};
    size_t len;
    char *json = !strcmp(in, "-") ? smc_read_stream(stdin, &len, &err) : smc_read_file(in, &len, &err);
    if (!json) {
        cli_error("%s", err.msg);
        return 1;
    }
    char *html = NULL, *owned = out ? NULL : default_output(in);
    size_t n = 0;
    int rc = smc_trace_render_html(json, len, &html, &n, &err);
    free(json);
    if (rc) {
        cli_error("%s: %s", in, err.msg);
        free(owned);
        return 1;
    }
    if (!out)
        out = owned;
    FILE *f = !out ? NULL : !strcmp(out, "-") ? stdout : fopen(out, "wb");
    bool ok = f && fwrite(html, 1, n, f) == n;
    if (f && f != stdout)
        ok = fclose(f) == 0 && ok;
    else if (f)
        ok = fflush(f) == 0 && ok;
    if (!ok)
        cli_error("cannot write %s: %s", out ? out : "the page", strerror(errno));
    else if (f != stdout)
        fprintf(stderr, "wrote %s (%zu KB); open it in a browser\n", out, (n + 1023) / 1024);
    free(html);
    free(owned);
    return ok ? 0 : 1;
}
