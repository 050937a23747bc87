/* test-dovecot-fields - users.cdb records (Dovecot 2.3 fields) as Dovecot 2.4
 * userdb fields: every quota rule form, every mail location form, what 2.4
 * cannot express, and records that must fail whole. */

#include <stdio.h>
#include <string.h>

#include "maps/dovecot_fields.h"
#include "maps/userrec.h"
#include "tests/unit/tap.h"

/* collect - append "name=value\n" to a buffer */
struct out {
    char buf[4096];
    size_t len;
    int stop_after; /* stop with 7 after this many fields (0 = never) */
    int n;
};

static int collect(void *ctx, const char *name, const char *value)
{
    struct out *o = ctx;
    int n = snprintf(o->buf + o->len, sizeof(o->buf) - o->len, "%s=%s\n", name, value);
    if (n > 0)
        o->len += (size_t)n;
    if (o->stop_after > 0 && ++o->n >= o->stop_after)
        return 7;
    return 0;
}

/* run - translate a record in wire form; returns the result code */
static int run(const char *wire, struct out *o, unsigned int *unsup, char *err, size_t errsz)
{
    struct userrec rec;
    char why[256];
    int r;

    userrec_init(&rec);
    if (userrec_decode(&rec, wire, strlen(wire), why, sizeof(why)) < 0) {
        snprintf(err, errsz, "decode: %s", why);
        userrec_free(&rec);
        return -2;
    }
    memset(o, 0, sizeof(*o));
    err[0] = '\0';
    r = dovecot_fields_24(&rec, collect, o, unsup, err, errsz);
    userrec_free(&rec);
    return r;
}

static const struct {
    const char *name, *in, *want;
    unsigned int unsupported;
} cases[] = {
    { "plain fields pass, password stays out",
      "home=/v/a\tuid=5000\tgid=5000\tpassword={SSHA}x",
      "home=/v/a\nuid=5000\ngid=5000\n", 0 },
    { "user= (an alias login, alias_login = yes) keeps its name",
      "home=/v/a\tuid=5000\tgid=5000\tpassword={SSHA}x\tuser=alice@example.com",
      "home=/v/a\nuid=5000\ngid=5000\nuser=alice@example.com\n", 0 },
    { "base rule in bytes",
      "quota_rule=*:storage=1048576B", "quota_storage_size=1048576B\n", 0 },
    { "base rule 0 is unlimited",
      "quota_rule=*:storage=0", "quota_storage_size=unlimited\n", 0 },
    { "base message limit",
      "quota_rule=*:storage=1024B:messages=100",
      "quota_storage_size=1024B\nquota_message_count=100\n", 0 },
    { "+N folder rule: quota_storage_extra",
      "quota_rule=*:storage=1048576B\tquota_rule2=Trash:storage=+524288B",
      "quota_storage_size=1048576B\nmailbox/Trash/quota_storage_extra=524288B\n", 0 },
    { "N folder rule: added to the base as 2.3 does",
      "quota_rule=*:storage=1048576B\tquota_rule2=Archive:storage=2097152B",
      "quota_storage_size=1048576B\nmailbox/Archive/quota_storage_extra=2097152B\n", 0 },
    { "ignore",
      "quota_rule=*:storage=1048576B\tquota_rule2=Junk:ignore",
      "quota_storage_size=1048576B\nmailbox/Junk/quota_ignore=yes\n", 0 },
    { "negative rule: the folder's limit itself",
      "quota_rule=*:storage=1048576B\tquota_rule2=Sent:storage=-524288B",
      "quota_storage_size=1048576B\nmailbox/Sent/quota_storage_size=524288B\n", 0 },
    { "negative rule down to nothing: no limit, as 2.3",
      "quota_rule=*:storage=1048576B\tquota_rule2=Sent:storage=-2097152B",
      "quota_storage_size=1048576B\nmailbox/Sent/quota_storage_size=unlimited\n", 0 },
    { "percentage rule: the folder's limit",
      "quota_rule=*:storage=1000000B\tquota_rule2=Spam:storage=+10%",
      "quota_storage_size=1000000B\nmailbox/Spam/quota_storage_size=1100000B\n", 0 },
    { "folder rule under an unlimited base: unlimited there too",
      "quota_rule=*:storage=0\tquota_rule2=Trash:storage=+524288B",
      "quota_storage_size=unlimited\nmailbox/Trash/quota_storage_size=unlimited\n", 0 },
    { "all rules at the first rule's place, later ones merged",
      "home=/h\tquota_rule=*:storage=1024B\tuid=1\tquota_rule2=Trash:storage=+1B"
      "\tquota_rule3=Trash:storage=+2B",
      "home=/h\nquota_storage_size=1024B\nmailbox/Trash/quota_storage_extra=2B\nuid=1\n", 0 },
    { "folder messages: left out and named",
      "quota_rule=*:storage=1024B\tquota_rule2=Trash:storage=+1B:messages=+10",
      "quota_storage_size=1024B\nmailbox/Trash/quota_storage_extra=1B\n",
      DOVECOT_FIELDS_FOLDER_MESSAGES },
    { "folder with '/': left out and named",
      "quota_rule=*:storage=1024B\tquota_rule2=Archive/2024:ignore",
      "quota_storage_size=1024B\n", DOVECOT_FIELDS_FOLDER_SLASH },
    { "maildir:PATH",
      "mail=maildir:/v/a/Maildir/", "mail_driver=maildir\nmail_path=/v/a/Maildir/\n", 0 },
    { "INDEX CONTROL LAYOUT",
      "mail=maildir:/v/a/Maildir:INDEX=/idx/a:CONTROL=/ctl/a:LAYOUT=fs",
      "mail_driver=maildir\nmail_path=/v/a/Maildir\nmail_index_path=/idx/a\n"
      "mail_control_path=/ctl/a\nmailbox_list_layout=fs\n", 0 },
    { "INBOX INDEXPVT INDEXCACHE ALT VOLATILEDIR",
      "mail=mdbox:/v/a:INBOX=/in:INDEXPVT=/pvt:INDEXCACHE=/c:ALT=/alt:VOLATILEDIR=/vol",
      "mail_driver=mdbox\nmail_path=/v/a\nmail_inbox_path=/in\nmail_index_private_path=/pvt\n"
      "mail_cache_path=/c\nmail_alt_path=/alt\nmail_volatile_path=/vol\n", 0 },
    { "SUBSCRIPTIONS DIRNAME MAILBOXDIR LISTINDEX BROKENCHAR",
      "mail=sdbox:/v/a:SUBSCRIPTIONS=subs:DIRNAME=dbox-Mails:MAILBOXDIR=boxes"
      ":LISTINDEX=list.index:BROKENCHAR=~",
      "mail_driver=sdbox\nmail_path=/v/a\nmailbox_subscriptions_filename=subs\n"
      "mailbox_directory_name=dbox-Mails\nmailbox_directory_name_legacy=no\n"
      "mailbox_root_directory_name=boxes\nmailbox_list_index_prefix=list.index\n"
      "mailbox_list_visible_escape_char=~\n", 0 },
    { "FULLDIRNAME and the flags",
      "mail=maildir:/v/a:FULLDIRNAME=x:ITERINDEX:NO-NOSELECT:NO-FS-VALIDATION:UTF-8:ALTNOCHECK",
      "mail_driver=maildir\nmail_path=/v/a\nmailbox_directory_name=x\n"
      "mailbox_directory_name_legacy=yes\nmailbox_list_iter_from_index_dir=yes\n"
      "mailbox_list_drop_noselect=yes\nmailbox_list_validate_fs_names=no\n"
      "mailbox_list_utf8=yes\nmail_alt_check=no\n", 0 },
    { "'::' is a colon in a path",
      "mail=maildir:/v/a::b/Maildir:INDEX=/i::x",
      "mail_driver=maildir\nmail_path=/v/a:b/Maildir\nmail_index_path=/i:x\n", 0 },
    { "empty path",
      "mail=maildir:", "mail_driver=maildir\n", 0 },
    { "a whole record in order",
      "home=/v/e/a\tuid=5000\tgid=5000\tmail=maildir:/v/e/a/Maildir/"
      "\tquota_rule=*:storage=1048576B\tquota_rule2=Trash:storage=+524288000B"
      "\tquota_rule3=Junk:ignore\tpassword={SHA512-CRYPT}$6$x",
      "home=/v/e/a\nuid=5000\ngid=5000\nmail_driver=maildir\nmail_path=/v/e/a/Maildir/\n"
      "quota_storage_size=1048576B\nmailbox/Trash/quota_storage_extra=524288000B\n"
      "mailbox/Junk/quota_ignore=yes\n", 0 },
};

static const struct {
    const char *name, *in, *err;
} bad[] = {
    { "unparsable rule", "home=/h\tquota_rule=*:storage=lots", "quota_rule:" },
    { "relative base rule", "quota_rule=*:storage=+1M", "quota_rule:" },
    { "bare path", "home=/h\tmail=/v/a/Maildir", "mail: no mail format" },
    { "empty format", "mail=:/v/a", "mail: empty mail format" },
    { "unknown option", "mail=maildir:/v/a:BOGUS=1", "mail: unknown mail location option" },
    { "flag with a value", "mail=maildir:/v/a:UTF-8=yes", "mail: option takes no value" },
    { "option without value", "mail=maildir:/v/a:INDEX", "mail: option needs a value" },
};

int main(void)
{
    struct out o;
    unsigned int unsup;
    char err[512];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int r = run(cases[i].in, &o, &unsup, err, sizeof(err));
        is_int(r, 0, "%s: translates (%s)", cases[i].name, err);
        is_str(o.buf, cases[i].want, "%s: fields", cases[i].name);
        is_int(unsup, cases[i].unsupported, "%s: unsupported bits", cases[i].name);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = run(bad[i].in, &o, &unsup, err, sizeof(err));
        is_int(r, -1, "%s: refused", bad[i].name);
        ok(strncmp(err, bad[i].err, strlen(bad[i].err)) == 0, "%s: reason '%s'", bad[i].name,
           err);
        is_int(o.len, 0, "%s: no field handed out", bad[i].name);
    }

    /* a callback that stops: its value comes back, nothing after it */
    memset(&o, 0, sizeof(o));
    o.stop_after = 2;
    {
        struct userrec rec;
        userrec_init(&rec);
        const char *w = "home=/h\tuid=1\tmail=maildir:/m";
        ok(userrec_decode(&rec, w, strlen(w), err, sizeof(err)) == 0, "stop: decodes");
        is_int(dovecot_fields_24(&rec, collect, &o, &unsup, err, sizeof(err)), 7,
               "stop: the callback's value");
        is_str(o.buf, "home=/h\nuid=1\n", "stop: nothing after it");
        userrec_free(&rec);
    }
    ok(strstr(dovecot_fields_unsupported_str(DOVECOT_FIELDS_FOLDER_MESSAGES), "messages") != NULL,
       "unsupported: messages named");
    ok(strstr(dovecot_fields_unsupported_str(DOVECOT_FIELDS_FOLDER_SLASH), "'/'") != NULL,
       "unsupported: slash named");
    return tap_done();
}
