#ifndef MAILMAPS_TESTS_ENTRYLIT_H
#define MAILMAPS_TESTS_ENTRYLIT_H

/* Entries written as literals in the unit tests:
 *   struct entry_attr attrs[] = { A("mail", V("a@example.com")), ... };
 * V: a value from a string literal (NULs inside included); A: an
 * attribute with its values. */

#include "maps/entry.h"

#define V(s) { (s), sizeof(s) - 1 }
#define A(n, ...)                                                             \
    { .name = (n),                                                            \
      .count = sizeof((const struct entry_value[]){ __VA_ARGS__ }) /          \
               sizeof(struct entry_value),                                    \
      .values = (const struct entry_value[]){ __VA_ARGS__ } }

#endif
