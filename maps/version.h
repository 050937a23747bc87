#ifndef MAILMAPS_VERSION_H
#define MAILMAPS_VERSION_H

/* The release, printed by every program's --version and named in NEWS.
 * The one place it is written; packaging reads it from here. */
#define MAILMAPS_VERSION "0.9.0"

#endif
