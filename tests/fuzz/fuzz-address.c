/* fuzz-address - address_parse on fuzz bytes (NULs included): whatever it
 * accepts must be lower-case, valid UTF-8, rebuild the input exactly, and
 * parse again to itself. The first byte picks the delimiter set. */

#include <stdint.h>
#include <string.h>

#include "maps/address.h"

static const char *const delimiter_sets[] = { NULL, "", "+", "-", "+-", "+-_.", "@", "a" };
#define NSETS (sizeof(delimiter_sets) / sizeof(delimiter_sets[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct address a, again;
    const char *why = NULL, *delims, *in;
    char lowered[ADDRESS_MAX + 1], rebuilt[2 * ADDRESS_MAX + 4];
    size_t len, ll, dl, fl;

    if (size == 0)
        return 0;
    delims = delimiter_sets[data[0] % NSETS];
    in = (const char *)data + 1;
    len = size - 1;
    if (address_parse(in, len, delims, &a, &why) < 0) {
        if (why == NULL || why[0] == '\0')
            __builtin_trap();
        return 0;
    }
    if (len > ADDRESS_MAX)
        __builtin_trap();
    ll = strlen(a.local);
    dl = strlen(a.domain);
    fl = strlen(a.full);
    if (ll == 0 || dl == 0 || fl != ll + 1 + dl || memcmp(a.full, a.local, ll) != 0 ||
        a.full[ll] != '@' || strcmp(a.full + ll + 1, a.domain) != 0)
        __builtin_trap();
    if (!address_utf8_valid(a.full, fl) || !address_domain_valid(a.domain, dl) ||
        strchr(a.domain, '@') != NULL)
        __builtin_trap();
    for (size_t i = 0; i < fl; i++) {
        if ((a.full[i] >= 'A' && a.full[i] <= 'Z') || (unsigned char)a.full[i] <= ' ')
            __builtin_trap();
    }
    if (!a.has_extension && a.extension[0] != '\0')
        __builtin_trap();

    /* local [delimiter extension] @ domain is the input, lower-cased */
    memcpy(lowered, in, len);
    address_lower(lowered, len);
    memcpy(rebuilt, a.local, ll);
    size_t o = ll;
    if (a.has_extension) {
        if (delims == NULL || len <= ll || strchr(delims, lowered[ll]) == NULL)
            __builtin_trap();
        rebuilt[o++] = lowered[ll];
        memcpy(rebuilt + o, a.extension, strlen(a.extension));
        o += strlen(a.extension);
    }
    rebuilt[o++] = '@';
    memcpy(rebuilt + o, a.domain, dl);
    o += dl;
    if (o != len || memcmp(rebuilt, lowered, len) != 0)
        __builtin_trap();

    /* normalised is a fixed point */
    if (address_parse(a.full, fl, NULL, &again, &why) < 0 || strcmp(again.full, a.full) != 0)
        __builtin_trap();
    return 0;
}
