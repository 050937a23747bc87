/* ascii - ASCII case folding, the one rule for all protocol text */

#include "maps/ascii.h"

void ascii_lower_mem(char *s, size_t len)
{
    ascii_lower_copy(s, s, len);
}

void ascii_lower_copy(char *out, const char *in, size_t len)
{
    for (size_t i = 0; i < len; i++)
        out[i] = ascii_lower(in[i]);
}
