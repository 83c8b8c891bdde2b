/* smiles.c — the SMILES critic: is a byte string a valid prefix of a SMILES
 * molecule, or a complete valid molecule?
 *
 * One left-to-right pass builds the atom/bond graph (organic subset and
 * bracket atoms, bonds, branches, ring closures with digits and %nn, reuse of
 * ring numbers). A prefix is rejected only when no continuation can repair it:
 * a syntax error, or an atom whose bond orders already exceed the largest
 * valence its element and charge allow (bonds only ever get added). Atoms
 * that can take no more bonds are checked exactly. A complete string must
 * also close every ring and branch, have only ring atoms marked aromatic, and
 * be kekulizable: the aromatic atoms that need a double bond (by valence,
 * charge and hydrogens, as RDKit decides) must be perfectly matched by
 * aromatic ring bonds (smiles_kekule.c). Valence limits follow RDKit 2022.09,
 * the reference the agreement test compares with — for instance neutral N
 * allows only valence 3, except the nitro / N-oxide / azide forms RDKit
 * rewrites into charge-separated ones (OpenSMILES would also allow 5). */
#include "potentials/smiles_mol.h"
#include "potentials/elements.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(smiles_mol *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->reason, sizeof m->reason, fmt, ap);
    va_end(ap);
    return -1;
}

static int add_atom(smiles_mol *m, const smiles_atom *a)
{
    if (m->n_atoms == m->cap_atoms) {
        int cap = m->cap_atoms ? m->cap_atoms * 2 : 32;
        smiles_atom *p = realloc(m->atoms, (size_t)cap * sizeof *p);
        if (!p)
            return fail(m, "out of memory");
        m->atoms = p;
        m->cap_atoms = cap;
    }
    m->atoms[m->n_atoms] = *a;
    m->atoms[m->n_atoms].first_bond = -1;
    return m->n_atoms++;
}

/* Largest valence allowed while the atom may still be rewritten by RDKit's
 * clean-up (neutral 5-valent N, neutral 7-valent Cl/Br/I). */
static int loose_max_valence(const smiles_atom *a)
{
    int mx = smc_element_max_valence(a->z, a->charge);
    if (mx < 0 || (a->z == 1 && a->charge > 0)) /* RDKit takes "[HH3+]C" but not "C[H+]C" */
        return -1;
    if (a->charge == 0 && a->z == 7)
        mx = 5;
    if (a->charge == 0 && (a->z == 17 || a->z == 35 || a->z == 53))
        mx = 7;
    /* RDKit forgives an aromatic atom up to 1.5 over its valence */
    return a->aromatic ? mx + 1 : mx;
}

static int check_lower_bound(smiles_mol *m, int i)
{
    const smiles_atom *a = &m->atoms[i];
    int mx = loose_max_valence(a);
    if (mx >= 0 && a->bond_sum + a->hcount > mx)
        return fail(m, "atom %d (%s%s) has valence %d, more than %d", i + 1,
                    smc_element_symbol(a->z), a->aromatic ? ", aromatic" : "",
                    a->bond_sum + a->hcount, mx);
    return 0;
}

static bool bonded(const smiles_mol *m, int a, int b)
{
    for (int k = m->atoms[a].first_bond; k >= 0;) {
        const smiles_bond *bd = &m->bonds[k];
        if (bd->a == b || bd->b == b)
            return true;
        k = bd->a == a ? bd->next_a : bd->next_b;
    }
    return false;
}

static int add_bond(smiles_mol *m, int a, int b, int order, bool ring_closure)
{
    if (a == b)
        return fail(m, "ring closure bonds atom %d to itself", a + 1);
    if (ring_closure && bonded(m, a, b))
        return fail(m, "atoms %d and %d are bonded twice", a + 1, b + 1);
    /* unmarked and directional bonds are aromatic between aromatic atoms */
    if (order == 0 || order == SMILES_DIRECTIONAL)
        order = m->atoms[a].aromatic && m->atoms[b].aromatic ? SMILES_AROMATIC : 1;
    if (m->n_bonds == m->cap_bonds) {
        int cap = m->cap_bonds ? m->cap_bonds * 2 : 32;
        smiles_bond *p = realloc(m->bonds, (size_t)cap * sizeof *p);
        if (!p)
            return fail(m, "out of memory");
        m->bonds = p;
        m->cap_bonds = cap;
    }
    m->bonds[m->n_bonds] = (smiles_bond){a, b, order, m->atoms[a].first_bond, m->atoms[b].first_bond};
    m->atoms[a].first_bond = m->atoms[b].first_bond = m->n_bonds++;
    int lb = order == SMILES_AROMATIC ? 1 : order;
    m->atoms[a].bond_sum += lb;
    m->atoms[b].bond_sum += lb;
    m->atoms[a].degree++;
    m->atoms[b].degree++;
    if (check_lower_bound(m, a) < 0 || check_lower_bound(m, b) < 0)
        return -1;
    return 0;
}

/* Bond symbol → order code; 0 when c is not a bond symbol. */
static int bond_code(char c)
{
    switch (c) {
    case '-': return 1;
    case '/': case '\\': return SMILES_DIRECTIONAL;
    case '=': return 2;
    case '#': return 3;
    case '$': return 4;
    case ':': return SMILES_AROMATIC;
    default: return 0;
    }
}

/* Reads digits starting at *p (at most maxd); returns count read. */
static int read_number(const char *s, size_t n, size_t *p, int maxd, int *value)
{
    int k = 0, v = 0;
    while (*p < n && k < maxd && isdigit((unsigned char)s[*p])) {
        v = v * 10 + (s[*p] - '0');
        (*p)++;
        k++;
    }
    *value = v;
    return k;
}

/* Parses a bracket atom starting after '['. Returns 1 when complete (and
 * *p after ']'), 0 when the input ends inside it (a valid prefix so far),
 * -1 on a syntax error. */
static int parse_bracket(smiles_mol *m, const char *s, size_t n, size_t *p, smiles_atom *a)
{
    int v;
    memset(a, 0, sizeof *a);
    a->bracket = true;
    read_number(s, n, p, 4, &v); /* isotope */
    if (*p >= n)
        return 0;
    if (isdigit((unsigned char)s[*p]))
        return fail(m, "isotope too long");
    char c = s[*p];
    if (c == '*') {
        a->z = 0;
        (*p)++;
    } else if (islower((unsigned char)c)) {
        /* aromatic: b c n o p s, and two-letter se as te si ge sb */
        if (*p + 1 >= n && strchr("sat", c))
            return 0;
        static const char *const two[] = {"se", "as", "te", "si", "ge", "sb"};
        int z = -1;
        for (size_t i = 0; i < sizeof two / sizeof two[0]; i++)
            if (*p + 1 < n && s[*p] == two[i][0] && s[*p + 1] == two[i][1]) {
                char up[2] = {(char)toupper((unsigned char)two[i][0]), two[i][1]};
                z = smc_element_lookup(up, 2);
                *p += 2;
                break;
            }
        if (z < 0 && strchr("bcnops", c)) {
            char up = (char)toupper((unsigned char)c);
            z = smc_element_lookup(&up, 1);
            (*p)++;
        }
        if (z < 0)
            return fail(m, "unknown aromatic element in brackets");
        a->z = z;
        a->aromatic = true;
    } else if (isupper((unsigned char)c)) {
        int z = -1;
        if (*p + 1 < n && islower((unsigned char)s[*p + 1]))
            z = smc_element_lookup(s + *p, 2);
        if (z >= 0) {
            *p += 2;
        } else {
            z = smc_element_lookup(s + *p, 1);
            if (z < 0) {
                if (*p + 1 >= n)
                    return 0; /* e.g. "[Z" may become "[Zn" */
                return fail(m, "unknown element in brackets");
            }
            (*p)++;
            /* "[X" where "Xy" is an element and y has not come yet */
            if (*p >= n)
                return 0;
        }
        a->z = z;
    } else {
        return fail(m, "bracket atom needs an element");
    }
    if (*p >= n)
        return 0;
    /* chirality */
    if (s[*p] == '@') {
        (*p)++;
        if (*p < n && s[*p] == '@') {
            (*p)++;
        } else if (*p < n && isupper((unsigned char)s[*p]) && s[*p] != 'H') {
            static const char *const cls[] = {"TH", "AL", "SP", "TB", "OH"};
            if (*p + 1 >= n)
                return 0;
            bool ok = false;
            for (int i = 0; i < 5; i++)
                if (s[*p] == cls[i][0] && s[*p + 1] == cls[i][1])
                    ok = true;
            if (!ok)
                return fail(m, "bad chirality class");
            *p += 2;
            if (*p >= n)
                return 0;
            read_number(s, n, p, 2, &v); /* RDKit also takes "@OH" alone */
        }
        if (*p >= n)
            return 0;
    }
    /* hydrogens */
    if (s[*p] == 'H') {
        (*p)++;
        a->hcount = 1;
        if (*p >= n)
            return 0;
        if (read_number(s, n, p, 1, &v) == 1)
            a->hcount = v;
        if (*p >= n)
            return 0;
    }
    /* charge */
    if (s[*p] == '+' || s[*p] == '-') {
        int sign = s[*p] == '+' ? 1 : -1;
        char sc = s[*p];
        (*p)++;
        a->charge = sign;
        if (*p >= n)
            return 0;
        if (s[*p] == sc) {
            (*p)++;
            a->charge = 2 * sign;
        } else if (read_number(s, n, p, 2, &v) > 0) {
            a->charge = sign * v;
        }
        if (*p >= n)
            return 0;
    }
    /* atom class */
    if (s[*p] == ':') {
        (*p)++;
        if (*p >= n)
            return 0;
        if (read_number(s, n, p, 8, &v) == 0)
            return fail(m, "atom class needs a number");
        if (*p >= n)
            return 0;
    }
    if (s[*p] != ']')
        return fail(m, "unexpected '%c' in bracket atom", s[*p]);
    (*p)++;
    return 1;
}

/* Organic-subset atom at s[*p]; returns 1 parsed, 0 not an atom start. */
static int parse_organic(const char *s, size_t n, size_t *p, smiles_atom *a)
{
    memset(a, 0, sizeof *a);
    a->hcount = 0;
    char c = s[*p];
    int z = -1;
    bool arom = false;
    switch (c) {
    case 'B':
        z = 5;
        if (*p + 1 < n && s[*p + 1] == 'r') {
            z = 35;
            (*p)++;
        }
        break;
    case 'C':
        z = 6;
        if (*p + 1 < n && s[*p + 1] == 'l') {
            z = 17;
            (*p)++;
        }
        break;
    case 'N': z = 7; break;
    case 'O': z = 8; break;
    case 'P': z = 15; break;
    case 'S': z = 16; break;
    case 'F': z = 9; break;
    case 'I': z = 53; break;
    case '*': z = 0; break;
    case 'b': z = 5; arom = true; break;
    case 'c': z = 6; arom = true; break;
    case 'n': z = 7; arom = true; break;
    case 'o': z = 8; arom = true; break;
    case 'p': z = 15; arom = true; break;
    case 's': z = 16; arom = true; break;
    default: return 0;
    }
    (*p)++;
    a->z = z;
    a->aromatic = arom;
    return 1;
}

/* What may come next: only an atom (start, after '.', or after a bond that
 * opens a branch, since RDKit takes no ring number there); anything after an
 * atom; an atom or ring number after a bond; a bond or atom after '('. */
enum { EXPECT_ATOM_ONLY, EXPECT_AFTER_ATOM, EXPECT_AFTER_BOND, EXPECT_AFTER_OPEN, EXPECT_AFTER_OPEN_BOND };

void smiles_mol_free(smiles_mol *m)
{
    free(m->atoms);
    free(m->bonds);
    free(m->stack);
    free(m->adj_start);
    free(m->adj);
    memset(m, 0, sizeof *m);
}

int smiles_parse(smiles_mol *m, const char *s, size_t n)
{
    memset(m, 0, sizeof *m);
    for (int i = 0; i < 100; i++)
        m->ring_atom[i] = -1;
    int cur = -1;
    int pending = 0;             /* bond order code waiting for its atom */
    int expect = EXPECT_ATOM_ONLY;
    size_t p = 0;
    while (p < n) {
        char c = s[p];
        smiles_atom a;
        if (c == '[' || parse_organic(s, n, &p, &a)) {
            if (expect == EXPECT_AFTER_ATOM && cur < 0)
                return fail(m, "internal state");
            if (c == '[') {
                p++;
                int r = parse_bracket(m, s, n, &p, &a);
                if (r < 0)
                    return -1;
                if (r == 0) {
                    m->truncated_atom = true;
                    break;
                }
            }
            int id = add_atom(m, &a);
            if (id < 0)
                return -1;
            if (check_lower_bound(m, id) < 0)
                return -1;
            if (cur >= 0 && expect != EXPECT_ATOM_ONLY) {
                if (add_bond(m, cur, id, pending, false) < 0)
                    return -1;
            }
            pending = 0;
            cur = id;
            expect = EXPECT_AFTER_ATOM;
            continue;
        }
        if (bond_code(c)) {
            if (expect != EXPECT_AFTER_ATOM && expect != EXPECT_AFTER_OPEN)
                return fail(m, "bond '%c' at offset %zu must follow an atom", c, p);
            pending = bond_code(c);
            expect = expect == EXPECT_AFTER_OPEN ? EXPECT_AFTER_OPEN_BOND : EXPECT_AFTER_BOND;
            p++;
            if (c == '\\' && p < n && s[p] == '\\')
                p++; /* "\\" (an escaped backslash) is one bond for RDKit */
            continue;
        }
        if (c == '(') {
            if (expect != EXPECT_AFTER_ATOM)
                return fail(m, "'(' at offset %zu must follow an atom", p);
            if (m->n_stack == m->cap_stack) {
                int cap = m->cap_stack ? m->cap_stack * 2 : 16;
                int *q = realloc(m->stack, (size_t)cap * sizeof *q);
                if (!q)
                    return fail(m, "out of memory");
                m->stack = q;
                m->cap_stack = cap;
            }
            m->stack[m->n_stack++] = cur;
            expect = EXPECT_AFTER_OPEN;
            p++;
            continue;
        }
        if (c == ')') {
            if (expect != EXPECT_AFTER_ATOM)
                return fail(m, "')' at offset %zu must follow an atom", p);
            if (m->n_stack == 0)
                return fail(m, "unbalanced ')' at offset %zu", p);
            cur = m->stack[--m->n_stack];
            expect = EXPECT_AFTER_ATOM;
            p++;
            continue;
        }
        if (isdigit((unsigned char)c) || c == '%') {
            if (expect != EXPECT_AFTER_ATOM && expect != EXPECT_AFTER_BOND)
                return fail(m, "ring number at offset %zu must follow an atom", p);
            if (cur < 0)
                return fail(m, "ring number without an atom");
            int num;
            if (c == '%') {
                p++;
                int k = read_number(s, n, &p, 2, &num);
                if (p >= n && k < 2) {
                    m->truncated_ring = pending ? pending : 1;
                    break;
                }
                if (k < 2)
                    return fail(m, "'%%' needs two digits");
            } else {
                num = c - '0';
                p++;
            }
            if (m->ring_atom[num] < 0) {
                m->ring_atom[num] = cur;
                m->ring_order[num] = pending;
                m->n_open_rings++;
                /* the ring bond will add at least this much to cur */
                m->atoms[cur].bond_sum += pending == 0 || pending >= SMILES_AROMATIC ? 1 : pending;
                m->atoms[cur].open_rings++;
                if (check_lower_bound(m, cur) < 0)
                    return -1;
            } else {
                int other = m->ring_atom[num];
                int ro = m->ring_order[num];
                m->atoms[other].bond_sum -= ro == 0 || ro >= SMILES_AROMATIC ? 1 : ro;
                m->atoms[other].open_rings--;
                m->ring_atom[num] = -1;
                m->n_open_rings--;
                int order = ro ? ro : pending;
                if (add_bond(m, other, cur, order, true) < 0)
                    return -1;
            }
            pending = 0;
            expect = EXPECT_AFTER_ATOM;
            continue;
        }
        if (c == '.') {
            if (expect != EXPECT_AFTER_ATOM)
                return fail(m, "'.' at offset %zu must follow an atom", p);
            cur = -1;
            expect = EXPECT_ATOM_ONLY;
            p++;
            continue;
        }
        return fail(m, "unexpected byte 0x%02x at offset %zu", (unsigned char)c, p);
    }
    m->cur = cur;
    m->pending = pending;
    m->expect_more = expect != EXPECT_AFTER_ATOM || m->truncated_atom || m->truncated_ring;
    /* A bond waiting for its atom (a trailing bond symbol, a half-read
     * bracket atom or %nn) still adds at least its order to the current atom. */
    bool dangling = cur >= 0 && (expect == EXPECT_AFTER_BOND || expect == EXPECT_AFTER_OPEN_BOND || m->truncated_ring ||
                                 (m->truncated_atom && expect != EXPECT_ATOM_ONLY));
    if (dangling) {
        int code = m->truncated_ring ? m->truncated_ring : pending;
        int lb = code == 0 || code >= SMILES_AROMATIC ? 1 : code;
        m->atoms[cur].bond_sum += lb;
        int r = check_lower_bound(m, cur);
        m->atoms[cur].bond_sum -= lb;
        if (r < 0)
            return -1;
    }
    return 0;
}

static void set_reason(char *reason, size_t cap, const char *msg)
{
    if (reason && cap) {
        size_t k = strlen(msg);
        if (k >= cap)
            k = cap - 1;
        memcpy(reason, msg, k);
        reason[k] = '\0';
    }
}

smc_verdict smc_smiles_check(const char *s, size_t n, bool complete, char *reason, size_t reason_cap)
{
    smiles_mol m;
    set_reason(reason, reason_cap, "");
    if (!s)
        s = "", n = 0;
    if (smiles_parse(&m, s ? s : "", n) < 0) {
        set_reason(reason, reason_cap, m.reason);
        smiles_mol_free(&m);
        return SMC_VERDICT_INVALID;
    }
    int r = smiles_check_closed_atoms(&m);
    if (r == 0 && complete)
        r = smiles_finish(&m);
    if (r < 0)
        set_reason(reason, reason_cap, m.reason);
    smiles_mol_free(&m);
    if (r < 0)
        return SMC_VERDICT_INVALID;
    return complete ? SMC_VERDICT_COMPLETE : SMC_VERDICT_PREFIX;
}

double smc_verdict_logw(smc_verdict v)
{
    return v == SMC_VERDICT_INVALID ? -INFINITY : 0.0;
}
