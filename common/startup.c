/* startup - the daemons' common start: no core dumps, the bind checked */

#include <sys/prctl.h>
#include <sys/resource.h>

#include "common/log.h"
#include "common/startup.h"
#include "maps/bindcheck.h"

/* startup_no_core - a crash must not write the password to disk */
void startup_no_core(void)
{
    struct rlimit none = { 0, 0 };

    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        log_warn("prctl(PR_SET_DUMPABLE)");
    /* Also for a core_pattern pipe (systemd-coredump), which a
     * non-dumpable process may still feed when fs.suid_dumpable = 2. The
     * contrib units forbid setrlimit (SystemCallFilter ~@resources) and
     * set LimitCORE=0 instead: a failure here is no news. */
    (void)setrlimit(RLIMIT_CORE, &none);
}

/* startup_check_bind - the cleartext warning; the password file with -n */
int startup_check_bind(const struct conf *cfg, bool check_secret)
{
    char msg[2048];          /* the warning names up to CONF_LIST_MAX URIs */

    if (bindcheck_cleartext(cfg, msg, sizeof(msg)) > 0)
        log_warnx("%s", msg);
    if (check_secret && bindcheck_secret(cfg, msg, sizeof(msg)) < 0) {
        log_err("%s", msg);
        return -1;
    }
    return 0;
}
