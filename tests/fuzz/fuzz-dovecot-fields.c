/* fuzz-dovecot-fields - users.cdb records from fuzz bytes into Dovecot 2.4
 * fields. A record either fails whole (a reason, no field handed out) or
 * every field handed out has a name and never the password; a callback
 * that stops is obeyed. */

#include <stdint.h>
#include <string.h>

#include "maps/dovecot_fields.h"
#include "maps/userrec.h"

struct seen {
    int fields, stop_at;
};

/* check - every field has a name, none is the password */
static int check(void *ctx, const char *name, const char *value)
{
    struct seen *s = ctx;

    if (name[0] == '\0' || value == NULL || strcmp(name, "password") == 0)
        __builtin_trap();
    if (++s->fields == s->stop_at)
        return 3;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct userrec rec;
    struct seen s = { 0, 0 };
    unsigned int unsup;
    char err[512];

    userrec_init(&rec);
    if (userrec_decode(&rec, (const char *)data, size, err, sizeof(err)) == 0) {
        err[0] = '\0';
        int r = dovecot_fields_24(&rec, check, &s, &unsup, err, sizeof(err));
        if (r == -1 && (s.fields != 0 || err[0] == '\0'))
            __builtin_trap();
        if (r == 0 && rec.count > 0) {
            /* once more, stopping at the first field */
            s.fields = 0;
            s.stop_at = 1;
            r = dovecot_fields_24(&rec, check, &s, &unsup, err, sizeof(err));
            if (r != 0 && (r != 3 || s.fields != 1))
                __builtin_trap();
        }
    }
    userrec_free(&rec);
    return 0;
}
