#ifndef MAILMAPS_TESTS_ENTRYLIT_H
#define MAILMAPS_TESTS_ENTRYLIT_H

/* entrylit.h - LDAP entries as C literals, for the tests of the mapping
 * (test-account) and of the maps built from it (test-mapbuild). */

#include "maps/entry.h"

/* A value from a string literal, NULs inside included. */
#define V(s) { (s), sizeof(s) - 1 }
/* An attribute with its values. */
#define A(n, ...)                                                             \
    { .name = (n),                                                            \
      .count = sizeof((const struct entry_value[]){ __VA_ARGS__ }) /          \
               sizeof(struct entry_value),                                    \
      .values = (const struct entry_value[]){ __VA_ARGS__ } }

/* The quota rules of a users.cdb record under the default settings. */
#define DEFAULT_RULES                                                         \
    "\tquota_rule=*:storage=10737418240B"                                     \
    "\tquota_rule2=Trash:storage=+524288000B"                                 \
    "\tquota_rule3=Junk:storage=+524288000B"

#endif
