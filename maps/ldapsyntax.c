/* ldapsyntax - attribute descriptions, filters: parse, check, escape, evaluate */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "maps/ascii.h"
#include "maps/ldapsyntax.h"

#define ATTR_MAX 256
#define KEYCHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-"

enum lskind { LS_AND, LS_OR, LS_NOT, LS_EQ, LS_PRESENT, LS_OTHER };

/* One node, in prefix order: the children of node i are i+1 .. end-1,
 * each child's subtree ending where the next begins. */
struct lsnode {
    enum lskind kind;
    uint32_t end;            /* index after this node's subtree */
    const char *attr;        /* LS_EQ, LS_PRESENT, LS_OTHER: NUL terminated */
    const char *val;         /* LS_EQ: unescaped, may hold NUL */
    size_t vallen;
};

struct ldapsyntax_filter {
    struct lsnode *node;
    size_t n;
    const char **attr;       /* distinct attribute descriptions */
    size_t nattr;
    char text[];             /* attribute names and unescaped values */
};

/* ldapsyntax_attr_valid - RFC 4512 attributedescription */
bool ldapsyntax_attr_valid(const char *name)
{
    const char *p = name;
    size_t n;

    if (name == NULL || name[0] == '\0' || strlen(name) > ATTR_MAX)
        return false;
    if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) {
        p += strspn(p, KEYCHARS);
    } else if (*p >= '0' && *p <= '9') {
        /* numericoid: number 1*("." number), no empty arcs */
        size_t arcs = 0;
        for (;;) {
            if ((n = strspn(p, "0123456789")) == 0)
                return false;
            p += n;
            arcs++;
            if (*p != '.')
                break;
            p++;
        }
        if (arcs < 2)
            return false;
    } else {
        return false;
    }
    while (*p == ';') {
        p++;
        if ((n = strspn(p, KEYCHARS)) == 0)
            return false;
        p += n;
    }
    return *p == '\0';
}

/* ldapsyntax_escape - an RFC 4515 assertion value */
int ldapsyntax_escape(const char *in, size_t len, char *out, size_t outsz)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    if (out == NULL || outsz == 0 || (in == NULL && len > 0))
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        bool esc = c == '*' || c == '(' || c == ')' || c == '\\' || c == '\0';
        size_t need = esc ? 3 : 1;
        if (outsz - o <= need || o + need > (size_t)INT32_MAX) {
            out[0] = '\0';
            return -1;
        }
        if (esc) {
            out[o++] = '\\';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 0x0f];
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return (int)o;
}

/* The parser's state: text is read at pos; names and values are written
 * to out (inside f). */
struct parser {
    const char *s;
    size_t pos;
    bool gate;
    struct ldapsyntax_filter *f;
    char *out;
    int depth;
    char *why;
    size_t whysz;
};

/* fail - the reason, with the byte where it was found; always -1 */
static int fail(struct parser *p, const char *what)
{
    snprintf(p->why, p->whysz, "not an LDAP filter: %s at byte %zu", what, p->pos + 1);
    return -1;
}

/* hexval - the value of hex digit c, or -1 */
static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* read_value - an assertion value up to the closing ')': unescaped into
 * out (when out is not NULL); *stars_r = unescaped '*' seen, *empty_part_r
 * = two '*' in a row (an empty substring). 0 or -1. */
static int read_value(struct parser *p, char *out, size_t *len_r, size_t *stars_r,
                      bool *empty_part_r)
{
    size_t n = 0, stars = 0;
    bool last_star = false;

    *empty_part_r = false;
    for (;;) {
        char c = p->s[p->pos];
        if (c == ')' || c == '\0')
            break;
        if (c == '(')
            return fail(p, "unescaped '(' in a value");
        if (c == '*') {
            *empty_part_r |= last_star;
            last_star = true;
            stars++;
            p->pos++;
            continue;
        }
        last_star = false;
        if (c == '\\') {
            int hi = hexval(p->s[p->pos + 1]), lo = hi < 0 ? -1 : hexval(p->s[p->pos + 2]);
            if (hi >= 0 && lo >= 0) {
                c = (char)(hi * 16 + lo);
                p->pos += 3;
            } else if (p->s[p->pos + 1] != '\0' && strchr("()*\\", p->s[p->pos + 1]) != NULL) {
                c = p->s[p->pos + 1];    /* the RFC 1960 form libldap still takes */
                p->pos += 2;
            } else {
                return fail(p, "bad escape (\\ and two hex digits)");
            }
        } else {
            p->pos++;
        }
        if (out != NULL)
            out[n] = c;
        n++;
    }
    *len_r = n;
    *stars_r = stars;
    return 0;
}

/* read_attr - an attribute description (or a matching rule) into p->out,
 * NUL terminated; its start in *name_r. 0, or -1 when there is none. */
static int read_attr(struct parser *p, const char **name_r)
{
    size_t n = strspn(p->s + p->pos, KEYCHARS ";.");

    if (n == 0 || n > ATTR_MAX)
        return fail(p, n ? "attribute description too long" : "attribute description expected");
    memcpy(p->out, p->s + p->pos, n);
    p->out[n] = '\0';
    if (!ldapsyntax_attr_valid(p->out))
        return fail(p, "bad attribute description");
    *name_r = p->out;
    p->out += n + 1;
    p->pos += n;
    return 0;
}

/* note_attr - add name to f's list of attributes unless there */
static void note_attr(struct ldapsyntax_filter *f, const char *name)
{
    for (size_t i = 0; i < f->nattr; i++)
        if (strcasecmp(f->attr[i], name) == 0)
            return;
    f->attr[f->nattr++] = name;
}

/* refuse_in_gate - the reason for a filter type outside the subset */
static int refuse_in_gate(struct parser *p, const char *what)
{
    char msg[160];

    snprintf(msg, sizeof(msg), "%s is not accepted here (only equality, presence, &, | and !)",
             what);
    return fail(p, msg);
}

/* parse_extensible - the rest of "attr:dn:rule:=value" from the first ':'
 * (attr may be NULL). 0 or -1. */
static int parse_extensible(struct parser *p, struct lsnode *nd)
{
    const char *rule;
    size_t len, stars;
    bool empty;

    if (p->gate)
        return refuse_in_gate(p, "an extensible match");
    if (strncmp(p->s + p->pos, ":dn", 3) == 0 && (p->s[p->pos + 3] == ':'))
        p->pos += 3;
    if (p->s[p->pos] == ':' && p->s[p->pos + 1] != '=') {
        p->pos++;
        if (read_attr(p, &rule) < 0)
            return -1;
    } else if (nd->attr == NULL) {
        return fail(p, "an extensible match without attribute needs a matching rule");
    }
    if (strncmp(p->s + p->pos, ":=", 2) != 0)
        return fail(p, "':=' expected");
    p->pos += 2;
    if (read_value(p, NULL, &len, &stars, &empty) < 0)
        return -1;
    return stars ? fail(p, "unescaped '*' in an extensible match") : 0;
}

/* parse_item - "attr=value" and its kin, up to the closing ')' */
static int parse_item(struct parser *p, struct lsnode *nd)
{
    size_t len, stars;
    bool empty;

    nd->kind = LS_OTHER;
    if (p->s[p->pos] != ':' && read_attr(p, &nd->attr) < 0)
        return -1;
    if (nd->attr != NULL)
        note_attr(p->f, nd->attr);
    char c = p->s[p->pos];
    if (c == ':')
        return parse_extensible(p, nd);
    if ((c == '~' || c == '>' || c == '<') && p->s[p->pos + 1] == '=') {
        if (p->gate)
            return refuse_in_gate(p, c == '~' ? "'~='" : c == '>' ? "'>='" : "'<='");
        p->pos += 2;
        if (read_value(p, NULL, &len, &stars, &empty) < 0)
            return -1;
        return stars ? fail(p, "unescaped '*' in a value") : 0;
    }
    if (c != '=')
        return fail(p, "'=', '~=', '>=', '<=' or ':' expected");
    p->pos++;
    char *val = p->out;
    if (read_value(p, val, &len, &stars, &empty) < 0)
        return -1;
    if (stars == 1 && len == 0) {
        nd->kind = LS_PRESENT;
        return 0;
    }
    if (stars > 0) {
        if (empty)
            return fail(p, "empty substring between two '*'");
        return p->gate ? refuse_in_gate(p, "a substring match") : 0;
    }
    nd->kind = LS_EQ;
    nd->val = val;
    nd->vallen = len;
    val[len] = '\0';
    p->out += len + 1;
    return 0;
}

/* skip_blanks - libldap skips blanks after '(' and around the filters of
 * a list; filters that relied on it keep working */
static void skip_blanks(struct parser *p)
{
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t')
        p->pos++;
}

/* parse_filter - "(" filtercomp ")" at p->pos */
static int parse_filter(struct parser *p)
{
    if (p->s[p->pos] != '(')
        return fail(p, "'(' expected");
    if (++p->depth > LDAPSYNTAX_DEPTH_MAX)
        return fail(p, "nested too deeply");
    p->pos++;
    skip_blanks(p);
    uint32_t i = (uint32_t)p->f->n++;
    struct lsnode *nd = &p->f->node[i];
    memset(nd, 0, sizeof(*nd));
    char c = p->s[p->pos];
    if (c == '&' || c == '|' || c == '!') {
        nd->kind = c == '&' ? LS_AND : c == '|' ? LS_OR : LS_NOT;
        p->pos++;
        size_t kids = 0;
        for (skip_blanks(p); p->s[p->pos] == '('; skip_blanks(p)) {
            if (parse_filter(p) < 0)
                return -1;
            kids++;
        }
        if (c == '!' && kids != 1)
            return fail(p, "'!' takes exactly one filter");
    } else if (parse_item(p, nd) < 0) {
        return -1;
    }
    if (p->s[p->pos] != ')')
        return fail(p, "')' expected");
    p->pos++;
    p->depth--;
    p->f->node[i].end = (uint32_t)p->f->n;
    return 0;
}

/* ldapsyntax_filter_parse - one allocation holding nodes, names, values */
struct ldapsyntax_filter *ldapsyntax_filter_parse(const char *text, bool gate, char *why,
                                                  size_t whysz)
{
    size_t len = strlen(text), parens = 1;

    for (const char *c = strchr(text, '('); c != NULL; c = strchr(c + 1, '('))
        parens++;
    if (len > UINT32_MAX / 4) {
        snprintf(why, whysz, "not an LDAP filter: too long");
        return NULL;
    }
    /* every name and value is shorter than the text it came from, and
     * each node adds at most two NULs */
    size_t textsz = len + 2 * parens + 1;
    struct ldapsyntax_filter *f = malloc(sizeof(*f) + textsz + parens * sizeof(*f->attr) +
                                         parens * sizeof(*f->node) + sizeof(void *));
    if (f == NULL) {
        snprintf(why, whysz, "out of memory");
        return NULL;
    }
    uintptr_t a = (uintptr_t)(f->text + textsz);
    a = (a + sizeof(void *) - 1) & ~(uintptr_t)(sizeof(void *) - 1);
    f->attr = (const char **)a;
    f->node = (struct lsnode *)(f->attr + parens);
    f->n = f->nattr = 0;
    struct parser p = { text, 0, gate, f, f->text, 0, why, whysz };
    skip_blanks(&p);
    if (parse_filter(&p) < 0) {
        free(f);
        return NULL;
    }
    skip_blanks(&p);
    if (text[p.pos] != '\0' && fail(&p, "text after the filter") < 0) {
        free(f);
        return NULL;
    }
    return f;
}

/* ldapsyntax_filter_free - release a parsed filter */
void ldapsyntax_filter_free(struct ldapsyntax_filter *f)
{
    free(f);
}

/* ldapsyntax_filter_check - parse and forget */
int ldapsyntax_filter_check(const char *text, bool gate, char *why, size_t whysz)
{
    struct ldapsyntax_filter *f = ldapsyntax_filter_parse(text, gate, why, whysz);

    ldapsyntax_filter_free(f);
    return f != NULL ? 0 : -1;
}

/* value_equal - ASCII case-insensitive, lengths equal */
static bool value_equal(const char *a, const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (ascii_lower(a[i]) != ascii_lower(b[i]))
            return false;
    return true;
}

/* attr_holds - some attribute of e called nd->attr (any case; a server
 * may send one attribute in several pieces) has a value (LS_PRESENT) or
 * one equal to nd->val (LS_EQ) */
static bool attr_holds(const struct lsnode *nd, const struct entry *e)
{
    for (size_t i = 0; e->attrs != NULL && i < e->attr_count; i++) {
        const struct entry_attr *at = &e->attrs[i];
        if (at->name == NULL || strcasecmp(at->name, nd->attr) != 0 || at->values == NULL)
            continue;
        if (nd->kind == LS_PRESENT && at->count > 0)
            return true;
        for (size_t k = 0; nd->kind == LS_EQ && k < at->count; k++)
            if (at->values[k].len == nd->vallen &&
                value_equal(at->values[k].data, nd->val, nd->vallen))
                return true;
    }
    return false;
}

/* match - node i of f for e */
static bool match(const struct ldapsyntax_filter *f, uint32_t i, const struct entry *e)
{
    const struct lsnode *nd = &f->node[i];

    switch (nd->kind) {
    case LS_AND:
    case LS_OR:
        for (uint32_t k = i + 1; k < nd->end; k = f->node[k].end)
            if (match(f, k, e) != (nd->kind == LS_AND))
                return nd->kind != LS_AND;
        return nd->kind == LS_AND;
    case LS_NOT:
        return !match(f, i + 1, e);
    case LS_PRESENT:
    case LS_EQ:
        return attr_holds(nd, e);
    default:
        return false;
    }
}

/* ldapsyntax_filter_match - evaluate from the root */
bool ldapsyntax_filter_match(const struct ldapsyntax_filter *f, const struct entry *e)
{
    return f != NULL && f->n > 0 && match(f, 0, e);
}

/* ldapsyntax_filter_attr_count - distinct attribute names */
size_t ldapsyntax_filter_attr_count(const struct ldapsyntax_filter *f)
{
    return f != NULL ? f->nattr : 0;
}

/* ldapsyntax_filter_attr - name i */
const char *ldapsyntax_filter_attr(const struct ldapsyntax_filter *f, size_t i)
{
    return f != NULL && i < f->nattr ? f->attr[i] : NULL;
}
