/* json_schema_format.c — GBNF for the string formats the converter enforces:
 * date, time, date-time (RFC 3339, exact calendar incl. leap years; T and Z
 * in either case; leap seconds at 23:59:60 UTC only), duration (RFC 3339
 * appendix A), uuid, ipv4, ipv6 (RFC 4291 text forms: "::" compression,
 * embedded IPv4), hostname (labels of 1-63 characters, names of at most 253;
 * see HOST_MANY; no "--" in the 3rd and 4th characters, so no A-labels),
 * idn-hostname (its ASCII subset), a simplified email / idn-email (dot-atom
 * local part @ hostname with 2+ labels; no quoted local parts, no IP
 * literals), uri, uri-reference (RFC 3986, every form), iri, iri-reference
 * (RFC 3987), uri-template (RFC 6570), json-pointer (RFC 6901) and
 * relative-json-pointer. Every expression matches the raw text between the
 * quotes of a JSON string: characters are written unescaped (JSON pointers
 * also take the short escapes), a sound subset. */
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
/* a leap second only at 23:59:60 UTC (Z or a zero offset): other offsets
 * would need one rule each */
#define TIME \
    "( " HOUR " \":\" [0-5] [0-9] \":\" [0-5] [0-9] ( \".\" [0-9]+ )? ( [Zz] | [+\\-] " HOUR \
    " \":\" [0-5] [0-9] ) | \"23:59:60\" ( \".\" [0-9]+ )? ( [Zz] | [+\\-] \"00:00\" ) )"
#define HEX "[0-9a-fA-F]"
#define UUID \
    "( " HEX "{8} \"-\" " HEX "{4} \"-\" " HEX "{4} \"-\" " HEX "{4} \"-\" " HEX "{12} )"
#define ALNUM "[A-Za-z0-9]"
#define LDH "[A-Za-z0-9\\-]"
/* A label of 1..K+5 characters, no hyphen first or last, and not "--" as its
 * 3rd and 4th characters (reserved for A-labels, "xn--", whose punycode a
 * grammar cannot check: refused). Lengths 1, 2, 3, 4, 5.. are disjoint. */
#define LABEL(K) \
    "( " ALNUM " ( " ALNUM " | " LDH " " ALNUM " | " LDH " " LDH " " ALNUM " | " LDH " ( " ALNUM " " LDH \
    " | \"-\" " ALNUM " ) " LDH "{0," #K "} " ALNUM " )? )"
/* Names of at most 253 characters with labels of at most 63, as three
 * disjoint label counts (1-4 labels of <= 62 (the first <= 63), 5-8 of <= 30,
 * 9-16 of <= 14): every name accepted is valid; longer names with many or
 * long labels are refused (a regular grammar cannot count both cheaply). */
#define HOST_MANY(MIN4) \
    "( " LABEL(58) " ( \".\" " LABEL(57) " ){" #MIN4 ",3} | " LABEL(25) " ( \".\" " LABEL(25) \
    " ){4,7} | " LABEL(9) " ( \".\" " LABEL(9) " ){8,15} )"
#define ATEXT "A-Za-z0-9\\x21\\x23-\\x27\\x2A\\x2B\\x2D\\x2F\\x3D\\x3F\\x5E-\\x60\\x7B-\\x7E"
/* local part: dot-atom of CHARS, or a quoted string (RFC 5321 qtext and
 * quoted pairs; in the JSON text the quotes are \" and a backslash \\);
 * domain: a hostname of 2+ labels or an address literal */
#define UTF8_NON_ASCII "\\x80-\\uD7FF\\uE000-\\U0010FFFF"
#define QTEXT "\\x20\\x21\\x23-\\x5B\\x5D-\\x7E"
#define EMAIL_OF(CHARS, QCHARS) \
    "( ( [" CHARS "]+ ( \".\" [" CHARS "]+ )* | \"\\\\\\\"\" ( [" QTEXT QCHARS "] | \"\\\\\\\\\" ( [\\x20\\x21" \
    "\\x23-\\x5B\\x5D-\\x7E] | \"\\\\\\\"\" | \"\\\\\\\\\" ) )* \"\\\\\\\"\" ) \"@\" ( " HOST_MANY(1) \
    " | \"[\" " IPV4 " \"]\" | \"[\" [Ii] [Pp] [Vv] \"6:\" " IPV6 " \"]\" ) )"
#define OCTET "( \"25\" [0-5] | \"2\" [0-4] [0-9] | \"1\" [0-9] [0-9] | [1-9] [0-9] | [0-9] )"
#define IPV4 "( " OCTET " \".\" " OCTET " \".\" " OCTET " \".\" " OCTET " )"
#define HOSTNAME HOST_MANY(0)
/* IPv6 (RFC 4291 2.2, as RFC 3986 writes it): rows by the number of groups
 * after "::", so each address has one parse. */
#define H16 "( " HEX "{1,4} )"
#define LS32 "( " H16 " \":\" " H16 " | " IPV4 " )"
#define H16S(N) "( " H16 " ( \":\" " H16 " ){0," #N "} )?"
#define IPV6 \
    "( ( " H16 " \":\" ){6} " LS32 " | \"::\" ( " H16 " \":\" ){5} " LS32 " | " H16S(0) " \"::\" ( " H16 \
    " \":\" ){4} " LS32 " | " H16S(1) " \"::\" ( " H16 " \":\" ){3} " LS32 " | " H16S(2) " \"::\" ( " H16 \
    " \":\" ){2} " LS32 " | " H16S(3) " \"::\" " H16 " \":\" " LS32 " | " H16S(4) " \"::\" " LS32 \
    " | " H16S(5) " \"::\" " H16 " | " H16S(6) " \"::\" )"
/* RFC 3986 URI / URI-reference and RFC 3987 IRI / IRI-reference, every form;
 * U is the set of unreserved characters inside [...] (IRIs add ucschar),
 * P the characters only a query may add (iprivate). */
#define U_ASCII "A-Za-z0-9\\-._~"
#define UCSCHAR \
    "\\u00A0-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFEF\\U00010000-\\U0001FFFD\\U00020000-\\U0002FFFD" \
    "\\U00030000-\\U0003FFFD\\U00040000-\\U0004FFFD\\U00050000-\\U0005FFFD\\U00060000-\\U0006FFFD" \
    "\\U00070000-\\U0007FFFD\\U00080000-\\U0008FFFD\\U00090000-\\U0009FFFD\\U000A0000-\\U000AFFFD" \
    "\\U000B0000-\\U000BFFFD\\U000C0000-\\U000CFFFD\\U000D0000-\\U000DFFFD\\U000E1000-\\U000EFFFD"
#define IPRIVATE "\\uE000-\\uF8FF\\U000F0000-\\U000FFFFD\\U00100000-\\U0010FFFD"
#define PCT "( \"%\" " HEX " " HEX " )"
#define SUB "!$&'()*+,;="
#define PCHARS(U, EXTRA) "( [" U SUB EXTRA "] | " PCT " )"
#define PATH_ABEMPTY(U) "( \"/\" " PCHARS(U, ":@") "* )*"
#define PATH_ABSOLUTE(U) "( \"/\" ( " PCHARS(U, ":@") "+ " PATH_ABEMPTY(U) " )? )"
#define IPFUTURE "( [vV] " HEX "+ \".\" [" U_ASCII SUB ":]+ )"
#define AUTHORITY(U) \
    "( ( " PCHARS(U, ":") "* \"@\" )? ( \"[\" ( " IPV6 " | " IPFUTURE " ) \"]\" | " PCHARS(U, "") "* ) " \
    "( \":\" [0-9]* )? )"
#define QUERY_FRAGMENT(U, P) "( \"?\" " PCHARS(U P, ":@/?") "* )? ( \"#\" " PCHARS(U, ":@/?") "* )?"
#define SCHEME "( [A-Za-z] [A-Za-z0-9+\\-.]* )"
/* scheme ":" hier-part; FIRST is the first segment of a rootless path */
#define URI_OF(U, P) \
    "( " SCHEME " \":\" ( \"//\" " AUTHORITY(U) " " PATH_ABEMPTY(U) " | " PATH_ABSOLUTE(U) " | " \
    PCHARS(U, ":@") "+ " PATH_ABEMPTY(U) " )? " QUERY_FRAGMENT(U, P) " )"
/* relative-ref: the first segment of a relative path has no ":" */
#define RELATIVE_OF(U, P) \
    "( ( \"//\" " AUTHORITY(U) " " PATH_ABEMPTY(U) " | " PATH_ABSOLUTE(U) " | " PCHARS(U, "@") "+ " \
    PATH_ABEMPTY(U) " )? " QUERY_FRAGMENT(U, P) " )"
/* RFC 6570 level 4 (literals take the apostrophe, as RFC 6570 erratum 6937 and the test suite do) */
#define TEMPLATE_VARCHAR "( [A-Za-z0-9_] | " PCT " )"
#define TEMPLATE_VARSPEC \
    "( " TEMPLATE_VARCHAR " ( \".\"? " TEMPLATE_VARCHAR " )* ( \":\" [1-9] [0-9]{0,3} | \"*\" )? )"
#define URI_TEMPLATE \
    "( [\\x21\\x23\\x24\\x26-\\x3B\\x3D\\x3F-\\x5B\\x5D\\x5F\\x61-\\x7A\\x7E" UCSCHAR IPRIVATE "] | " PCT \
    " | \"{\" [+#./;?&=,!@|]? " TEMPLATE_VARSPEC " ( \",\" " TEMPLATE_VARSPEC " )* \"}\" )*"
/* RFC 6901: any character but "/" and "~", which are written "~1" and "~0";
 * unescaped or with the short JSON escapes */
#define JSON_POINTER "( \"/\" ( [^\"\\\\\\x00-\\x1F/~] | \"~\" [01] | \"\\\\\" [\"\\\\bfnrt] )* )*"
#define RELATIVE_JSON_POINTER "( ( \"0\" | [1-9] [0-9]* ) ( \"#\" | " JSON_POINTER " ) )"
/* RFC 3339 appendix A */
#define DUR_TIME \
    "( \"T\" ( [0-9]+ \"H\" ( [0-9]+ \"M\" ( [0-9]+ \"S\" )? )? | [0-9]+ \"M\" ( [0-9]+ \"S\" )? " \
    "| [0-9]+ \"S\" ) )"
#define DURATION \
    "( \"P\" ( ( [0-9]+ \"D\" | [0-9]+ \"M\" ( [0-9]+ \"D\" )? | [0-9]+ \"Y\" ( [0-9]+ \"M\" ( [0-9]+ " \
    "\"D\" )? )? ) " DUR_TIME "? | " DUR_TIME " | [0-9]+ \"W\" ) )"

static const struct {
    const char *name, *expr;
} formats[] = {
    {"date", DATE},
    {"time", TIME},
    {"date-time", "( " DATE " [Tt] " TIME " )"},
    {"uuid", UUID},
    {"email", EMAIL_OF(ATEXT, "")},
    {"ipv4", IPV4},
    {"hostname", HOSTNAME},
    {"idn-hostname", HOSTNAME},
    {"idn-email", EMAIL_OF(ATEXT UTF8_NON_ASCII, UTF8_NON_ASCII)}, /* RFC 6531 */
    {"ipv6", IPV6},
    {"uri", URI_OF(U_ASCII, "")},
    {"uri-reference", "( " URI_OF(U_ASCII, "") " | " RELATIVE_OF(U_ASCII, "") " )"},
    {"iri", URI_OF(U_ASCII UCSCHAR, IPRIVATE)},
    {"iri-reference", "( " URI_OF(U_ASCII UCSCHAR, IPRIVATE) " | " RELATIVE_OF(U_ASCII UCSCHAR, IPRIVATE) " )"},
    {"uri-template", URI_TEMPLATE},
    {"json-pointer", JSON_POINTER},
    {"relative-json-pointer", RELATIVE_JSON_POINTER},
    {"duration", DURATION},
};

const char *js_format_names(void)
{
    return "date, time, date-time, duration, uuid, email, idn-email, hostname, idn-hostname, ipv4, ipv6, "
           "uri, uri-reference, iri, iri-reference, uri-template, json-pointer, relative-json-pointer";
}

/* Formats some draft defines (draft 3 on): enforced, or refused when not;
 * other names are annotations. */
bool js_format_is_standard(const char *format)
{
    static const char *const refused[] = {"regex", "host-name", "ip-address", "color", "utc-millisec"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (strcmp(refused[i], format) == 0)
            return true;
    return js_format_expr(format) != NULL;
}

const char *js_format_expr(const char *format)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (strcmp(formats[i].name, format) == 0)
            return formats[i].expr;
    return NULL;
}
