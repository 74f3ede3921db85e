/* overlap serve: a data owner's standing endpoint. Each connection is one
 * session: the peer's key must be listed in the policy, its request must fit
 * the policy (and budgets), and every session is recorded in the audit log. */
#include <getopt.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/guard.h"
#include "io/dbspec.h"
#include "io/source.h"
#include "crypto/group.h"
#include "net/server.h"
#include "policy/audit.h"
#include "session/session.h"

static const char help[] =
    "usage: overlap serve --listen HOST:PORT --identity KEY --table TABLE --policy FILE [options]\n\n"
    "Answers the analyses FILE allows, from the peers it lists, one session per connection.\n"
    "Every request is checked against the policy before any data-derived byte is sent, and\n"
    "every session, refused or not, is appended to the audit log. At start (and on each\n"
    "reload) the table is checked against the policy: its columns exist and its aggregate\n"
    "columns hold numbers, or serve stops with one line (exit 3). The owner never receives\n"
    "output from a served session: partners ask with --reveal connector, or as the runner of\n"
    "an aggregate. SIGHUP reloads the policy (a broken one is refused and the old one kept);\n"
    "SIGTERM or SIGINT stops accepting and waits for running sessions.\n\n"
    "  --listen HOST:PORT     where partners connect\n"
    "  --identity FILE        this owner's secret key\n"
    "  --table TABLE          the owner's table: a CSV file with a header row,\n"
    "                         sqlite:PATH?table=NAME or postgresql://...?table=NAME (read\n"
    "                         afresh for each session)\n"
    "  --query \"SELECT ...\"   with a database --table and no table=: serve this query's\n"
    "                         result (refused when the policy sets table.allow_query false)\n"
    "  --policy FILE          the owner's policy (overlap policy init / check)\n"
    "  --audit FILE           audit log (default: the policy's path with .audit); serve\n"
    "                         refuses to start on a log that does not verify with its\n"
    "                         .head, or whose log and .head are both missing (exit 7)\n"
    "  --new-audit-log        begin a new audit log where none exists yet\n"
    "  --max-sessions N       sessions at once (default 4); more connections are refused\n"
    "  --timeout SECONDS      a silent peer ends its session (default 60)\n"
    "  --threads N            worker threads per session (default: online cores)\n"
    "  --arith WHICH          ristretto255 arithmetic: auto (default; AVX-512 IFMA where\n"
    "                         the CPU and OS have it), ifma, or portable (libsodium);\n"
    "                         OVL_ARITH in the environment sets the default\n"
    "  --max-peer-set N       refuse peers announcing more identifiers (default 67108864)\n\n"
    "example:\n"
    "  overlap serve --listen 0.0.0.0:7700 --identity retailer.key --table purchases.csv \\\n"
    "      --policy retail.policy.json --audit retail.audit\n";

typedef struct {
    const char *listen, *identity, *table, *query, *policy_path;
    char audit[4096];
    bool new_audit_log;
    uint64_t max_sessions, timeout_s, threads, max_peer;
} serve_opts;

/* The policy in force; sessions hold a reference so a reload never frees
 * the policy under a running session. */
typedef struct {
    ovl_policy *pol;
    size_t refs;
} policy_ref;

typedef struct {
    serve_opts o;
    ovl_identity *self;
    pthread_mutex_t mu;
    policy_ref *current;
} server_state;

static policy_ref *policy_take(server_state *s)
{
    pthread_mutex_lock(&s->mu);
    policy_ref *r = s->current;
    r->refs++;
    pthread_mutex_unlock(&s->mu);
    return r;
}

static void policy_drop(server_state *s, policy_ref *r)
{
    pthread_mutex_lock(&s->mu);
    bool last = --r->refs == 0;
    pthread_mutex_unlock(&s->mu);
    if (last) {
        ovl_policy_free(r->pol);
        free(r);
    }
}

static ovl_err policy_install(server_state *s)
{
    ovl_policy *pol = NULL;
    ovl_err rc = ovl_policy_load(&pol, s->o.policy_path);
    if (rc == OVL_OK)
        rc = ovl_policy_check_query(pol, s->o.query); /* a reload keeps the old one */
    /* A table that does not fit the policy would fail every partner's
     * session, telling them about the owner's files: refuse it here. */
    if (rc == OVL_OK)
        rc = ovl_policy_check_table(pol, s->o.table, s->o.query);
    if (rc != OVL_OK) {
        ovl_policy_free(pol);
        return rc;
    }
    policy_ref *r = calloc(1, sizeof *r);
    if (r == NULL) {
        ovl_policy_free(pol);
        return ovl_err_set(OVL_ERR_NOMEM, "out of memory loading the policy");
    }
    r->pol = pol;
    r->refs = 1;
    pthread_mutex_lock(&s->mu);
    policy_ref *old = s->current;
    s->current = r;
    pthread_mutex_unlock(&s->mu);
    if (old)
        policy_drop(s, old);
    return OVL_OK;
}

static void on_reload(void *arg)
{
    server_state *s = arg;
    if (policy_install(s) == OVL_OK)
        fprintf(stderr, "overlap: reloaded the policy %s\n", s->o.policy_path);
    else
        fprintf(stderr, "overlap: kept the previous policy: %s\n", ovl_err_detail());
}

static void session(void *arg, int fd, const char *label)
{
    server_state *s = arg;
    policy_ref *pr = policy_take(s);
    ovl_fpr_pin *pins = calloc(pr->pol->npeers + 1, sizeof *pins);
    ovl_conn *conn = NULL;
    ovl_err rc;
    if (pins == NULL) {
        close(fd);
        goto out;
    }
    for (size_t i = 0; i < pr->pol->npeers; i++) {
        snprintf(pins[i].fpr, sizeof pins[i].fpr, "%s", pr->pol->peers[i].fpr);
        snprintf(pins[i].name, sizeof pins[i].name, "%.64s", pr->pol->peers[i].name);
    }
    rc = ovl_accept_fd_fpr(&conn, fd, label, s->self, pins, pr->pol->npeers,
                           (int)(s->o.timeout_s * 1000));
    if (rc != OVL_OK) {
        fprintf(stderr, "overlap: rejected connection from %s: %s\n", label, ovl_err_detail());
        goto out;
    }
    fprintf(stderr, "overlap: session with %s (%s) opened\n", ovl_conn_peer(conn)->name,
            ovl_conn_label(conn));
    ovl_session_config sc = {
        .role = OVL_ROLE_LISTENER,
        .serving = true,
        .self = s->self,
        .policy = pr->pol,
        .audit_path = s->o.audit,
        .table = s->o.table,
        .query = s->o.query,
        .min_rows = 1,
        .timeout_s = s->o.timeout_s,
        .threads = s->o.threads,
        .max_peer = s->o.max_peer,
    };
    ovl_session *ses = NULL;
    ovl_session_result res;
    rc = ovl_session_new(&ses, &sc);
    if (rc == OVL_OK)
        rc = ovl_session_run(ses, conn);
    if (rc == OVL_OK)
        ovl_session_result_get(ses, &res);
    ovl_session_free(ses);
    if (rc == OVL_OK)
        fprintf(stderr, "overlap: session with %s (%s): %s\n", ovl_conn_peer(conn)->name,
                ovl_conn_label(conn), res.summary);
    else
        fprintf(stderr, "overlap: session with %s (%s) ended: %s\n", ovl_conn_peer(conn)->name,
                ovl_conn_label(conn), ovl_err_detail());
out:
    ovl_conn_close(conn);
    free(pins);
    policy_drop(s, pr);
    /* Free OpenSSL's per-thread state now: the server may exit as soon as
     * this session is counted out. */
    OPENSSL_thread_stop();
}

static ovl_err parse_opts(serve_opts *o, int argc, char **argv, bool *help_only)
{
    ovl_err rc = OVL_OK;
    enum { O_LISTEN = 256, O_IDENTITY, O_TABLE, O_QUERY, O_POLICY, O_AUDIT, O_MAXS, O_TIMEOUT, O_THREADS,
           O_MAXPEER, O_NEWLOG, O_HELP, O_ARITH };
    static const struct option opts[] = {
        {"listen", required_argument, NULL, O_LISTEN},
        {"identity", required_argument, NULL, O_IDENTITY},
        {"table", required_argument, NULL, O_TABLE},
        {"query", required_argument, NULL, O_QUERY},
        {"policy", required_argument, NULL, O_POLICY},
        {"audit", required_argument, NULL, O_AUDIT},
        {"max-sessions", required_argument, NULL, O_MAXS},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"threads", required_argument, NULL, O_THREADS},
        {"max-peer-set", required_argument, NULL, O_MAXPEER},
        {"new-audit-log", no_argument, NULL, O_NEWLOG},
        {"help", no_argument, NULL, O_HELP},
        {"arith", required_argument, NULL, O_ARITH},
        {NULL, 0, NULL, 0},
    };
    const char *audit = NULL;
    memset(o, 0, sizeof *o);
    o->max_sessions = 4;
    o->timeout_s = 60;
    o->threads = ovl_cpu_count();
    o->max_peer = OVL_SESSION_DEFAULT_MAX_PEER_SET;
    *help_only = false;
    opterr = 0;
    optind = 1;
    bool seen[sizeof opts / sizeof opts[0]] = {false};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        OVL_TRY(ovl_cli_once("serve", opts, c, seen));
        switch (c) {
        case O_LISTEN: o->listen = optarg; break;
        case O_IDENTITY: o->identity = optarg; break;
        case O_TABLE: o->table = optarg; break;
        case O_QUERY: o->query = optarg; break;
        case O_POLICY: o->policy_path = optarg; break;
        case O_AUDIT: audit = optarg; break;
        case O_NEWLOG: o->new_audit_log = true; break;
        case O_MAXS: OVL_TRY(ovl_cli_uint("--max-sessions", optarg, 1, 1024, &o->max_sessions)); break;
        case O_TIMEOUT: OVL_TRY(ovl_cli_uint("--timeout", optarg, 1, 86400, &o->timeout_s)); break;
        case O_THREADS: OVL_TRY(ovl_cli_uint("--threads", optarg, 1, 256, &o->threads)); break;
        case O_ARITH: OVL_TRY(ovl_cli_arith(optarg)); break;
        case O_MAXPEER:
            OVL_TRY(ovl_cli_uint("--max-peer-set", optarg, 0, UINT32_MAX, &o->max_peer));
            break;
        case O_HELP:
        case 'h':
            *help_only = true;
            goto done;
        default:
            OVL_FAIL(ovl_err_set(OVL_ERR_USAGE, "serve: unknown or incomplete option '%s' "
                                                "(see overlap serve --help)",
                                 argv[optind - 1]));
        }
    }
    OVL_ENSURE(optind == argc, OVL_ERR_USAGE, "serve: unexpected argument '%s'", argv[optind]);
    OVL_ENSURE(o->listen && o->identity && o->table && o->policy_path, OVL_ERR_USAGE,
               "serve: --listen, --identity, --table and --policy are required "
               "(see overlap serve --help)");
    OVL_TRY(ovl_dbspec_check_options(o->table, o->query, NULL, false));
    if (audit) {
        snprintf(o->audit, sizeof o->audit, "%s", audit);
    } else {
        /* Next to the policy: retail.policy.json -> retail.policy.audit */
        size_t n = strlen(o->policy_path);
        size_t cut = n > 5 && strcmp(o->policy_path + n - 5, ".json") == 0 ? n - 5 : n;
        OVL_ENSURE(cut + 7 < sizeof o->audit, OVL_ERR_USAGE, "serve: --policy path too long");
        snprintf(o->audit, sizeof o->audit, "%.*s.audit", (int)cut, o->policy_path);
    }
done:
    return rc;
}

/* The table opens (a database is reachable, the table or query exists and
 * may be read) before any partner can connect; each session reads it afresh. */
static ovl_err table_check(const serve_opts *o)
{
    ovl_source *src = NULL;
    ovl_err rc = ovl_source_open(&src, o->table, o->query);
    ovl_source_close(src);
    return rc;
}

/* The audit log is where budgets and differencing count from: deleting it
 * with its .head, or putting back an older pair, would start them again.
 * A pair that does not verify stops serve; a missing pair is a new log only
 * when the owner says so. (Restoring an older, self-consistent pair is what
 * partners detect: protocols/setup/SPEC.md §4.1.) */
static ovl_err audit_check(const server_state *s)
{
    ovl_err rc = OVL_OK;
    ovl_audit_log log = {0};
    char hp[4200];
    snprintf(hp, sizeof hp, "%s.head", s->o.audit);
    if (access(s->o.audit, F_OK) != 0 && access(hp, F_OK) != 0) {
        OVL_ENSURE(s->o.new_audit_log, OVL_ERR_AUTH, "serve: the audit log %s and its .head "
                   "do not exist: if it was deleted, budgets and differencing would start "
                   "again from nothing; start a new log with --new-audit-log", s->o.audit);
        return OVL_OK;
    }
    rc = ovl_audit_load(&log, s->o.audit, ovl_identity_pub(s->self), NULL, 0);
    if (rc != OVL_OK)
        OVL_FAIL(ovl_err_wrap(OVL_ERR_AUTH, "serve: refusing the audit log: "));
done:
    ovl_audit_log_free(&log);
    return rc;
}

int ovl_cmd_serve(int argc, char **argv)
{
    server_state s;
    ovl_listener *l = NULL;
    bool help_only;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.mu, NULL);
    ovl_err rc = parse_opts(&s.o, argc, argv, &help_only);
    if (rc == OVL_OK && help_only) {
        fputs(help, stdout);
        return 0;
    }
    if (rc == OVL_OK)
        rc = ovl_crypto_init();
    if (rc == OVL_OK)
        rc = ovl_identity_load(&s.self, s.o.identity);
    if (rc == OVL_OK)
        rc = policy_install(&s);
    if (rc == OVL_OK)
        rc = table_check(&s.o);
    bool audit_bad = rc == OVL_OK && (rc = audit_check(&s)) != OVL_OK;
    if (rc == OVL_OK)
        rc = ovl_listen(&l, s.o.listen);
    if (rc == OVL_OK) {
        const char *colon = strrchr(s.o.listen, ':');
        int hostlen = colon ? (int)(colon - s.o.listen) : 0;
        char *shown = ovl_spec_redact(s.o.table);
        fprintf(stderr, "overlap: serving %s on %.*s:%u under %s (audit: %s)\n",
                shown ? shown : "the table", hostlen, s.o.listen, ovl_listener_port(l),
                s.o.policy_path, s.o.audit);
        free(shown);
        ovl_server_config cfg = {
            .listener = l,
            .max_sessions = (size_t)s.o.max_sessions,
            .session = session,
            .reload = on_reload,
            .arg = &s,
        };
        rc = ovl_server_run(&cfg);
        if (rc == OVL_OK)
            fprintf(stderr, "overlap: stopped\n");
    }
    ovl_listener_close(l);
    if (s.current)
        policy_drop(&s, s.current);
    ovl_identity_free(s.self);
    pthread_mutex_destroy(&s.mu);
    if (audit_bad) {
        (void)ovl_cli_fail(rc);
        return 7; /* as `overlap audit verify` on the same log */
    }
    return rc == OVL_OK ? 0 : ovl_cli_fail(rc);
}
