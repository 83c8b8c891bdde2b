/* test_json_schema_exact.c — the JSON Schema converter never accepts an
 * invalid instance where the tests once found it did: numbers beyond 2^53
 * (exact literal text), hostname label and name lengths, oneOf with
 * overlapping alternatives (refused), every JSON string escape; unknown
 * keywords are warnings (errors when strict); compile bombs stop with a
 * clear error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smcgen.h"
#include "test.h"

static smc_grammar *compile(const char *schema, unsigned flags)
{
    smc_error err = {{0}};
    smc_grammar *g = NULL;
    int rc = smc_grammar_from_json_schema_ex(schema, strlen(schema), flags, &g, &err);
    CHECK_MSG(rc == 0, "%s: %s", schema, err.msg);
    return g;
}

/* Each text classified: want_ok ones complete, the others not. */
static void expect(const char *schema, const char *const *ok, const char *const *bad)
{
    smc_grammar *g = compile(schema, 0);
    if (!g)
        return;
    for (; ok && *ok; ok++)
        CHECK_MSG(smc_grammar_classify(g, *ok, strlen(*ok)) == SMC_MATCH_COMPLETE, "%s rejects %s",
                  schema, *ok);
    for (; bad && *bad; bad++)
        CHECK_MSG(smc_grammar_classify(g, *bad, strlen(*bad)) != SMC_MATCH_COMPLETE, "%s accepts %s",
                  schema, *bad);
    smc_grammar_free(g);
}

static void expect_refused(const char *schema, const char *needle1, const char *needle2)
{
    smc_error err = {{0}};
    smc_grammar *g = NULL;
    int rc = smc_grammar_from_json_schema(schema, strlen(schema), &g, &err);
    CHECK_MSG(rc < 0 && !g, "accepted: %.200s", schema);
    smc_grammar_free(g);
    if (rc < 0) {
        CHECK_MSG(strstr(err.msg, needle1) != NULL, "error \"%s\" lacks \"%s\"", err.msg, needle1);
        if (needle2)
            CHECK_MSG(strstr(err.msg, needle2) != NULL, "error \"%s\" lacks \"%s\"", err.msg, needle2);
    }
}

static void test_big_numbers(void)
{
    expect("{\"const\":9007199254740993}", (const char *[]){"9007199254740993", NULL},
           (const char *[]){"9007199254740992", "9.00719925474099e+15", "9007199254740994", NULL});
    expect("{\"enum\":[123456789012345678901234567890, -0.1, 1.0, 2.50, 1e2]}",
           (const char *[]){"123456789012345678901234567890", "-0.1", "1", "2.5", "100", NULL},
           (const char *[]){"123456789012345678901234567891", "0.1", "2", "1e2", NULL});
    expect("{\"type\":\"integer\",\"maximum\":9007199254740995}",
           (const char *[]){"9007199254740995", "9007199254740994", "-5", NULL},
           (const char *[]){"9007199254740996", "9007199254740997", NULL});
    expect("{\"type\":\"integer\",\"exclusiveMinimum\":9007199254740993,\"maximum\":9007199254740999}",
           (const char *[]){"9007199254740994", "9007199254740999", NULL},
           (const char *[]){"9007199254740993", "9007199254741000", NULL});
    expect("{\"type\":\"integer\",\"minimum\":2.5,\"maximum\":4.0}", (const char *[]){"3", "4", NULL},
           (const char *[]){"2", "5", NULL});
    /* an integer type with an integer-valued const written 1.0 */
    expect("{\"type\":\"integer\",\"const\":1.0}", (const char *[]){"1", NULL},
           (const char *[]){"1.5", "2", NULL});
    /* bounds that are integers only as doubles are refused, not rounded */
    expect_refused("{\"type\":\"number\",\"exclusiveMinimum\":1.0000000000000001}", "minimum", "#");
}

static void test_hostname(void)
{
    char l63[64], l64[65], four[300], long5[200], json[400];
    memset(l63, 'a', 63), l63[63] = 0;
    memset(l64, 'b', 64), l64[64] = 0;
    snprintf(four, sizeof four, "%s.%s.%s.%.*s", l63, l63, l63, 63, l63);   /* 255 bytes */
    snprintf(long5, sizeof long5, "%.31s.a.b.c.d", l63);                     /* 5 labels, one of 31 */
    const char *schema = "{\"type\":\"string\",\"format\":\"hostname\"}";
    smc_grammar *g = compile(schema, 0);
    if (!g)
        return;
    static const char *ok[] = {"www.example.com", "a", "a-b.c--d.e1", "ab-c.a--b.a-b-c",
                               "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p", NULL};
    for (const char *const *p = ok; *p; p++) {
        snprintf(json, sizeof json, "\"%s\"", *p);
        CHECK_MSG(smc_grammar_classify(g, json, strlen(json)) == SMC_MATCH_COMPLETE, "rejects %s", *p);
    }
    snprintf(json, sizeof json, "\"%s\"", l63);
    CHECK(smc_grammar_classify(g, json, strlen(json)) == SMC_MATCH_COMPLETE);
    /* A-labels ("xn--"; any "--" 3rd and 4th) are refused: a grammar cannot check punycode */
    const char *bad[] = {l64, four, "-a.com", "a-.com", "a..b", ".a", "a.", "a_b", "", long5, "xn--4gbwdl.com",
                         "ab--c", "XN--a", NULL};
    for (const char *const *p = bad; *p; p++) {
        snprintf(json, sizeof json, "\"%s\"", *p);
        CHECK_MSG(smc_grammar_classify(g, json, strlen(json)) != SMC_MATCH_COMPLETE, "accepts %.80s", *p);
    }
    smc_grammar_free(g);
}

static void test_uri(void)
{
    expect("{\"type\":\"string\",\"format\":\"uri\"}",
           (const char *[]){"\"https://example.com\"", "\"http://a.b:8080/p/q?x=1&y=%20#frag\"",
                            "\"mailto:someone@example.com\"", "\"urn:isbn:0451450523\"",
                            "\"ftp://ftp.is.co.za/rfc/rfc1808.txt\"", NULL},
           (const char *[]){"\"//example.com\"", "\"example.com\"", "\"http://exa mple.com\"",
                            "\"1http://a\"", "\"http://a/%zz\"", "\"http://a/<b>\"", "\"\"", "\":x\"",
                            "\"http://a/b c\"", "\"http://a\\\\b\"", NULL});
}

#define Q(s) "\"" s "\""
static void test_formats(void)
{
    expect("{\"format\":\"ipv6\"}",
           (const char *[]){Q("::"), Q("::1"), Q("1::"), Q("1:2:3:4:5:6:7:8"), Q("1:2:3:4:5:6:7::"),
                            Q("::2:3:4:5:6:7:8"), Q("1::8"), Q("1:2:3:4:5::8"), Q("::ffff:1.2.3.4"),
                            Q("::1.2.3.4"), Q("1:2:3:4:5:6:1.2.3.4"), Q("1::5:6:255.255.255.255"),
                            Q("FFFF:abcd::0"), "12", "null", NULL},
           (const char *[]){Q(""), Q(":"), Q(":::"), Q("1:2:3:4:5:6:7:8:9"), Q("1::2::3"), Q("12345::"),
                            Q("g::"), Q("1:2:3:4:5:6:7:1.2.3.4"), Q("1:2:3:4:5:6:7"), Q("::1.2.3"),
                            Q("::1.2.3.04"), Q("1.2.3.4"), Q("[::1]"), Q(":1::"), Q("1::2:"), NULL});
    expect("{\"format\":\"duration\"}",
           (const char *[]){Q("P1Y"), Q("P1Y2M3DT4H5M6S"), Q("PT5S"), Q("P3W"), Q("P1M2D"), Q("PT1H2M"), NULL},
           (const char *[]){Q("P"), Q("PT"), Q("P1Y2D"), Q("PT1H2S"), Q("P1W1D"), Q("P1.5D"), Q("1D"), NULL});
    expect("{\"format\":\"json-pointer\"}",
           (const char *[]){Q(""), Q("/"), Q("/a~0b/~1"), Q("/a\\\"b"), Q("//x"), NULL},
           (const char *[]){Q("a"), Q("/~"), Q("/~2"), Q("#/a"), Q("/a\\/b"), NULL});
    expect("{\"format\":\"relative-json-pointer\"}", (const char *[]){Q("0"), Q("12#"), Q("1/a/0"), NULL},
           (const char *[]){Q(""), Q("01"), Q("-1"), Q("0##"), Q("/a"), Q("1#/a"), NULL});
    expect("{\"format\":\"uri-reference\"}",
           (const char *[]){Q(""), Q("a/b:c"), Q("//u:p@[v1.x]:80/p?q#f"), Q("?x"), Q("#f"), Q("s:x"),
                            Q("http://[::1]/"), Q("../a"), NULL},
           (const char *[]){Q("a:b:c\\\\"), Q("1:b"), Q("//[::1/"), Q("//h:8a/"), Q("a b"), Q("%4"), NULL});
    expect("{\"format\":\"iri\"}", (const char *[]){Q("http://\u00e9.fr/\u03c0?\ue000"), Q("urn:x"), NULL},
           (const char *[]){Q("/\u00e9"), Q("http://\u00e9.fr/\ue000"), Q("http://a/\xc2\x80"), NULL});
    expect("{\"format\":\"uri-template\"}", (const char *[]){Q("/a/{b}{?c,d*}{+e:12}"), Q("x"), NULL},
           (const char *[]){Q("{}"), Q("{a"), Q("}"), Q("{a:0}"), Q("{a..b}"), NULL});
    expect("{\"format\":\"idn-email\"}", (const char *[]){Q("\u00e9l\u00e8ve@example.com"), NULL},
           (const char *[]){Q("a@b"), Q("a\uff20example.com"), NULL});
}

/* unevaluatedProperties/unevaluatedItems: evaluated names and indices made
 * static by merging; each case checked by hand against the 2020-12 text. */
static void test_unevaluated(void)
{
    expect("{\"prefixItems\":[{\"type\":\"integer\"}],\"unevaluatedItems\":false}",
           (const char *[]){"[]", "[1]", NULL}, (const char *[]){"[1,2]", "[\"a\"]", NULL});
    /* two tuples merged: position 1 from the longer one, nothing after */
    expect("{\"allOf\":[{\"prefixItems\":[{\"type\":\"integer\"}]},{\"prefixItems\":[true,{\"type\":\"string\"}]}],"
           "\"unevaluatedItems\":false}",
           (const char *[]){"[1]", "[1,\"a\"]", NULL}, (const char *[]){"[1,\"a\",3]", "[\"x\"]", "[1,2]", NULL});
    expect("{\"prefixItems\":[true],\"unevaluatedItems\":{\"type\":\"string\"}}",
           (const char *[]){"[1,\"a\",\"b\"]", "[null]", NULL}, (const char *[]){"[1,2]", NULL});
    /* items anywhere evaluates every item */
    expect("{\"allOf\":[{\"items\":true}],\"unevaluatedItems\":false}", (const char *[]){"[1,2]", NULL}, NULL);
    expect("{\"allOf\":[{\"properties\":{\"a\":true}}],\"unevaluatedProperties\":{\"type\":\"integer\"}}",
           (const char *[]){"{\"a\":\"x\",\"c\":1}", "{}", NULL}, (const char *[]){"{\"a\":1,\"c\":\"s\"}", NULL});
    /* an inner unevaluatedProperties: true evaluates everything for the outer one */
    expect("{\"properties\":{\"a\":true},\"allOf\":[{\"unevaluatedProperties\":true}],"
           "\"unevaluatedProperties\":false}", (const char *[]){"{\"a\":1,\"z\":2}", NULL}, NULL);
    /* an inner unevaluatedProperties: false sees only its own subschema */
    expect("{\"allOf\":[{\"properties\":{\"a\":true},\"unevaluatedProperties\":false}],"
           "\"properties\":{\"b\":true}}", (const char *[]){"{\"a\":1}", NULL},
           (const char *[]){"{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}", "{\"b\":2}", NULL});
    /* per branch of anyOf */
    expect("{\"anyOf\":[{\"properties\":{\"a\":{\"type\":\"integer\"}},\"required\":[\"a\"]},"
           "{\"properties\":{\"b\":true},\"required\":[\"b\"]}],\"unevaluatedProperties\":false}",
           (const char *[]){"{\"a\":1}", "{\"b\":\"x\"}", NULL},
           (const char *[]){"{\"a\":1,\"c\":2}", "{\"c\":2}", NULL});
    expect_refused("{\"contains\":{\"type\":\"integer\"},\"unevaluatedItems\":false}", "\"unevaluatedItems\"",
                   "contains");
    expect_refused("{\"if\":{\"properties\":{\"a\":true}},\"else\":{\"additionalProperties\":{\"type\":"
                   "\"integer\"}},\"unevaluatedProperties\":false}", "\"unevaluatedProperties\"", "\"not\"");
    /* if without then: an instance matching if takes if's annotations, not
     * else's ({"b":2} matches if, so b is unevaluated): else counts as
     * evaluating nothing (stricter), not as anyOf [if, else] */
    expect("{\"if\":{\"properties\":{\"a\":true}},\"else\":{\"properties\":{\"b\":true}},"
           "\"unevaluatedProperties\":false}", (const char *[]){"{\"a\":1}", "{}", NULL},
           (const char *[]){"{\"b\":2}", "{\"a\":1,\"b\":2}", NULL});
    /* not evaluates nothing: its properties stay unevaluated (here bar is
     * required by not-not and unevaluated: nothing is valid) */
    expect_refused("{\"properties\":{\"foo\":{\"type\":\"string\"}},\"not\":{\"not\":{\"properties\":{\"bar\":"
                   "{\"const\":\"bar\"}},\"required\":[\"bar\"]}},\"unevaluatedProperties\":false}",
                   "matches nothing", NULL);
    expect("{\"properties\":{\"foo\":true},\"not\":{\"required\":[\"bar\"]},\"unevaluatedProperties\":false}",
           (const char *[]){"{\"foo\":1}", "{}", NULL}, (const char *[]){"{\"bar\":1}", "{\"foo\":1,\"bar\":1}", NULL});
    expect("{\"if\":{\"properties\":{\"k\":{\"const\":1}},\"required\":[\"k\"]},\"then\":{\"properties\":"
           "{\"t\":true}},\"else\":{\"properties\":{\"e\":true}},\"unevaluatedProperties\":false}",
           (const char *[]){"{\"k\":1}", "{\"k\":1,\"t\":0}", "{\"e\":0}", "{}", NULL},
           (const char *[]){"{\"k\":1,\"e\":0}", "{\"t\":0}", "{\"k\":2}", "{\"k\":2,\"e\":0}", NULL});
    /* ... unless else excludes if */
    expect("{\"if\":{\"type\":\"object\",\"properties\":{\"k\":{\"const\":\"x\"}},\"required\":[\"k\"]},"
           "\"else\":{\"type\":\"object\",\"properties\":{\"k\":{\"const\":\"y\"},\"b\":true},"
           "\"required\":[\"k\"]},\"unevaluatedProperties\":false}",
           (const char *[]){"{\"k\":\"x\"}", "{\"k\":\"y\",\"b\":2}", NULL},
           (const char *[]){"{\"k\":\"x\",\"b\":2}", "{\"k\":\"z\"}", "{\"k\":\"y\",\"c\":2}", NULL});
}

static void test_oneof(void)
{
    /* overlapping alternatives: refused, naming the keyword and pointer */
    expect_refused("{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}", "\"oneOf\"", "at #");
    expect_refused("{\"properties\":{\"p\":{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"string\","
                   "\"maxLength\":3}]}}}", "\"oneOf\"", "#/properties/p");
    expect_refused("{\"type\":\"object\",\"oneOf\":[{\"required\":[\"a\"]},{\"required\":[\"b\"]}]}",
                   "\"oneOf\"", NULL);
    expect_refused("{\"allOf\":[{\"type\":\"number\"}],\"oneOf\":[{\"minimum\":0},{\"maximum\":5}]}",
                   "\"oneOf\"", NULL);
    /* provably disjoint: by type, by value, by range, by a discriminator */
    expect("{\"oneOf\":[{\"type\":\"integer\"},{\"type\":\"string\"}]}", (const char *[]){"1", "\"x\"", NULL},
           (const char *[]){"null", "1.5", NULL});
    expect("{\"oneOf\":[{\"const\":1.5},{\"type\":\"integer\"}]}", (const char *[]){"1.5", "7", NULL},
           (const char *[]){"2.5", NULL});
    expect("{\"oneOf\":[{\"type\":\"integer\",\"maximum\":0},{\"type\":\"integer\",\"exclusiveMinimum\":0}]}",
           (const char *[]){"0", "1", "-3", NULL}, (const char *[]){"1.0", NULL});
    expect("{\"$defs\":{\"c\":{\"type\":\"object\",\"properties\":{\"kind\":{\"const\":\"circle\"},"
           "\"r\":{\"type\":\"number\"}},\"required\":[\"kind\",\"r\"],\"additionalProperties\":false},"
           "\"s\":{\"type\":\"object\",\"properties\":{\"kind\":{\"enum\":[\"square\",\"box\"]},"
           "\"side\":{\"type\":\"number\"}},\"required\":[\"kind\"],\"additionalProperties\":false}},"
           "\"oneOf\":[{\"$ref\":\"#/$defs/c\"},{\"$ref\":\"#/$defs/s\"}]}",
           (const char *[]){"{\"kind\":\"circle\",\"r\":1}", "{\"kind\":\"box\"}", NULL},
           (const char *[]){"{\"kind\":\"circle\"}", "{\"kind\":\"square\",\"r\":1}", NULL});
    /* disjoint because one requires what the other forbids */
    expect("{\"oneOf\":[{\"type\":\"object\",\"properties\":{\"a\":{}},\"additionalProperties\":false},"
           "{\"type\":\"object\",\"required\":[\"b\"]}]}",
           (const char *[]){"{}", "{\"a\":1}", "{\"b\":1}", NULL}, (const char *[]){"[]", NULL});
}

static void test_escapes(void)
{
    /* every escape JSON has, including surrogate pairs, in a string of a
     * given length (escapes count as one character each) */
    expect("{\"type\":\"string\"}",
           (const char *[]){"\"\\\"\"", "\"\\\\\"", "\"\\/\"", "\"\\b\"", "\"\\f\"", "\"\\n\"", "\"\\r\"",
                            "\"\\t\"", "\"\\u00e9\"", "\"\\u00E9\"", "\"\\ud83d\\ude00\"",
                            "\"a\\tb\\nc\\\\d\\\"e\\/f\\u0041\\uD834\\uDD1E\"", NULL},
           (const char *[]){"\"\\ud83d\"", "\"\\ude00\"", "\"\\ud83dx\"", "\"\\ude00\\ud83d\"",
                            "\"\\u0000\"", "\"\\x41\"", "\"\\a\"", "\"\t\"", "\"\\u00g0\"", NULL});
    expect("{\"type\":\"string\",\"minLength\":9,\"maxLength\":9}",
           (const char *[]){"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\ud83d\\ude00\"", NULL},
           (const char *[]){"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", NULL});
    expect("{\"enum\":[\"tab\\there\", \"quote\\\"\", \"\\ud83d\\ude00\"]}",
           (const char *[]){"\"tab\\there\"", "\"quote\\\"\"", NULL}, (const char *[]){"\"tabhere\"", NULL});
    expect("{\"type\":\"object\",\"properties\":{\"k\\tq\":{\"type\":\"string\"}},\"required\":[\"k\\tq\"],"
           "\"additionalProperties\":false}",
           (const char *[]){"{\"k\\tq\":\"\\t\"}", NULL}, (const char *[]){"{\"kq\":\"\"}", NULL});
}

static void test_unknown_keywords(void)
{
    const char *s = "{\"type\":\"object\",\"_format\":\"x\",\"properties\":{\"x\":{\"type\":\"string\","
                    "\"frobnicate\":1,\"readonly\":true}},\"links\":[]}";
    char *gbnf = NULL, *warn = NULL;
    smc_error err = {{0}};
    CHECK_EQ_INT(smc_json_schema_convert(s, strlen(s), 0, &gbnf, &warn, &err), 0);
    CHECK_MSG(warn && strstr(warn, "\"frobnicate\" at #/properties/x") && strstr(warn, "\"_format\" at #") &&
              strstr(warn, "\"links\" at #") && strstr(warn, "\"readonly\""),
              "warnings: %s", warn ? warn : "(none)");
    free(gbnf);
    free(warn);
    smc_grammar *g = compile(s, 0);
    CHECK(g && strstr(smc_grammar_warnings(g), "frobnicate"));
    smc_grammar_free(g);
    g = NULL;
    CHECK(smc_grammar_from_json_schema_ex(s, strlen(s), SMC_JSON_SCHEMA_STRICT, &g, &err) < 0 && !g);
    CHECK_MSG(strstr(err.msg, "\"_format\"") && strstr(err.msg, "at #"), "%s", err.msg);
    /* keywords that are real but not supported are still refused */
    expect_refused("{\"type\":\"array\",\"$dynamicRef\":\"#x\"}", "\"$dynamicRef\"", "at #");
    /* a format no draft defines is an annotation (warned; refused when strict);
     * a defined one that is not enforced is refused */
    const char *byte = "{\"properties\":{\"b\":{\"type\":\"string\",\"format\":\"byte\"}}}";
    CHECK_EQ_INT(smc_json_schema_convert(byte, strlen(byte), 0, &gbnf, &warn, &err), 0);
    CHECK_MSG(warn && strstr(warn, "unknown format \"byte\" at #/properties/b"), "%s", warn ? warn : "(none)");
    free(gbnf);
    free(warn);
    expect(byte, (const char *[]){"{\"b\":\"any thing\"}", NULL}, (const char *[]){"{\"b\":1}", NULL});
    g = NULL;
    CHECK(smc_grammar_from_json_schema_ex(byte, strlen(byte), SMC_JSON_SCHEMA_STRICT, &g, &err) < 0 && !g);
    CHECK_MSG(strstr(err.msg, "\"byte\"") && strstr(err.msg, "#/properties/b"), "%s", err.msg);
    expect_refused("{\"format\":\"regex\"}", "\"regex\"", "at #");
    /* a schema with no warning has none */
    const char *clean = "{\"type\":\"string\",\"title\":\"t\",\"x-vendor\":1}";
    CHECK_EQ_INT(smc_json_schema_convert(clean, strlen(clean), SMC_JSON_SCHEMA_STRICT, &gbnf, &warn, &err), 0);
    CHECK(warn == NULL);
    free(gbnf);
}

/* Keywords compiled by rewriting (json_schema_rewrite.c). */
static void test_rewrites(void)
{
    expect("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"integer\"}},"
           "\"dependentRequired\":{\"a\":[\"b\"]},\"additionalProperties\":false}",
           (const char *[]){"{}", "{\"b\":1}", "{\"a\":1,\"b\":2}", NULL},
           (const char *[]){"{\"a\":1}", NULL});
    expect("{\"type\":\"object\",\"properties\":{\"a\":{},\"b\":{}},\"dependencies\":{\"a\":{\"required\":[\"b\"],"
           "\"properties\":{\"b\":{\"type\":\"string\"}}}},\"additionalProperties\":false}",
           (const char *[]){"{}", "{\"b\":1}", "{\"a\":1,\"b\":\"x\"}", NULL},
           (const char *[]){"{\"a\":1}", "{\"a\":1,\"b\":2}", NULL});
    expect("{\"type\":\"object\",\"required\":[\"a\"],\"properties\":{\"a\":{},\"b\":{}},"
           "\"dependentRequired\":{\"a\":[\"b\"]},\"additionalProperties\":false}",
           (const char *[]){"{\"a\":1,\"b\":2}", NULL}, (const char *[]){"{\"a\":1}", "{}", NULL});
    expect("{\"not\":{\"type\":[\"string\",\"null\"]}}", (const char *[]){"1", "1.5", "[]", "{}", "true", NULL},
           (const char *[]){"\"x\"", "null", NULL});
    /* not {} is the false schema wherever a schema goes */
    expect("{\"type\":\"object\",\"properties\":{\"a\":{\"not\":{}},\"b\":{\"type\":\"integer\"}}}",
           (const char *[]){"{}", "{\"b\":1}", NULL}, (const char *[]){"{\"a\":1}", "{\"a\":null}", NULL});
    expect("{\"anyOf\":[{\"type\":\"string\",\"not\":true},{\"type\":\"integer\"}]}", (const char *[]){"1", NULL},
           (const char *[]){"\"x\"", NULL});
    /* not {required} is "some of them absent" */
    expect("{\"type\":\"object\",\"properties\":{\"a\":{},\"b\":{}},\"not\":{\"required\":[\"a\",\"b\"]}}",
           (const char *[]){"{}", "{\"a\":1}", "{\"b\":1}", NULL}, (const char *[]){"{\"a\":1,\"b\":2}", NULL});
    expect("{\"type\":\"integer\",\"then\":{\"minimum\":5},\"maxContains\":1}",
           (const char *[]){"1", NULL}, (const char *[]){"\"x\"", NULL});
}

/* not and if/then/else through complements (json_schema_negate.c). */
static void test_complements(void)
{
    /* not {required} holds only for objects (non-objects satisfy required) */
    expect("{\"not\":{\"required\":[\"a\"]}}", (const char *[]){"{}", "{\"b\":1}", NULL},
           (const char *[]){"1", "\"x\"", "[]", "{\"a\":1}", NULL});
    expect("{\"not\":{\"type\":\"object\",\"properties\":{\"foo\":{\"type\":\"string\"}}}}",
           (const char *[]){"1", "\"x\"", "{\"foo\":1}", "{\"foo\":null}", NULL},
           (const char *[]){"{}", "{\"foo\":\"x\"}", "{\"bar\":1}", NULL});
    expect("{\"not\":{\"anyOf\":[{\"type\":\"string\",\"minLength\":2},{\"type\":\"array\"}]}}",
           (const char *[]){"\"a\"", "\"\"", "1", "{}", "null", NULL},
           (const char *[]){"\"ab\"", "[]", "[1]", NULL});
    expect("{\"not\":{\"enum\":[\"a\",true,null]}}", (const char *[]){"\"b\"", "\"ab\"", "false", "1", "[]", NULL},
           (const char *[]){"\"a\"", "true", "null", "\"\\u0061\"", NULL});
    /* a discriminator: then/else by the value of "kind" */
    expect("{\"type\":\"object\",\"properties\":{\"kind\":{\"enum\":[\"a\",\"b\"]},\"x\":{},\"y\":{}},"
           "\"required\":[\"kind\"],\"additionalProperties\":false,"
           "\"if\":{\"properties\":{\"kind\":{\"const\":\"a\"}}},\"then\":{\"required\":[\"x\"]},"
           "\"else\":{\"required\":[\"y\"]}}",
           (const char *[]){"{\"kind\":\"a\",\"x\":1}", "{\"kind\":\"b\",\"y\":1}",
                            "{\"kind\":\"a\",\"x\":1,\"y\":2}", NULL},
           (const char *[]){"{\"kind\":\"a\",\"y\":1}", "{\"kind\":\"b\",\"x\":1}", "{\"kind\":\"a\"}",
                            "{\"kind\":\"c\",\"y\":1}", NULL});
    /* numbers: if below 0 then at least -10, else an integer up to 100 */
    expect("{\"if\":{\"exclusiveMaximum\":0},\"then\":{\"minimum\":-10},"
           "\"else\":{\"type\":\"integer\",\"maximum\":100}}",
           (const char *[]){"-10", "-0.5", "0", "100", "\"x\"", "null", NULL},
           (const char *[]){"-11", "-10.5", "101", "0.5", NULL});
    /* if without else: "then" only where "if" holds */
    expect("{\"if\":{\"const\":\"x\"},\"then\":false}", (const char *[]){"\"y\"", "\"xx\"", "\"\"", "1", NULL},
           (const char *[]){"\"x\"", NULL});
    expect("{\"if\":{\"type\":\"string\"},\"else\":{\"type\":\"integer\"}}",
           (const char *[]){"\"s\"", "3", NULL}, (const char *[]){"1.5", "null", "[]", NULL});
    /* not not, not of a $ref, not of if/then/else */
    expect("{\"$defs\":{\"s\":{\"type\":\"string\"}},\"not\":{\"not\":{\"$ref\":\"#/$defs/s\"}}}",
           (const char *[]){"\"a\"", NULL}, (const char *[]){"1", "null", NULL});
    expect("{\"not\":{\"if\":{\"type\":\"string\"},\"then\":{\"maxLength\":1},\"else\":{\"type\":\"null\"}}}",
           (const char *[]){"\"ab\"", "1", "[]", NULL}, (const char *[]){"\"a\"", "null", NULL});
    /* no exact complement: refused, naming the keyword */
    expect_refused("{\"not\":{\"pattern\":\"^a\"}}", "\"not\"", "\"pattern\"");
    expect_refused("{\"not\":{\"type\":\"integer\"}}", "\"not\"", "\"type\"");
    /* numbers other than constants: the open intervals between them */
    expect("{\"not\":{\"enum\":[3,-2,\"a\"]}}", (const char *[]){"0", "2.5", "-3", "4", "\"b\"", NULL},
           (const char *[]){"3", "-2", "\"a\"", NULL});
    expect_refused("{\"properties\":{\"d\":{\"if\":{\"format\":\"date\"},\"then\":{\"maxLength\":3}}}}",
                   "\"if\" at #/properties/d", "\"format\"");
    /* a complement's properties are not "evaluated": b, required by the
     * complement, is unevaluated, so nothing is valid; with a schema for
     * unevaluated properties, b must also meet it */
    expect_refused("{\"properties\":{\"a\":{}},\"not\":{\"properties\":{\"b\":{\"const\":\"x\"}}},"
                   "\"unevaluatedProperties\":false}", "matches nothing", "#");
    expect("{\"type\":\"object\",\"properties\":{\"a\":{}},\"not\":{\"properties\":{\"b\":{\"const\":\"x\"}}},"
           "\"unevaluatedProperties\":{\"type\":\"string\"}}", (const char *[]){"{\"a\":1,\"b\":\"y\"}", NULL},
           (const char *[]){"{\"b\":\"x\"}", "{\"b\":1}", "{\"a\":1}", NULL});
}

/* patternProperties and propertyNames (json_schema_keys.c). */
static void test_object_keys(void)
{
    expect("{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}},"
           "\"patternProperties\":{\"^x-\":{\"type\":\"string\"}},\"additionalProperties\":false}",
           (const char *[]){"{}", "{\"name\":\"a\",\"x-a\":\"b\"}", "{\"x-\":\"c\"}", NULL},
           (const char *[]){"{\"x-a\":1}", "{\"y\":\"a\"}", "{\"name\":1}", "{\"x\":\"a\"}", NULL});
    /* a finite propertyNames: the names declared, each with the patterns it matches */
    expect("{\"properties\":{\"foo\":{\"type\":\"integer\"}},\"patternProperties\":{\"^f\":{\"minimum\":5}},"
           "\"propertyNames\":{\"enum\":[\"foo\",\"fa\"]}}",
           (const char *[]){"{\"foo\":5}", "{\"fa\":\"x\"}", "{\"foo\":6,\"fa\":7}", "{}", "1", NULL},
           (const char *[]){"{\"foo\":4}", "{\"fa\":3}", "{\"b\":1}", "{\"foo\":\"x\"}", NULL});
    expect("{\"type\":\"object\",\"propertyNames\":{\"pattern\":\"^[a-z]+$\"},"
           "\"additionalProperties\":{\"type\":\"integer\"}}",
           (const char *[]){"{}", "{\"ab\":1}", "{\"ab\":1,\"c\":2}", NULL},
           (const char *[]){"{\"A\":1}", "{\"a1\":2}", "{\"ab\":\"x\"}", "{\"\":1}", NULL});
    /* declared names that fail propertyNames are absent */
    expect("{\"properties\":{\"long\":{},\"ok\":{}},\"propertyNames\":{\"maxLength\":3},"
           "\"additionalProperties\":false}",
           (const char *[]){"{\"ok\":1}", "{}", NULL}, (const char *[]){"{\"long\":1}", NULL});
    expect("{\"propertyNames\":false}", (const char *[]){"{}", "1", "[]", NULL},
           (const char *[]){"{\"a\":1}", NULL});
    /* a pattern with the schema of additionalProperties changes no undeclared key */
    expect("{\"properties\":{\"a\":{\"type\":\"integer\"}},\"patternProperties\":{\"^x\":{}}}",
           (const char *[]){"{\"a\":1,\"xy\":[]}", "{\"b\":2}", NULL}, (const char *[]){"{\"a\":\"s\"}", NULL});
    /* otherwise undeclared keys must match a pattern (a sound subset) */
    expect("{\"patternProperties\":{\"^x\":{\"type\":\"integer\"}},\"additionalProperties\":{\"type\":\"string\"}}",
           (const char *[]){"{\"xa\":1}", "{}", NULL}, (const char *[]){"{\"xa\":\"s\"}", NULL});
    /* a declared name the extra keys could spell again: refused */
    expect_refused("{\"properties\":{\"xa\":{}},\"patternProperties\":{\"^x\":{\"type\":\"integer\"}}}",
                   "\"xa\"", "#");
    /* patterns of one allOf part and properties of another do not merge */
    expect_refused("{\"allOf\":[{\"properties\":{\"xa\":{}}},{\"patternProperties\":{\"^x\":{\"type\":\"integer\"}}}]}",
                   "patternProperties", "#");
}

/* Exact multiple test on "-?I(.F)?" texts: value x 10^7 divisible by
 * m x 10^7 (an independent check in integer arithmetic). */
static bool is_multiple(const char *t, long long m7, long long lo7, long long hi7)
{
    bool neg = *t == '-';
    t += neg;
    long long n = 0;
    int fd = -1;
    for (; *t; t++) {
        if (*t == '.') {
            fd = 0;
            continue;
        }
        if (fd >= 7)
            return false;            /* not in the test's range */
        n = n * 10 + (*t - '0');
        fd += fd >= 0;
    }
    for (int i = fd < 0 ? 0 : fd; i < 7; i++)
        n *= 10;
    n = neg ? -n : n;
    return n % m7 == 0 && n >= lo7 && n <= hi7;
}

static void check_multiples(const char *schema, long long m7, long long lo7, long long hi7,
                            bool int_only)
{
    smc_grammar *g = compile(schema, 0);
    if (!g)
        return;
    static const char *const fracs[] = {"", ".0", ".5", ".05", ".25", ".01", ".10", ".125", ".3",
                                        ".30", ".33", ".6", ".500", ".0000001", ".75", ".2", ".02"};
    int bad = 0, n = 0;
    for (int i = -130; i <= 130; i++)
        for (size_t f = 0; f < sizeof fracs / sizeof fracs[0]; f++) {
            char t[40];
            snprintf(t, sizeof t, "%s%d%s", i < 0 ? "-" : "", i < 0 ? -i : i, fracs[f]);
            /* multiples of an integer are written as integers (1.0 refused) */
            bool want = is_multiple(t, m7, lo7, hi7) && !(int_only && strchr(t, '.'));
            bool got = smc_grammar_classify(g, t, strlen(t)) == SMC_MATCH_COMPLETE;
            n++;
            if (want != got && bad++ < 5)
                CHECK_MSG(false, "%s: %s %s", schema, t, got ? "accepted" : "rejected");
        }
    CHECK_MSG(bad == 0, "%s: %d wrong of %d", schema, bad, n);
    smc_grammar_free(g);
}

/* multipleOf on numbers: finite decimals exactly (no exponent). */
static void test_number_multiples(void)
{
    const long long inf = 1LL << 62;
    check_multiples("{\"type\":\"number\",\"multipleOf\":0.01}", 100000, -inf, inf, false);
    check_multiples("{\"type\":\"number\",\"multipleOf\":0.05}", 500000, -inf, inf, false);
    check_multiples("{\"type\":\"number\",\"multipleOf\":2.5}", 25000000, -inf, inf, false);
    check_multiples("{\"type\":\"number\",\"multipleOf\":0.3}", 3000000, -inf, inf, false);
    check_multiples("{\"type\":\"number\",\"multipleOf\":0.125}", 1250000, -inf, inf, false);
    check_multiples("{\"type\":\"number\",\"multipleOf\":4}", 40000000, -inf, inf, true);
    check_multiples("{\"type\":\"number\",\"multipleOf\":0.1,\"minimum\":-5,\"exclusiveMaximum\":100}",
                    1000000, -50000000, 999999999, false);
    expect("{\"type\":\"number\",\"multipleOf\":0.01}", (const char *[]){"1.5000", "-0.07", NULL},
           (const char *[]){"1e2", "0.001", NULL});
    expect_refused("{\"type\":\"number\",\"multipleOf\":0.05,\"minimum\":0}", "\"multipleOf\"", "#");
    /* integers: multiples of 0.75 are the multiples of 3; of 0.01, every integer */
    expect("{\"type\":\"integer\",\"multipleOf\":0.75}", (const char *[]){"0", "3", "-6", "300", NULL},
           (const char *[]){"1", "4", "0.75", NULL});
    expect("{\"type\":\"integer\",\"multipleOf\":1e-8}", (const char *[]){"7", "-1", NULL},
           (const char *[]){"0.5", NULL});
}

/* contains/minContains/maxContains and uniqueItems (json_schema_counting.c). */
static void test_counting(void)
{
    expect("{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"contains\":{\"minimum\":5}}",
           (const char *[]){"[5]", "[1,7]", "[9,1,2]", "[5,6,7]", NULL},
           (const char *[]){"[]", "[1]", "[1,2,4]", "[\"x\",5]", NULL});
    expect("{\"contains\":{\"const\":1},\"minContains\":2,\"maxContains\":3}",
           (const char *[]){"[1,1]", "[1,2,1]", "[1,1,1,0]", "\"s\"", "{}", NULL},
           (const char *[]){"[1]", "[]", "[1,1,1,1]", "[2,1,3]", NULL});
    expect("{\"contains\":{\"type\":\"string\"},\"minContains\":0,\"maxContains\":1}",
           (const char *[]){"[]", "[1]", "[\"a\",2]", NULL}, (const char *[]){"[\"a\",\"b\"]", NULL});
    expect("{\"type\":\"array\",\"items\":{\"enum\":[\"a\",\"b\",\"c\"]},\"uniqueItems\":true,\"minItems\":1}",
           (const char *[]){"[\"a\"]", "[\"c\",\"a\"]", "[\"b\",\"c\",\"a\"]", NULL},
           (const char *[]){"[]", "[\"a\",\"a\"]", "[\"a\",\"b\",\"a\"]", "[\"d\"]", NULL});
    expect("{\"type\":\"array\",\"items\":{\"type\":\"boolean\"},\"uniqueItems\":true}",
           (const char *[]){"[]", "[true]", "[false,true]", NULL},
           (const char *[]){"[true,true]", "[false,true,false]", NULL});
    /* enum values equal as numbers count once; values the other keywords drop are gone */
    expect("{\"items\":{\"enum\":[1,1.0,2,\"x\"],\"type\":\"integer\"},\"uniqueItems\":true}",
           (const char *[]){"[1,2]", "[2]", NULL}, (const char *[]){"[1,1]", "[\"x\"]", "[2,1,2]", NULL});
    expect_refused("{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"uniqueItems\":true}",
                   "\"uniqueItems\"", "#");
    expect_refused("{\"contains\":{\"pattern\":\"^a\"},\"maxContains\":1}", "\"maxContains\"", "\"pattern\"");
}

/* --any-order: every order of the declared properties, each at most once. */
static void test_any_order(void)
{
    const char *schema = "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{},"
                         "\"c\":{\"type\":\"string\"}},\"required\":[\"a\",\"c\"],\"additionalProperties\":false}";
    smc_grammar *g = compile(schema, SMC_JSON_SCHEMA_ANY_ORDER);
    if (!g)
        return;
    static const char *const ok[] = {"{\"a\":1,\"c\":\"x\"}", "{\"c\":\"x\",\"a\":1}", "{\"b\":[],\"c\":\"x\",\"a\":1}",
                                     "{\"c\":\"x\",\"b\":null,\"a\":1}", NULL};
    static const char *const bad[] = {"{\"c\":\"x\"}", "{\"a\":1,\"a\":2,\"c\":\"x\"}", "{\"c\":1,\"a\":1}",
                                      "{\"a\":1,\"c\":\"x\",\"d\":1}", "{\"b\":1,\"a\":1,\"b\":2,\"c\":\"x\"}", NULL};
    for (const char *const *t = ok; *t; t++)
        CHECK_MSG(smc_grammar_classify(g, *t, strlen(*t)) == SMC_MATCH_COMPLETE, "any order rejects %s", *t);
    for (const char *const *t = bad; *t; t++)
        CHECK_MSG(smc_grammar_classify(g, *t, strlen(*t)) != SMC_MATCH_COMPLETE, "any order accepts %s", *t);
    smc_grammar_free(g);
}

/* References by anchor and through the root's $id; nested $id refused. */
static void test_refs(void)
{
    expect("{\"$defs\":{\"n\":{\"$anchor\":\"num\",\"type\":\"integer\"}},\"type\":\"array\",\"items\":{\"$ref\":\"#num\"}}",
           (const char *[]){"[1,2]", "[]", NULL}, (const char *[]){"[\"a\"]", NULL});
    expect("{\"definitions\":{\"s\":{\"$id\":\"#str\",\"type\":\"string\"}},\"properties\":{\"a\":{\"$ref\":\"#str\"}}}",
           (const char *[]){"{\"a\":\"x\"}", NULL}, (const char *[]){"{\"a\":1}", NULL});
    expect("{\"$id\":\"https://example.com/root.json\",\"$defs\":{\"b\":{\"type\":\"boolean\"}},"
           "\"$ref\":\"https://example.com/root.json#/$defs/b\"}",
           (const char *[]){"true", NULL}, (const char *[]){"1", NULL});
    /* two anchors of one name, an anchor in another resource: refused */
    expect_refused("{\"$defs\":{\"a\":{\"$anchor\":\"x\"},\"b\":{\"$anchor\":\"x\"}},\"$ref\":\"#x\"}", "#x", NULL);
    expect_refused("{\"$defs\":{\"a\":{\"$id\":\"other.json\",\"$defs\":{\"c\":{\"$anchor\":\"x\"}}}},"
                   "\"$ref\":\"#x\"}", "#x", NULL);
    expect_refused("{\"$defs\":{\"a\":{\"$id\":\"other.json\",\"$ref\":\"#/$defs/b\",\"$defs\":{\"b\":{}}}},"
                   "\"$ref\":\"#/$defs/a\"}", "own \"$id\"", "#/$defs/a");
}

/* Compile bombs stop with a clear error (never asserting time). */
static void test_bombs(void)
{
    /* a chain of 150,000 GBNF rules: over the rule limit */
    size_t n = 150000, cap = n * 32;
    char *t = malloc(cap);
    size_t len = 0;
    len += (size_t)snprintf(t + len, cap - len, "root ::= r0\n");
    for (size_t i = 0; i + 1 < n; i++)
        len += (size_t)snprintf(t + len, cap - len, "r%zu ::= \"a\" r%zu\n", i, i + 1);
    len += (size_t)snprintf(t + len, cap - len, "r%zu ::= \"a\"\n", n - 1);
    smc_grammar *g = NULL;
    smc_error err = {{0}};
    CHECK(smc_grammar_from_gbnf(t, len, NULL, &g, &err) < 0 && !g);
    CHECK_MSG(strstr(err.msg, "rules"), "%s", err.msg);
    /* 10,000 rules still compile */
    len = (size_t)snprintf(t, cap, "root ::= r0\n");
    for (size_t i = 0; i + 1 < 10000; i++)
        len += (size_t)snprintf(t + len, cap - len, "r%zu ::= \"a\" r%zu\n", i, i + 1);
    len += (size_t)snprintf(t + len, cap - len, "r9999 ::= \"a\"\n");
    CHECK_EQ_INT(smc_grammar_from_gbnf(t, len, NULL, &g, &err), 0);
    smc_grammar_free(g);
    g = NULL;
    /* allOf of three anyOf of 40 alternatives each (64,000 conjunctions), nested three deep */
    len = (size_t)snprintf(t, cap, "{\"allOf\":[");
    for (int j = 0; j < 3; j++) {
        len += (size_t)snprintf(t + len, cap - len, "%s{\"anyOf\":[", j ? "," : "");
        for (int i = 0; i < 40; i++)
            len += (size_t)snprintf(t + len, cap - len, "%s{\"type\":\"object\",\"required\":[\"k%d\"],"
                                    "\"properties\":{\"k%d\":{\"anyOf\":[{\"type\":\"string\"},"
                                    "{\"type\":\"integer\",\"minimum\":%d}]}}}", i ? "," : "", i, i, i);
        len += (size_t)snprintf(t + len, cap - len, "]}");
    }
    len += (size_t)snprintf(t + len, cap - len, "]}");
    CHECK(smc_grammar_from_json_schema(t, len, &g, &err) < 0 && !g);
    CHECK_MSG(strstr(err.msg, "too much") || strstr(err.msg, "too large"), "%s", err.msg);
    free(t);
}

void run_tests(void)
{
    test_big_numbers();
    test_hostname();
    test_uri();
    test_formats();
    test_unevaluated();
    test_oneof();
    test_escapes();
    test_unknown_keywords();
    test_rewrites();
    test_complements();
    test_object_keys();
    test_number_multiples();
    test_counting();
    test_any_order();
    test_refs();
    test_bombs();
}
