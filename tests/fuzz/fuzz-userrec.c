/* fuzz-userrec - the users.cdb codec on fuzz bytes. Whatever decodes must
 * re-encode to the very same bytes (the codec is canonical) and decode again
 * to the same fields. Then the bytes, cut at NULs into values, go through
 * userrec_add, encode and decode and must come back unchanged. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps/userrec.h"

/* same_fields - two records hold the same fields in the same order */
static int same_fields(const struct userrec *a, const struct userrec *b)
{
    if (a->count != b->count)
        return 0;
    for (size_t i = 0; i < a->count; i++) {
        if (strcmp(a->field[i].name, b->field[i].name) != 0 ||
            strcmp(a->field[i].value, b->field[i].value) != 0)
            return 0;
    }
    return 1;
}

/* encode_decode - rec to the wire and back into out; the wire has no NUL,
 * CR or LF */
static void encode_decode(const struct userrec *rec, struct userrec *out)
{
    char err[128];
    size_t need = userrec_encoded_size(rec);
    char *wire = malloc(need + 1);

    if (wire == NULL)
        return;
    if (need > 0 && userrec_encode(rec, wire, need - 1) != -1)
        __builtin_trap();
    if (userrec_encode(rec, wire, need) != (long)need)
        __builtin_trap();
    if (memchr(wire, '\0', need) || memchr(wire, '\n', need) || memchr(wire, '\r', need))
        __builtin_trap();
    if (userrec_decode(out, wire, need, err, sizeof(err)) < 0 || !same_fields(rec, out))
        __builtin_trap();
    free(wire);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct userrec rec, again;
    char err[128];
    const char *in = (const char *)data;

    userrec_init(&rec);
    userrec_init(&again);
    if (userrec_decode(&rec, in, size, err, sizeof(err)) == 0) {
        size_t need = userrec_encoded_size(&rec);
        char *wire = malloc(need + 1);
        if (wire != NULL) {
            if (need != size || userrec_encode(&rec, wire, need + 1) != (long)size ||
                memcmp(wire, data, size) != 0)
                __builtin_trap();
            free(wire);
        }
        encode_decode(&rec, &again);
    } else if (rec.count != 0 || err[0] == '\0') {
        __builtin_trap();
    }

    /* arbitrary values (anything but NUL) survive add, encode, decode */
    userrec_free(&rec);
    char *copy = malloc(size + 1);
    if (copy != NULL) {
        size_t start = 0, n = 0;
        memcpy(copy, data, size);
        copy[size] = '\0';
        for (size_t i = 0; i <= size && n < USERREC_FIELDS_MAX; i++) {
            if (i < size && copy[i] != '\0')
                continue;
            char name[16];
            snprintf(name, sizeof(name), "f%zu", n++);
            if (userrec_add(&rec, name, copy + start) < 0)
                __builtin_trap();
            start = i + 1;
        }
        encode_decode(&rec, &again);
        free(copy);
    }
    userrec_free(&rec);
    userrec_free(&again);
    return 0;
}
