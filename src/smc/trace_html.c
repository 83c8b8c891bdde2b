/* trace_html.c — smc_trace_render_html: a trace document as one
 * self-contained HTML page. The page is src/smc/view/trace_view.html with
 * its CSS, the trace (checked, re-serialised, every '<' escaped so that no
 * text can end the script element) and its JS put in at the markers; the
 * three files are embedded at build time (cmake/embed.cmake). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

extern const char smc_view_html[], smc_view_css[], smc_view_js[];
extern const size_t smc_view_html_len, smc_view_css_len, smc_view_js_len;

/* The document's JSON, re-serialised with '<' as \u003c (only inside
 * strings in JSON text); NULL with err when it is not a trace we read. */
static char *checked_trace(const char *json, size_t len, smc_error *err)
{
    cJSON *doc = cJSON_ParseWithLength(json, len);
    if (!doc) {
        const char *at = cJSON_GetErrorPtr();
        long off = at && at >= json && at <= json + len ? (long)(at - json) : -1;
        smc_fail(err, "not JSON (error near byte %ld)", off);
        return NULL;
    }
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(doc, "format");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(doc, "version");
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(doc, "config");
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(doc, "steps");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(cfg, "particles");
    char *out = NULL;
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, SMC_TRACE_FORMAT))
        smc_fail(err, "not an smcgen trace (\"format\" is not \"%s\")", SMC_TRACE_FORMAT);
    else if (!cJSON_IsNumber(ver) || ver->valuedouble != SMC_TRACE_VERSION)
        smc_fail(err, "trace version %g is not supported (this smcgen reads version %d)",
                 cJSON_IsNumber(ver) ? ver->valuedouble : -1.0, SMC_TRACE_VERSION);
    else if (!cJSON_IsObject(cfg) || !cJSON_IsNumber(n) || n->valuedouble < 1 ||
             n->valuedouble > 1000000 || !cJSON_IsArray(steps))
        smc_fail(err, "trace lacks config.particles or steps");
    else if (!(out = cJSON_PrintUnformatted(doc)))
        smc_fail(err, "out of memory");
    cJSON_Delete(doc);
    if (!out)
        return NULL;
    size_t lt = 0, m = strlen(out);
    for (size_t i = 0; i < m; i++)
        lt += out[i] == '<';
    char *esc = malloc(m + 5 * lt + 1), *p = esc;
    if (!esc) {
        free(out);
        smc_fail(err, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < m; i++)
        if (out[i] == '<')
            p = memcpy(p, "\\u003c", 6), p += 6;
        else
            *p++ = out[i];
    *p = 0;
    free(out);
    return esc;
}

int smc_trace_render_html(const char *json, size_t len, char **html, size_t *html_len,
                          smc_error *err)
{
    *html = NULL;
    if (html_len)
        *html_len = 0;
    if (!json)
        return smc_fail(err, "no trace");
    char *data = checked_trace(json, len, err);
    if (!data)
        return -1;
    struct {
        const char *marker, *text;
        size_t len;
    } parts[] = {{"@@CSS@@", smc_view_css, smc_view_css_len},
                 {"@@TRACE@@", data, strlen(data)},
                 {"@@JS@@", smc_view_js, smc_view_js_len}};
    size_t cap = smc_view_html_len + 1;
    for (int k = 0; k < 3; k++)
        cap += parts[k].len;
    char *out = malloc(cap), *o = out;
    const char *src = smc_view_html, *end = smc_view_html + smc_view_html_len;
    for (int k = 0; out && k < 3; k++) {
        const char *at = strstr(src, parts[k].marker);
        if (!at) {
            free(out);
            free(data);
            return smc_fail(err, "viewer template lacks %s", parts[k].marker);
        }
        memcpy(o, src, (size_t)(at - src));
        o += at - src;
        memcpy(o, parts[k].text, parts[k].len);
        o += parts[k].len;
        src = at + strlen(parts[k].marker);
    }
    free(data);
    if (!out)
        return smc_fail(err, "out of memory");
    memcpy(o, src, (size_t)(end - src));
    o += end - src;
    *o = 0;
    *html = out;
    if (html_len)
        *html_len = (size_t)(o - out);
    return 0;
}
