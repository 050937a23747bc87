/* fuzz-ldapsyntax - filters and values from fuzz bytes: a filter the gate
 * accepts also parses in full; what parses evaluates against an entry made
 * of the same bytes without tripping the sanitizers, and its attribute
 * names are valid; an escaped value, put into "(a=VALUE)", parses in the
 * gate and matches an entry holding exactly those bytes (any case). */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maps/ldapsyntax.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check_escape - escaping data makes a filter that finds data */
static void check_escape(const char *data, size_t size)
{
    char *esc = malloc(3 * size + 1), *filter = malloc(3 * size + 8), why[256];

    if (esc == NULL || filter == NULL)
        abort();
    int n = ldapsyntax_escape(data, size, esc, 3 * size + 1);
    if (n < 0 || (size_t)n != strlen(esc))
        abort();
    memcpy(filter, "(a=", 3);
    memcpy(filter + 3, esc, (size_t)n);
    memcpy(filter + 3 + n, ")", 2);
    struct ldapsyntax_filter *f = ldapsyntax_filter_parse(filter, true, why, sizeof(why));
    if (f == NULL)
        abort();
    struct entry_value v = { data, size };
    struct entry_attr a = { "A", 1, &v };
    struct entry e = { "dn", NULL, 1, &a };
    if (!ldapsyntax_filter_match(f, &e))
        abort();
    ldapsyntax_filter_free(f);
    free(esc);
    free(filter);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256];
    char *text = malloc(size + 1);

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    check_escape((const char *)data, size);

    struct ldapsyntax_filter *g = ldapsyntax_filter_parse(text, true, why, sizeof(why));
    struct ldapsyntax_filter *f = ldapsyntax_filter_parse(text, false, why, sizeof(why));
    if (g != NULL && f == NULL)
        abort();
    /* an entry whose attribute names and values are pieces of the input */
    struct entry_value vals[4] = {
        { text, size / 2 }, { text + size / 2, size - size / 2 }, { "", 0 }, { text, size },
    };
    struct entry_attr attrs[2] = { { "a", 4, vals }, { "enabledService", 2, vals + 2 } };
    struct entry e = { "dn", NULL, 2, attrs };
    for (size_t i = 0; g != NULL && i < ldapsyntax_filter_attr_count(g); i++)
        if (!ldapsyntax_attr_valid(ldapsyntax_filter_attr(g, i)))
            abort();
    (void)ldapsyntax_filter_match(g, &e);
    (void)ldapsyntax_filter_match(f, &e);
    ldapsyntax_filter_free(g);
    ldapsyntax_filter_free(f);
    free(text);
    return 0;
}
