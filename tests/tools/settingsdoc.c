/* settingsdoc markdown|man|conf - the settings reference, from maps/conf.c's
 * table, in one of the three places that show it: README.md's table
 * (markdown), the SETTINGS section of mailmaps.conf(5) (man) and the body
 * of contrib/mailmaps.conf (conf). scripts/settings-doc puts the output
 * between the markers of each file; t-docs checks that the files hold it.
 *
 * The table's text is one line per setting with `code` in backquotes and
 * no final period; each format turns that into its own markup. */

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "maps/conf.h"

#define CONF_WIDTH 78   /* columns of the sample's comment lines */

/* md_text - s for a Markdown table cell: a '|' would end the cell */
static void md_text(const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '|')
            putchar('\\');
        putchar(*s);
    }
}

/* markdown - one table row per setting */
static void markdown(void)
{
    puts("| setting | default | meaning |");
    puts("|---|---|---|");
    for (size_t i = 0; i < conf_setting_count(); i++) {
        const char *def = conf_setting_default(i);
        printf("| `%s` | ", conf_setting_name(i));
        if (conf_setting_required(i))
            fputs("(required)", stdout);
        else if (def[0] == '\0')
            fputs("empty", stdout);
        else {
            putchar('`');
            md_text(def);
            putchar('`');
        }
        fputs(" | ", stdout);
        md_text(conf_setting_description(i));
        puts(" |");
    }
}

/* man_char - c escaped for roff; in code a '-' is a minus (options, names) */
static void man_char(char c, int code)
{
    if (c == '\\')
        fputs("\\e", stdout);
    else if (c == '-' && code)
        fputs("\\-", stdout);
    else
        putchar(c);
}

/* man_text - s as roff text: `code` in bold, a first letter in capitals, one
 * sentence per line (so that no line starts with a control character) */
static void man_text(const char *s)
{
    int code = 0, bol = 1;
    for (const char *p = s; *p != '\0'; p++) {
        if (bol && (*p == '.' || *p == '\''))
            fputs("\\&", stdout);
        bol = 0;
        if (*p == '`') {
            fputs(code ? "\\fR" : "\\fB", stdout);
            code = !code;
        } else if (p == s && islower((unsigned char)*p)) {
            putchar(toupper((unsigned char)*p));
        } else if (!code && p[0] == '.' && p[1] == ' ' &&
                   (isupper((unsigned char)p[2]) || p[2] == '`') &&
                   !(p - s >= 3 && strncmp(p - 3, "e.g", 3) == 0)) {
            puts(".");
            p++;
            bol = 1;
        } else {
            man_char(*p, code);
        }
    }
    puts(".");
}

/* man - a .TP item per setting, an .SS heading per group */
static void man(void)
{
    for (size_t i = 0; i < conf_setting_count(); i++) {
        const char *def = conf_setting_default(i), *group = conf_setting_group(i);
        if (group != NULL)
            printf(".SS %s\n", group);
        printf(".TP\n\\fB%s\\fR = ", conf_setting_name(i));
        if (conf_setting_required(i))
            fputs("\\fI(required)\\fR", stdout);
        else if (def[0] == '\0')
            fputs("\\fIempty\\fR", stdout);
        for (const char *p = def; *p != '\0'; p++)
            man_char(*p, 1);
        putchar('\n');
        man_text(conf_setting_description(i));
    }
}

/* conf_comment - s (and "(required)") as "# " lines of at most CONF_WIDTH
 * columns, without backquotes, capitalised unless s starts with code, with
 * a final period */
static void conf_comment(const char *s, bool required)
{
    char text[4096];
    size_t n = 0;
    for (const char *p = s; *p != '\0' && n < sizeof(text) - 20; p++)
        if (*p != '`') {
            text[n] = p == s ? (char)toupper((unsigned char)*p) : *p;
            n++;
        }
    text[n] = '\0';
    strcat(text, required ? " (required)." : ".");

    size_t col = 0;
    for (char *save = NULL, *w = strtok_r(text, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        size_t len = strlen(w);
        if (col > 0 && col + 1 + len > CONF_WIDTH) {
            putchar('\n');
            col = 0;
        }
        col += (size_t)printf(col == 0 ? "# %s" : " %s", w);
    }
    putchar('\n');
}

/* conf - each setting commented out with its default, under its group */
static void conf(void)
{
    for (size_t i = 0; i < conf_setting_count(); i++) {
        const char *group = conf_setting_group(i);
        if (group != NULL) {
            putchar('\n');
            int len = printf("# ---- %s ", group);
            for (; len < CONF_WIDTH - 4; len++)
                putchar('-');
            puts("\n");
        }
        conf_comment(conf_setting_description(i), conf_setting_required(i));
        const char *def = conf_setting_default(i);
        printf("#%s =%s%s\n", conf_setting_name(i), def[0] ? " " : "", def);
    }
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "markdown") == 0)
        markdown();
    else if (argc == 2 && strcmp(argv[1], "man") == 0)
        man();
    else if (argc == 2 && strcmp(argv[1], "conf") == 0)
        conf();
    else {
        fputs("usage: settingsdoc markdown|man|conf\n", stderr);
        return 2;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
