#ifndef MAILMAPS_USERREC_H
#define MAILMAPS_USERREC_H

/* The users.cdb value: TAB separated name=value fields, in order, e.g.
 *   home=/var/vmail/example.com/alice<TAB>uid=5000<TAB>gid=5000<TAB>
 *   mail=maildir:/var/vmail/example.com/alice/Maildir<TAB>
 *   quota_rule=*:storage=10737418240B<TAB>password={SSHA}…
 * Names are [a-z0-9_]+, at most USERREC_NAME_MAX bytes. Values escape '\\'
 * as "\\\\", TAB as "\\t", newline as "\\n" and CR as "\\r"; no other escape
 * exists. Values may be empty; a record may have no fields (wire form ""),
 * which the map writer refuses as a value. The codec is canonical: what
 * decodes re-encodes to the same bytes. */

#include <stddef.h>

#define USERREC_FIELDS_MAX 64
#define USERREC_NAME_MAX 64

struct userrec_field {
    const char *name;  /* points into the userrec's own storage */
    const char *value; /* unescaped, NUL terminated */
};

struct userrec {
    size_t count;
    struct userrec_field field[USERREC_FIELDS_MAX];
    char *buf;         /* owned storage for names and values */
    size_t buf_size;
};

/* userrec_init / userrec_free - an empty record; free releases storage */
void userrec_init(struct userrec *rec);
void userrec_free(struct userrec *rec);

/* userrec_add - append name=value (copied). -1 on a bad name, too many
 * fields or no memory. */
int userrec_add(struct userrec *rec, const char *name, const char *value);

/* userrec_get - the value of the first field called name, or NULL. The
 * pointer belongs to rec. */
const char *userrec_get(const struct userrec *rec, const char *name);

/* userrec_encode - the wire form into buf (no NUL inside; a NUL is added
 * after it only when bufsz leaves room). Returns the length, or -1 if bufsz
 * is too small (userrec_encoded_size tells the size needed). */
long userrec_encode(const struct userrec *rec, char *buf, size_t bufsz);
size_t userrec_encoded_size(const struct userrec *rec);

/* userrec_value_put - the C string s escaped as a value at o, which has
 * room for twice its length; returns the end (no NUL written). For a
 * writer that lays out a record itself, without a struct userrec and its
 * copies: account_userrec_encode, once per account of a sync. */
char *userrec_value_put(char *o, const char *s);

/* userrec_decode - parse the wire form of len bytes into rec (which must be
 * initialised; it is cleared first). -1 with "field N: reason" on a bad or
 * trailing escape, a raw NUL, CR or LF, an empty field, a field without '=',
 * a bad or empty name; or on too many fields. rec is empty after an error. */
int userrec_decode(struct userrec *rec, const char *data, size_t len,
                   char *err, size_t errsz);

#endif
