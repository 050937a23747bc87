/* usage - the usage-source interface: dispatch to the backend */

#include <stdio.h>

#include "maps/usage.h"

/* usage_get - ask the backend, with a reason even when it forgot one */
int usage_get(struct usage_source *src, const struct usage_user *user,
              uint64_t *bytes_r, char *err, size_t errsz)
{
    *bytes_r = 0;
    if (errsz > 0)
        err[0] = '\0';
    if (src == NULL || src->ops == NULL || src->ops->get == NULL) {
        snprintf(err, errsz, "no usage source");
        return -1;
    }
    int r = src->ops->get(src, user, bytes_r, err, errsz);
    if (r < 0) {
        if (errsz > 0 && err[0] == '\0')
            snprintf(err, errsz, "%s: usage unavailable", src->ops->name);
        *bytes_r = 0;
        return -1;
    }
    if (r > 0) {
        if (errsz > 0 && err[0] == '\0')
            snprintf(err, errsz, "%s: no data", src->ops->name);
        *bytes_r = 0;
        return 1;
    }
    return 0;
}

/* usage_free - release through the backend */
void usage_free(struct usage_source *src)
{
    if (src != NULL && src->ops != NULL && src->ops->free != NULL)
        src->ops->free(src);
}

/* usage_name - for log lines */
const char *usage_name(const struct usage_source *src)
{
    return src != NULL && src->ops != NULL ? src->ops->name : "none";
}

/* usage_waits - whether an event loop must leave src to a thread */
bool usage_waits(const struct usage_source *src)
{
    return src != NULL && src->ops != NULL && src->ops->waits;
}
