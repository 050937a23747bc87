/* test-ascii - ASCII letters fold, nothing else does: not UTF-8, not
 * Latin-1, not punctuation next to the letters, whatever the locale. */

#include <locale.h>
#include <string.h>

#include "maps/ascii.h"
#include "tests/unit/tap.h"

int main(void)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        { "", "" },
        { "alice@example.com", "alice@example.com" },
        { "Alice@Example.COM", "alice@example.com" },
        { "AZaz09", "azaz09" },
        { "@[\\]^_`{", "@[\\]^_`{" },               /* around A-Z and a-z */
        { "M\xc3\x84X", "m\xc3\x84x" },              /* UTF-8 stays */
        { "\xc0\xc9\xde", "\xc0\xc9\xde" },          /* Latin-1 capitals stay */
        { "UID=Bob,OU=People", "uid=bob,ou=people" },
        { "DEADBEEF", "deadbeef" },
    };
    setlocale(LC_ALL, "");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[64], out[64];
        size_t n = strlen(cases[i].in);
        memcpy(buf, cases[i].in, n + 1);
        ascii_lower_mem(buf, n);
        is_str(buf, cases[i].want, "in place: '%s'", cases[i].in);
        memset(out, 'Z', sizeof(out));
        ascii_lower_copy(out, cases[i].in, n);
        out[n] = '\0';
        is_str(out, cases[i].want, "copied: '%s'", cases[i].in);
    }
    char part[] = "ABCDEF";
    ascii_lower_mem(part, 3);
    is_str(part, "abcDEF", "len bounds it");
    int bad = 0;
    for (int c = 0; c < 256; c++) {
        char got = ascii_lower((char)c);
        char want = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        if (got != want)
            bad++;
    }
    is_int(bad, 0, "every byte value");
    return tap_done();
}
