/* authdb-mailmaps - the Dovecot passdb and userdb driver "mailmaps": glue
 * between Dovecot's auth process and libmailmaps (maps/lookup.h does the
 * maps-then-LDAP rules, maps/authdb.h reads the users.cdb record). One
 * source for Dovecot 2.3 and 2.4, built against the installed headers:
 *
 *   2.3: passdb { driver = mailmaps  args = /etc/mailmaps/mailmaps.conf }
 *        userdb { driver = mailmaps  args = /etc/mailmaps/mailmaps.conf }
 *   2.4: passdb mailmaps { mailmaps_config_file = /etc/mailmaps/mailmaps.conf }
 *        userdb mailmaps { mailmaps_config_file = /etc/mailmaps/mailmaps.conf }
 *
 * 2.4 learns the setting from mailmaps-settings.c (built into this module
 * and into the settings module that doveconf loads), and gets the userdb
 * fields in its own names (maps/dovecot_fields.h): the maps keep 2.3's.
 *
 * Blocking or not: both. The auth process answers from fresh maps itself
 * (a CDB lookup in memory, about a microsecond: handing that to an auth
 * worker would cost a pipe round trip and a process per lookup, several
 * times the lookup). Only what the maps cannot answer - a key they lack,
 * or any key while they are stale or missing - needs LDAP, which can block
 * for up to ldap_timeout; that request is handed to an auth worker
 * (passdb_blocking_*, userdb_blocking_lookup), where the same driver runs
 * the full lookup_key() with the LDAP fallback. So the auth process never
 * waits for LDAP, and it never opens an LDAP connection. Iteration
 * (doveadm user '*') always runs in the auth worker. */

#include "auth-common.h"
#include "ioloop.h"
#include "module-dir.h"
#include "passdb.h"
#include "passdb-blocking.h"
#include "userdb.h"
#include "userdb-blocking.h"

#include <string.h>

#if DOVECOT_PREREQ(2, 4, 0)
#include "settings.h"
#include "mailmaps-settings.h"
#include "maps/dovecot_fields.h"
#endif

#include "maps/authdb.h"
#include "maps/bindcheck.h"
#include "maps/cdbmap.h"
#include "maps/conf.h"
#include "maps/ldapdir.h"
#include "maps/lookup.h"
#include "maps/mapset.h"
#include "maps/userrec.h"

#if DOVECOT_PREREQ(2, 4, 0)
#define MAILMAPS_CACHE_KEY "%{user}"
#define mailmaps_log_unknown_user(request) auth_request_db_log_unknown_user(request)
#else
#define MAILMAPS_CACHE_KEY "%u"
#define mailmaps_log_unknown_user(request) auth_request_log_unknown_user(request, AUTH_SUBSYS_DB)
#endif

/* One configuration file: its maps and LDAP handle, shared by the passdb
 * and the userdb that name it. */
struct mailmaps_db {
    struct mailmaps_db *next;
    char *path;
    unsigned int refcount;
    struct conf cfg;
    struct lookup *lk;
    struct io *io;
    char users_error[256];  /* last users.cdb problem logged, "" = none */
};

struct mailmaps_passdb_module {
    struct passdb_module module;
    struct mailmaps_db *db;
};

struct mailmaps_userdb_module {
    struct userdb_module module;
    struct mailmaps_db *db;
};

struct mailmaps_iterate_context {
    struct userdb_iterate_context ctx;
    struct cdbmap *map; /* a private handle: a snapshot of users.cdb */
    unsigned int pos;
};

/* Result of finding a user's record. */
enum mailmaps_found {
    MAILMAPS_WORKER = 2, /* only LDAP can answer: hand to an auth worker */
    MAILMAPS_FOUND = 1,
    MAILMAPS_UNKNOWN = 0,
    MAILMAPS_FAILED = -1,
};

const char *authdb_mailmaps_version = DOVECOT_ABI_VERSION;
void authdb_mailmaps_init(struct module *module);
void authdb_mailmaps_deinit(void);

static struct mailmaps_db *mailmaps_dbs;

/* mailmaps_db_ref - the shared handle for a config file, loaded on first
 * use. Runs in preinit (still root); NULL with *error_r on a bad config,
 * which Dovecot treats as it treats a bad setting of its own. */
static struct mailmaps_db *mailmaps_db_ref(const char *path, const char **error_r)
{
    struct mailmaps_db *db;
    char err[CONF_ERRSZ];

    if (path[0] == '\0')
        path = CONF_DEFAULT_PATH;

    for (db = mailmaps_dbs; db != NULL; db = db->next) {
        if (strcmp(db->path, path) == 0) {
            db->refcount++;
            return db;
        }
    }
    db = i_new(struct mailmaps_db, 1);
    if (conf_load(&db->cfg, path, err, sizeof(err)) < 0) {
        *error_r = t_strdup_printf("mailmaps: %s", err);
        i_free(db);
        return NULL;
    }
    db->lk = lookup_new(&db->cfg, err, sizeof(err));
    if (db->lk == NULL) {
        *error_r = t_strdup_printf("mailmaps: %s: %s", path, err);
        conf_free(&db->cfg);
        i_free(db);
        return NULL;
    }
    db->path = i_strdup(path);
    db->refcount = 1;
    /* Still root here, as the auth worker that binds will be: its
     * password file can be 0600 root. Said by the auth process only, not
     * by every worker it starts; not fatal, the maps answer without it. */
    if (!worker) {
        char warn[2048];
        if (bindcheck_secret(&db->cfg, err, sizeof(err)) < 0)
            i_error("mailmaps: %s: the LDAP fallback cannot bind: %s", path, err);
        if (bindcheck_cleartext(&db->cfg, warn, sizeof(warn)) > 0)
            i_warning("mailmaps: %s: %s", path, warn);
    }
    db->next = mailmaps_dbs;
    mailmaps_dbs = db;
    return db;
}

/* mailmaps_db_check - say once why users.cdb cannot be used: otherwise every
 * lookup silently goes to an auth worker and LDAP. The usual cause for a big
 * directory is the auth process's vsz_limit, too small to map the file. */
static void mailmaps_db_check(struct mailmaps_db *db)
{
    struct cdbmap *users = mapset_map(lookup_mapset(db->lk), MAP_USERS);

    if (users->state != CDBMAP_BROKEN) {
        db->users_error[0] = '\0';
        return;
    }
    if (strcmp(db->users_error, users->error) == 0)
        return;
    i_snprintf(db->users_error, sizeof(db->users_error), "%s", users->error);
    i_error("mailmaps: %s: lookups go to LDAP until it can be used "
            "(a large users.cdb may need a bigger service auth { vsz_limit })",
            users->error);
}

/* mailmaps_db_refresh - the sync renamed a map into place: use it now */
static void mailmaps_db_refresh(struct mailmaps_db *db)
{
    (void)mapset_refresh(lookup_mapset(db->lk));
    mailmaps_db_check(db);
}

/* mailmaps_db_watch - let the ioloop tell us about replaced maps, so that
 * lookups make no system call at all (the ioloop exists only from init on) */
static void mailmaps_db_watch(struct mailmaps_db *db)
{
    if (db->io != NULL)
        return;
    int fd = mapset_watch_fd(lookup_mapset(db->lk));
    if (fd >= 0)
        db->io = io_add(fd, IO_READ, mailmaps_db_refresh, db);
    mailmaps_db_check(db);
}

/* mailmaps_db_unref - drop a reference; the last one frees */
static void mailmaps_db_unref(struct mailmaps_db *db)
{
    struct mailmaps_db **p;

    if (--db->refcount > 0)
        return;
    for (p = &mailmaps_dbs; *p != NULL; p = &(*p)->next) {
        if (*p == db) {
            *p = db->next;
            break;
        }
    }
    io_remove(&db->io);
    lookup_free(db->lk);
    conf_free(&db->cfg);
    i_free(db->path);
    i_free(db);
}

/* mailmaps_find - the record of the request's user into rec. In the auth
 * process only fresh maps answer (else MAILMAPS_WORKER); in an auth worker
 * the full rules apply, LDAP included. */
static enum mailmaps_found mailmaps_find(struct mailmaps_db *db, struct auth_request *request,
                                         struct userrec *rec)
{
    const char *user = request->fields.user;
    const char *val;
    size_t len;
    char err[512];
    enum lookup_source source = LOOKUP_FROM_MAP;

    if (!worker) {
        char key[LDAPDIR_KEY_LEN_MAX + 1];
        if (authdb_local(db->lk, user, key, sizeof(key), &val, &len) == 0)
            return MAILMAPS_WORKER;
    } else {
        enum lookup_result r = lookup_key(db->lk, MAP_USERS, user, strlen(user), &val, &len,
                                          &source, err, sizeof(err));
        if (r == LOOKUP_TEMPFAIL) {
            e_error(authdb_event(request), "no answer from maps or LDAP: %s", err);
            return MAILMAPS_FAILED;
        }
        if (r == LOOKUP_NOTFOUND)
            return MAILMAPS_UNKNOWN;
    }
    if (authdb_record(rec, user, val, len, err, sizeof(err)) < 0) {
        e_error(authdb_event(request), "%s", err);
        return MAILMAPS_FAILED;
    }
    e_debug(authdb_event(request), "found in %s",
            source == LOOKUP_FROM_MAP    ? "the maps"
            : source == LOOKUP_FROM_LDAP ? "LDAP"
                                         : "stale maps (LDAP unreachable)");
    return MAILMAPS_FOUND;
}

/* mailmaps_password - scheme and hash of rec; saves them in the request
 * so that auth_cache can answer next time. 1, 0 (none), -1 (logged). */
static int mailmaps_password(struct mailmaps_db *db, struct auth_request *request,
                             const struct userrec *rec, const char **hash_r, const char **scheme_r)
{
    char scheme[AUTHDB_SCHEME_MAX + 1], err[256];
    int r = authdb_password(rec, db->cfg.default_password_scheme, scheme, sizeof(scheme), hash_r,
                            err, sizeof(err));
    if (r < 0) {
        e_error(authdb_event(request), "%s", err);
        return -1;
    }
    /* an alias login (alias_login = yes): the session is the account's,
     * with or without a password to check */
    const char *user = userrec_get(rec, "user");
    if (user != NULL)
        auth_request_set_field(request, "user", user, NULL);
    if (r == 0) {
        e_info(authdb_event(request), "no password in the record");
        return 0;
    }
    *scheme_r = t_strdup(scheme);
    *hash_r = t_strdup(*hash_r);
    auth_request_set_field(request, "password", *hash_r, *scheme_r);
    return 1;
}

/* mailmaps_no_passwords - ldap_attr_password is empty (sites that check
 * passwords with an LDAP bind): the maps hold no hashes, so this passdb
 * knows no one and Dovecot's next passdb decides */
static bool mailmaps_no_passwords(const struct mailmaps_db *db, struct auth_request *request)
{
    if (db->cfg.attr.password[0] != '\0')
        return false;
    e_debug(authdb_event(request), "ldap_attr_password is empty: no passwords here");
    return true;
}

/* mailmaps_verify_plain - check a plaintext password against the hash */
static void mailmaps_verify_plain(struct auth_request *request, const char *password,
                                  verify_plain_callback_t *callback)
{
    struct mailmaps_passdb_module *module =
        (struct mailmaps_passdb_module *)request->passdb->passdb;
    struct userrec rec;
    enum passdb_result result;
    const char *hash, *scheme;

    if (mailmaps_no_passwords(module->db, request)) {
        callback(PASSDB_RESULT_USER_UNKNOWN, request);
        return;
    }
    userrec_init(&rec);
    switch (mailmaps_find(module->db, request, &rec)) {
    case MAILMAPS_WORKER:
        /* The worker answers through auth_request_verify_plain_callback,
           which is what callback is in the auth process. */
        userrec_free(&rec);
        passdb_blocking_verify_plain(request);
        return;
    case MAILMAPS_FAILED:
        result = PASSDB_RESULT_INTERNAL_FAILURE;
        break;
    case MAILMAPS_UNKNOWN:
        mailmaps_log_unknown_user(request);
        result = PASSDB_RESULT_USER_UNKNOWN;
        break;
    case MAILMAPS_FOUND:
    default:
        switch (mailmaps_password(module->db, request, &rec, &hash, &scheme)) {
        case 1:
#if DOVECOT_PREREQ(2, 4, 0)
            result = auth_request_db_password_verify(request, password, hash, scheme);
#else
            result =
                auth_request_password_verify(request, password, hash, scheme, AUTH_SUBSYS_DB) > 0
                    ? PASSDB_RESULT_OK
                    : PASSDB_RESULT_PASSWORD_MISMATCH;
#endif
            break;
        case 0:
            result = PASSDB_RESULT_PASSWORD_MISMATCH;
            break;
        default:
            result = PASSDB_RESULT_INTERNAL_FAILURE;
            break;
        }
        break;
    }
    userrec_free(&rec);
    callback(result, request);
}

/* mailmaps_lookup_credentials - the stored hash for SASL mechanisms that
 * need credentials (and for passdb lookups) */
static void mailmaps_lookup_credentials(struct auth_request *request,
                                        lookup_credentials_callback_t *callback)
{
    struct mailmaps_passdb_module *module =
        (struct mailmaps_passdb_module *)request->passdb->passdb;
    struct userrec rec;
    const char *hash = NULL, *scheme = NULL;

    if (mailmaps_no_passwords(module->db, request)) {
        callback(PASSDB_RESULT_USER_UNKNOWN, NULL, 0, request);
        return;
    }
    userrec_init(&rec);
    switch (mailmaps_find(module->db, request, &rec)) {
    case MAILMAPS_WORKER:
        userrec_free(&rec);
        passdb_blocking_lookup_credentials(request);
        return;
    case MAILMAPS_FAILED:
        userrec_free(&rec);
        callback(PASSDB_RESULT_INTERNAL_FAILURE, NULL, 0, request);
        return;
    case MAILMAPS_UNKNOWN:
        userrec_free(&rec);
        mailmaps_log_unknown_user(request);
        callback(PASSDB_RESULT_USER_UNKNOWN, NULL, 0, request);
        return;
    case MAILMAPS_FOUND:
    default:
        break;
    }
    int r = mailmaps_password(module->db, request, &rec, &hash, &scheme);
    userrec_free(&rec);
    if (r < 0) {
        callback(PASSDB_RESULT_INTERNAL_FAILURE, NULL, 0, request);
        return;
    }
    /* No password: Dovecot decides (fine for a plain passdb lookup,
       "scheme not available" for a mechanism that needs one). */
    passdb_handle_credentials(PASSDB_RESULT_OK, r > 0 ? hash : NULL, r > 0 ? scheme : NULL,
                              callback, request);
}

#if DOVECOT_PREREQ(2, 4, 0)
/* mailmaps_db_ref_event - the shared handle for the mailmaps_config_file
 * that applies to this passdb or userdb */
static int mailmaps_db_ref_event(struct event *event, struct mailmaps_db **db_r,
                                 const char **error_r)
{
    const struct mailmaps_settings *set;

    if (settings_get(event, &mailmaps_setting_parser_info, 0, &set, error_r) < 0)
        return -1;
    *db_r = mailmaps_db_ref(set->mailmaps_config_file, error_r);
    settings_free(set);
    return *db_r == NULL ? -1 : 0;
}

/* mailmaps_passdb_preinit - load the config (as root) */
static int mailmaps_passdb_preinit(pool_t pool, struct event *event,
                                   struct passdb_module **module_r, const char **error_r)
{
    struct mailmaps_passdb_module *module = p_new(pool, struct mailmaps_passdb_module, 1);

    if (mailmaps_db_ref_event(event, &module->db, error_r) < 0)
        return -1;
    module->module.default_cache_key = MAILMAPS_CACHE_KEY;
    /* Dovecot replaces this with passdb_default_password_scheme; the
       record's own default comes from mailmaps.conf (mailmaps_password) */
    module->module.default_pass_scheme = p_strdup(pool, module->db->cfg.default_password_scheme);
    *module_r = &module->module;
    return 0;
}
#else
/* mailmaps_passdb_preinit - load the config (as root) */
static struct passdb_module *mailmaps_passdb_preinit(pool_t pool, const char *args)
{
    struct mailmaps_passdb_module *module = p_new(pool, struct mailmaps_passdb_module, 1);
    const char *error;

    module->db = mailmaps_db_ref(args, &error);
    if (module->db == NULL)
        i_fatal("%s", error);
    module->module.default_cache_key = MAILMAPS_CACHE_KEY;
    module->module.default_pass_scheme = p_strdup(pool, module->db->cfg.default_password_scheme);
    return &module->module;
}
#endif

/* mailmaps_passdb_init - watch the maps in this process's ioloop */
static void mailmaps_passdb_init(struct passdb_module *_module)
{
    mailmaps_db_watch(((struct mailmaps_passdb_module *)_module)->db);
}

/* mailmaps_passdb_deinit - release the shared handle */
static void mailmaps_passdb_deinit(struct passdb_module *_module)
{
    mailmaps_db_unref(((struct mailmaps_passdb_module *)_module)->db);
}

#if DOVECOT_PREREQ(2, 4, 0)
/* mailmaps_set_userdb_field - one translated field into the reply */
static int mailmaps_set_userdb_field(void *context, const char *name, const char *value)
{
    auth_request_set_userdb_field(context, name, value);
    return 0;
}

/* mailmaps_userdb_fields - the record in 2.4's field names. What 2.4 cannot
 * express is said once per process and kind (not per login: a busy server
 * would repeat it for every user of the same default rules). */
static int mailmaps_userdb_fields(struct auth_request *request, const struct userrec *rec)
{
    static unsigned int logged;
    unsigned int unsupported;
    char err[512];

    if (dovecot_fields_24(rec, mailmaps_set_userdb_field, request, &unsupported, err,
                          sizeof(err)) < 0) {
        e_error(authdb_event(request), "users.cdb record: %s", err);
        return -1;
    }
    for (unsigned int bit = 1; bit != 0 && bit <= unsupported; bit <<= 1) {
        if ((unsupported & bit) != 0 && (logged & bit) == 0) {
            logged |= bit;
            e_warning(authdb_event(request),
                      "left out of the userdb reply (first seen here; logged once): "
                      "Dovecot 2.4 cannot express %s",
                      dovecot_fields_unsupported_str(bit));
        }
    }
    return 0;
}
#else
/* mailmaps_userdb_fields - the record's userdb fields as they are */
static int mailmaps_userdb_fields(struct auth_request *request, const struct userrec *rec)
{
    for (size_t i = 0; i < rec->count; i++) {
        if (authdb_userdb_field(rec->field[i].name))
            auth_request_set_userdb_field(request, rec->field[i].name, rec->field[i].value);
    }
    return 0;
}
#endif

/* mailmaps_user_lookup - the userdb fields of users.cdb (all but the
 * password) */
static void mailmaps_user_lookup(struct auth_request *request, userdb_callback_t *callback)
{
    struct mailmaps_userdb_module *module =
        (struct mailmaps_userdb_module *)request->userdb->userdb;
    struct userrec rec;
    enum userdb_result result = USERDB_RESULT_OK;

    userrec_init(&rec);
    switch (mailmaps_find(module->db, request, &rec)) {
    case MAILMAPS_WORKER:
        /* answered through auth_request_userdb_callback = callback */
        userrec_free(&rec);
        userdb_blocking_lookup(request);
        return;
    case MAILMAPS_FAILED:
        result = USERDB_RESULT_INTERNAL_FAILURE;
        break;
    case MAILMAPS_UNKNOWN:
        mailmaps_log_unknown_user(request);
        result = USERDB_RESULT_USER_UNKNOWN;
        break;
    case MAILMAPS_FOUND:
    default:
        if (mailmaps_userdb_fields(request, &rec) < 0)
            result = USERDB_RESULT_INTERNAL_FAILURE;
        break;
    }
    userrec_free(&rec);
    callback(result, request);
}

/* mailmaps_iterate_init - list users.cdb from a snapshot of its own: a
 * sync that replaces the map mid-listing must not move the ground under
 * the iteration (the old file stays mapped until the end) */
static struct userdb_iterate_context *
mailmaps_iterate_init(struct auth_request *request, userdb_iter_callback_t *callback, void *context)
{
    struct mailmaps_userdb_module *module =
        (struct mailmaps_userdb_module *)request->userdb->userdb;
    struct mailmaps_iterate_context *ctx = i_new(struct mailmaps_iterate_context, 1);
    char path[4096];

    ctx->ctx.auth_request = request;
    ctx->ctx.callback = callback;
    ctx->ctx.context = context;
    if (mapset_path(module->db->cfg.maps_dir, MAP_USERS, path, sizeof(path)) < 0) {
        e_error(authdb_event(request), "maps_dir too long");
        ctx->ctx.failed = TRUE;
        return &ctx->ctx;
    }
    ctx->map = cdbmap_open(path);
    if (ctx->map == NULL) {
        e_error(authdb_event(request), "%s: out of memory", path);
        ctx->ctx.failed = TRUE;
    } else if (ctx->map->state != CDBMAP_OPEN) {
        e_error(authdb_event(request), "cannot list users: %s", ctx->map->error);
        ctx->ctx.failed = TRUE;
    }
    return &ctx->ctx;
}

/* mailmaps_iterate_next - the next user, or NULL at the end */
static void mailmaps_iterate_next(struct userdb_iterate_context *_ctx)
{
    struct mailmaps_iterate_context *ctx = (struct mailmaps_iterate_context *)_ctx;
    const char *key, *val;
    size_t klen, vlen;
    int r = 0;

    if (!_ctx->failed && ctx->map != NULL)
        r = cdbmap_iter(ctx->map, &ctx->pos, &key, &klen, &val, &vlen);
    if (r < 0) {
        e_error(authdb_event(_ctx->auth_request), "%s: corrupt while listing", ctx->map->path);
        _ctx->failed = TRUE;
    }
    if (r <= 0) {
        _ctx->callback(NULL, _ctx->context);
        return;
    }
    T_BEGIN
    {
        _ctx->callback(t_strndup(key, klen), _ctx->context);
    }
    T_END;
}

/* mailmaps_iterate_deinit - -1 when the listing was incomplete */
static int mailmaps_iterate_deinit(struct userdb_iterate_context *_ctx)
{
    struct mailmaps_iterate_context *ctx = (struct mailmaps_iterate_context *)_ctx;
    int ret = _ctx->failed ? -1 : 0;

    cdbmap_close(ctx->map);
    i_free(ctx);
    return ret;
}

#if DOVECOT_PREREQ(2, 4, 0)
/* mailmaps_userdb_preinit - load the config (as root) */
static int mailmaps_userdb_preinit(pool_t pool, struct event *event,
                                   struct userdb_module **module_r, const char **error_r)
{
    struct mailmaps_userdb_module *module = p_new(pool, struct mailmaps_userdb_module, 1);

    if (mailmaps_db_ref_event(event, &module->db, error_r) < 0)
        return -1;
    module->module.default_cache_key = MAILMAPS_CACHE_KEY;
    *module_r = &module->module;
    return 0;
}
#else
/* mailmaps_userdb_preinit - load the config (as root) */
static struct userdb_module *mailmaps_userdb_preinit(pool_t pool, const char *args)
{
    struct mailmaps_userdb_module *module = p_new(pool, struct mailmaps_userdb_module, 1);
    const char *error;

    module->db = mailmaps_db_ref(args, &error);
    if (module->db == NULL)
        i_fatal("%s", error);
    module->module.default_cache_key = MAILMAPS_CACHE_KEY;
    return &module->module;
}
#endif

/* mailmaps_userdb_init - watch the maps in this process's ioloop */
static void mailmaps_userdb_init(struct userdb_module *_module)
{
    mailmaps_db_watch(((struct mailmaps_userdb_module *)_module)->db);
}

/* mailmaps_userdb_deinit - release the shared handle */
static void mailmaps_userdb_deinit(struct userdb_module *_module)
{
    mailmaps_db_unref(((struct mailmaps_userdb_module *)_module)->db);
}

static struct passdb_module_interface passdb_mailmaps = {
    .name = "mailmaps",
    .preinit = mailmaps_passdb_preinit,
    .init = mailmaps_passdb_init,
    .deinit = mailmaps_passdb_deinit,
    .verify_plain = mailmaps_verify_plain,
    .lookup_credentials = mailmaps_lookup_credentials,
};

static struct userdb_module_interface userdb_mailmaps = {
    .name = "mailmaps",
    .preinit = mailmaps_userdb_preinit,
    .init = mailmaps_userdb_init,
    .deinit = mailmaps_userdb_deinit,
    .lookup = mailmaps_user_lookup,
    .iterate_init = mailmaps_iterate_init,
    .iterate_next = mailmaps_iterate_next,
    .iterate_deinit = mailmaps_iterate_deinit,
};

/* authdb_mailmaps_init - register both drivers when Dovecot loads us */
void authdb_mailmaps_init(struct module *module ATTR_UNUSED)
{
    passdb_register_module(&passdb_mailmaps);
    userdb_register_module(&userdb_mailmaps);
}

/* authdb_mailmaps_deinit - unregister them */
void authdb_mailmaps_deinit(void)
{
    passdb_unregister_module(&passdb_mailmaps);
    userdb_unregister_module(&userdb_mailmaps);
}
