/* json_schema_format.c — GBNF for the string formats the converter enforces:
 * date, time, date-time (RFC 3339, exact calendar incl. leap years; seconds
 * 00-59, fractions of 1-9 digits, upper-case T and Z), uuid, ipv4, hostname
 * (labels of 1-63 characters, names of at most 253; see HOST_MANY) and a
 * simplified email (dot-atom local part @ hostname with 2+ labels; no
 * quoted local parts, no IP literals). */
#include "constraint/json_schema_internal.h"

#include <string.h>

#define DAY31 "( \"0\" [1-9] | [12] [0-9] | \"3\" [01] )"
#define DAY30 "( \"0\" [1-9] | [12] [0-9] | \"30\" )"
#define DAY28 "( \"0\" [1-9] | \"1\" [0-9] | \"2\" [0-8] )"
#define LEAP_YEAR \
    "( [0-9]{2} ( \"0\" [48] | [2468] [048] | [13579] [26] ) | ( [02468] [048] | [13579] [26] ) \"00\" )"
#define DATE \
    "( [0-9]{4} \"-\" ( ( \"0\" [13578] | \"1\" [02] ) \"-\" " DAY31 \
    " | ( \"0\" [469] | \"11\" ) \"-\" " DAY30 " | \"02-\" " DAY28 " ) | " LEAP_YEAR " \"-02-29\" )"
#define HOUR "( [01] [0-9] | \"2\" [0-3] )"
#define TIME \
    "( " HOUR " \":\" [0-5] [0-9] \":\" [0-5] [0-9] ( \".\" [0-9]{1,9} )? " \
    "( \"Z\" | [+\\-] " HOUR " \":\" [0-5] [0-9] ) )"
#define HEX "[0-9a-fA-F]"
#define UUID \
    "( " HEX "{8} \"-\" " HEX "{4} \"-\" " HEX "{4} \"-\" " HEX "{4} \"-\" " HEX "{12} )"
#define ALNUM "[A-Za-z0-9]"
/* a label of 1..N characters, no hyphen first or last */
#define LABEL(N) "( " ALNUM " ( [A-Za-z0-9\\-]{0," #N "} " ALNUM " )? )"
/* Names of at most 253 characters with labels of at most 63, as three
 * disjoint label counts (1-4 labels of <= 62 (the first <= 63), 5-8 of <= 30,
 * 9-16 of <= 14): every name accepted is valid; longer names with many or
 * long labels are refused (a regular grammar cannot count both cheaply). */
#define HOST_MANY(MIN4) \
    "( " LABEL(61) " ( \".\" " LABEL(60) " ){" #MIN4 ",3} | " LABEL(28) " ( \".\" " LABEL(28) \
    " ){4,7} | " LABEL(12) " ( \".\" " LABEL(12) " ){8,15} )"
#define ATEXT "[A-Za-z0-9\\x21\\x23-\\x27\\x2A\\x2B\\x2D\\x2F\\x3D\\x3F\\x5E-\\x60\\x7B-\\x7E]"
#define EMAIL "( " ATEXT "+ ( \".\" " ATEXT "+ )* \"@\" " HOST_MANY(1) " )"
#define OCTET "( \"25\" [0-5] | \"2\" [0-4] [0-9] | \"1\" [0-9] [0-9] | [1-9] [0-9] | [0-9] )"
#define IPV4 "( " OCTET " \".\" " OCTET " \".\" " OCTET " \".\" " OCTET " )"
#define HOSTNAME HOST_MANY(0)
/* RFC 3986 URIs in two shapes, both valid: scheme "://" reg-name (":" port)?
 * path, or scheme ":" rootless path (mailto:, urn:); query and fragment
 * optional. Not generated: IP-literal hosts, userinfo, empty hosts,
 * absolute paths without authority. */
#define URI_UNRES "[A-Za-z0-9\\-._~]"
#define URI_PCT "( \"%\" " HEX " " HEX " )"
#define URI_SUB "[!$&'()*+,;=]"
#define URI_PCHAR "( " URI_UNRES " | " URI_PCT " | " URI_SUB " | [:@] )"
#define URI_REST \
    "( \"?\" ( " URI_PCHAR " | [/?] )* )? ( \"#\" ( " URI_PCHAR " | [/?] )* )?"
#define URI \
    "( [A-Za-z] [A-Za-z0-9+\\-.]* \":\" ( \"//\" ( " URI_UNRES " | " URI_PCT " | " URI_SUB " )+ " \
    "( \":\" [0-9]* )? ( \"/\" " URI_PCHAR "* )* | " URI_PCHAR "+ ( \"/\" " URI_PCHAR "* )* ) " URI_REST " )"

static const struct {
    const char *name, *expr;
} formats[] = {
    {"date", DATE},
    {"time", TIME},
    {"date-time", "( " DATE " \"T\" " TIME " )"},
    {"uuid", UUID},
    {"email", EMAIL},
    {"ipv4", IPV4},
    {"hostname", HOSTNAME},
    {"uri", URI},
};

const char *js_format_expr(const char *format)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (strcmp(formats[i].name, format) == 0)
            return formats[i].expr;
    return NULL;
}
