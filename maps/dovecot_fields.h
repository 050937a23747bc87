#ifndef MAILMAPS_DOVECOT_FIELDS_H
#define MAILMAPS_DOVECOT_FIELDS_H

/* The userdb fields of a users.cdb record in Dovecot 2.4's names.
 *
 * The maps keep one format, written in Dovecot 2.3's userdb fields
 * (mail=maildir:PATH:INDEX=…, quota_rule=*:storage=NB, quota_rule2=…).
 * Dovecot 2.4 ignores those two without a word, so the 2.4 build of the
 * auth driver answers with this translation:
 *
 *   quota_rule=*:storage=NB          quota_storage_size=NB ("unlimited" for 0)
 *   quota_rule=*:messages=N          quota_message_count=N
 *   quota_ruleN=F:storage=+NB        mailbox/F/quota_storage_extra=NB
 *   quota_ruleN=F:storage=NB         the same: Dovecot 2.3 adds a folder
 *                                    rule without '+' to the base as well,
 *                                    and so does the policy daemon
 *   quota_ruleN=F:ignore             mailbox/F/quota_ignore=yes
 *   F:storage=-NB, F:storage=+P%,    mailbox/F/quota_storage_size=LB with L
 *   any folder rule under a base     the folder's limit as
 *   without a byte limit             quota_storage_limit() computes it for
 *                                    the policy daemon ("unlimited" when
 *                                    that is no limit): both agree exactly
 *   mail=DRIVER:PATH[:KEY=VALUE…]    mail_driver, mail_path, and one 2.4
 *                                    setting per key (INDEX= mail_index_path,
 *                                    CONTROL= mail_control_path, LAYOUT=
 *                                    mailbox_list_layout, …: the table in
 *                                    dovecot_fields.c)
 *
 * The password is left out (it is no userdb field); every other field
 * passes unchanged. What 2.4 cannot express is left out and named in
 * *unsupported_r (DOVECOT_FIELDS_* bits), so that the caller can say so:
 * nothing is dropped silently. */

#include <stddef.h>

#include "maps/userrec.h"

/* Bits of *unsupported_r. */
#define DOVECOT_FIELDS_FOLDER_MESSAGES 0x1u /* a folder rule's messages= limit */
#define DOVECOT_FIELDS_FOLDER_SLASH 0x2u    /* a folder rule for a name with '/' */

/* Called once per field, in order; name and value are valid during the
 * call only. A non-zero return stops the translation and is returned. */
typedef int dovecot_fields_fn(void *ctx, const char *name, const char *value);

/* dovecot_fields_24 - hand rec's userdb fields to fn in Dovecot 2.4's
 * names. The whole record is checked before fn sees the first field, so a
 * record that fails gives no fields at all: -1 with a reason in err when a
 * quota_rule or the mail field does not parse (Dovecot 2.3 refuses such a
 * user too). 0 when done; fn's non-zero value when fn stopped it. */
int dovecot_fields_24(const struct userrec *rec, dovecot_fields_fn *fn, void *ctx,
                      unsigned int *unsupported_r, char *err, size_t errsz);

/* dovecot_fields_unsupported_str - what one DOVECOT_FIELDS_* bit means */
const char *dovecot_fields_unsupported_str(unsigned int bit);

#endif
