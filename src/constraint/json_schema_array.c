/* json_schema_array.c — JSON Schema arrays → GBNF: prefixItems (and the
 * draft-7 tuple form), items, minItems/maxItems. */
#include "constraint/json_schema_ctx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

/* ---- arrays ---- */

static void put_rep(js_buf *o, long long lo, long long hi)
{
    if (hi < 0)
        js_printf(o, lo == 0 ? "*" : lo == 1 ? "+" : "{%lld,}", lo);
    else if (lo == 0 && hi == 1)
        js_put(o, "?");
    else if (lo == hi)
        js_printf(o, "{%lld}", lo);
    else
        js_printf(o, "{%lld,%lld}", lo, hi);
}

char *js_compile_array(js_ctx *c, const cJSON *s, const char *path)
{
    const cJSON *mx_items = js_get(s, "maxItems");
    bool at_most_one = cJSON_IsNumber(mx_items) && mx_items->valuedouble <= 1;
    if (cJSON_IsTrue(js_get(s, "uniqueItems")) && !at_most_one) {
        if (js_get(s, "contains")) {
            smc_fail(c->err, "JSON Schema: \"uniqueItems\" together with \"contains\" at %s is not "
                     "supported", path);
            return NULL;
        }
        return js_compile_unique(c, s, path);
    }
    const cJSON *con = js_get(s, "contains");
    if (con && !(cJSON_IsNumber(js_get(s, "minContains")) && js_get(s, "minContains")->valuedouble == 0 &&
                 !js_get(s, "maxContains")))
        return js_compile_contains(c, s, path);
    const cJSON *prefix = js_get(s, "prefixItems"), *items = js_get(s, "items");
    const char *prefix_kw = "prefixItems", *items_kw = "items";
    if (cJSON_IsArray(items)) {          /* draft-4..2019 tuple form */
        if (prefix) {
            smc_fail(c->err, "JSON Schema: both prefixItems and array \"items\" at %s", path);
            return NULL;
        }
        prefix = items;
        prefix_kw = "items";
        items = js_get(s, "additionalItems");
        items_kw = "additionalItems";
    }   /* additionalItems without a tuple is ignored, as the spec says */
    if (prefix && !cJSON_IsArray(prefix)) {
        smc_fail(c->err, "JSON Schema: \"prefixItems\" at %s must be an array", path);
        return NULL;
    }
    long long mn = js_get_count(c, s, "minItems", 0, path);
    long long mx = js_get_count(c, s, "maxItems", -1, path);
    if (mn == -2 || mx == -2)
        return NULL;
    size_t k = 0;
    char *pre[256] = {0};
    char *item = NULL, *result = NULL;
    js_buf o = {0};
    for (const cJSON *p = prefix ? prefix->child : NULL; p; p = p->next) {
        if (cJSON_IsFalse(p)) {
            if (mx < 0 || (long long)k < mx)
                mx = (long long)k;
            break;
        }
        if (k == 256) {
            smc_fail(c->err, "JSON Schema: more than 256 prefixItems at %s", path);
            goto done;
        }
        char *sub = js_path_index(path, prefix_kw, (int)k);
        pre[k] = sub ? js_compile(c, p, sub) : NULL;
        free(sub);
        if (!pre[k])
            goto done;
        k++;
    }
    if (cJSON_IsFalse(items)) {
        if (mx < 0 || (long long)k < mx)
            mx = (long long)k;
    } else if (mx < 0 || mx > (long long)k) {
        char *sub = js_path_join(path, items_kw);
        item = sub ? js_compile(c, items ? items : cJSON_GetObjectItem(c->owned, "t"), sub) : NULL;
        free(sub);
        if (!item)
            goto done;
    }
    if (mx >= 0 && mn > mx) {
        smc_fail(c->err, "JSON Schema: no array length satisfies minItems/maxItems/items at %s", path);
        goto done;
    }
    const char *W = c->W;
    js_printf(&o, "( \"[\" %s ", W);
    size_t opened = 0;
    size_t upto = mx >= 0 && (long long)k > mx ? (size_t)mx : k;
    for (size_t i = 0; i < upto; i++) {
        bool optional = (long long)i >= mn;
        if (optional) {
            js_put(&o, "( ");
            opened++;
        }
        if (i > 0)
            js_printf(&o, "\",\" %s ", W);
        js_printf(&o, "%s %s ", pre[i], W);
    }
    if (item && (mx < 0 || mx > (long long)k)) {
        long long rmin = mn > (long long)k ? mn - (long long)k : 0;
        long long rmax = mx < 0 ? -1 : mx - (long long)k;
        if (k > 0) {
            js_printf(&o, "( \",\" %s %s %s )", W, item, W);
            put_rep(&o, rmin, rmax);
            js_put(&o, " ");
        } else if (rmin == 0) {
            js_printf(&o, "( %s %s ( \",\" %s %s %s )", item, W, W, item, W);
            put_rep(&o, 0, rmax < 0 ? -1 : rmax - 1);
            js_put(&o, " )? ");
        } else {
            js_printf(&o, "%s %s ( \",\" %s %s %s )", item, W, W, item, W);
            put_rep(&o, rmin - 1, rmax < 0 ? -1 : rmax - 1);
            js_put(&o, " ");
        }
    }
    for (size_t i = 0; i < opened; i++)
        js_put(&o, ")? ");
    js_put(&o, "\"]\" )");
    if (W[0])
        c->used[P_WS] = true;
    result = js_take(&o);
    if (!result)
        smc_fail(c->err, "out of memory");
done:
    for (size_t i = 0; i < 256; i++)
        free(pre[i]);
    free(item);
    js_buf_free(&o);
    return result;
}

