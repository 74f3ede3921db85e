/* overlap audit verify|show: check an audit log's chain and signatures, and
 * list its entries. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "core/guard.h"
#include "policy/audit.h"
#include "crypto/group.h"
#include "core/mem.h"

static const char help[] =
    "usage: overlap audit verify FILE [--key OWNER.pub] [--peer PEER.pub ...]\n"
    "       overlap audit show FILE [--key OWNER.pub] [--peer PEER.pub ...]\n\n"
    "verify checks every entry of an audit log: its syntax, sequence, hash chain and\n"
    "signature, and the signed head record FILE.head, and reports the first broken entry\n"
    "(edited, deleted, reordered or cut off the end). --key pins the owner's key (without\n"
    "it, the key of the first entry is used); --peer checks peers' co-signatures of run\n"
    "transcripts.\n"
    "show verifies the log, then prints one line per entry (never any data values),\n"
    "naming the peers whose keys are given with --peer.\n\n"
    "  --key OWNER.pub   the key every entry and the head must be signed with\n"
    "  --peer PEER.pub   a peer whose co-signatures are checked (repeatable, up to 16)\n\n"
    "exit status: 0 the log verifies; 7 it does not (an entry or the head was edited,\n"
    "deleted, reordered or cut off, or the log itself was deleted); 3 the log does not\n"
    "exist (and has no head record) or a key file cannot be read; 2 usage.\n\n"
    "example:\n"
    "  overlap audit verify retail.audit --key retailer.pub --peer advertiser.pub\n"
    "  overlap audit show retail.audit --peer advertiser.pub\n";

#define MAX_PEERS 16

/* The name of a peer whose key was given with --peer, so entries read
 * "peer=advertiser (SHA256:...)"; NULL for other peers. */
static const char *peer_name(const char *fpr, const ovl_pubkey *peers, size_t npeers)
{
    char f[OVL_FPR_LEN];
    for (size_t i = 0; i < npeers; i++) {
        ovl_fingerprint(f, peers[i].pk);
        if (strcmp(f, fpr) == 0)
            return peers[i].name;
    }
    return NULL;
}

static void show_entry(const ovl_audit_entry *e, const ovl_pubkey *peers, size_t npeers)
{
    char when[32], tpl[2 * OVL_HASH_LEN + 1] = "-";
    const char *name = peer_name(e->peer, peers, npeers);
    time_t t = (time_t)e->time;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (e->has_template)
        ovl_hex_encode(tpl, e->template_hash, 8);
    if (name)
        printf("%llu %s peer=%s (%.23s...) mode=%s template=%s", (unsigned long long)e->seq, when,
               name, e->peer, ovl_mode_name(e->mode), tpl);
    else
        printf("%llu %s peer=%.23s... mode=%s template=%s", (unsigned long long)e->seq, when,
               e->peer, ovl_mode_name(e->mode), tpl);
    for (size_t i = 0; i < e->nparams; i++)
        printf(" %s=%s", e->params[i].name, e->params[i].value);
    /* A multi-party run: how many members, each named when its key was given. */
    if (e->nmembers) {
        printf(" members=%zu", e->nmembers);
        for (size_t i = 0; i < e->nmembers; i++) {
            char f[OVL_FPR_LEN];
            ovl_fingerprint(f, e->member_pk[i]);
            const char *n = peer_name(f, peers, npeers);
            if (n)
                printf("%s%s", i ? "," : "[", n);
            else
                printf("%s%.23s...", i ? "," : "[", f);
        }
        printf("]%s", e->has_member_sigs ? " cosigned=all" : "");
    }
    if (e->has_capped)
        printf(" capped=%llu", (unsigned long long)e->capped);
    if (e->inconsistent)
        printf(" inconsistent=%llu", (unsigned long long)e->inconsistent);
    printf(" local_set=%llu peer_set=%llu released=%llu suppressed=%llu outcome=%s%s%s\n",
           (unsigned long long)e->local_set, (unsigned long long)e->peer_set,
           (unsigned long long)e->groups_released, (unsigned long long)e->groups_suppressed,
           ovl_outcome_name(e->outcome), *e->reason ? " reason=" : "", e->reason);
}

/* What a failed load means: the log's content is wrong (exit 7), or it
 * could not be read at all (the category's own status). */
static bool broken_log(ovl_err e)
{
    return e == OVL_ERR_AUTH || e == OVL_ERR_MALFORMED || e == OVL_ERR_LIMIT ||
           e == OVL_ERR_PROTOCOL || e == OVL_ERR_CRYPTO || e == OVL_ERR_POLICY;
}

static bool head_exists(const char *path)
{
    char hp[4096];
    struct stat st;
    int n = snprintf(hp, sizeof hp, "%s.head", path);
    return n > 0 && (size_t)n < sizeof hp && stat(hp, &st) == 0;
}

/* A mistyped or deleted log must not read as a clean, empty one. */
static ovl_err check_present(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0)
        return S_ISREG(st.st_mode) ? OVL_OK
                                   : ovl_err_set(OVL_ERR_INPUT, "%s: not a regular file", path);
    if (errno != ENOENT)
        return ovl_err_set(OVL_ERR_IO, "%s: cannot open audit log", path);
    if (head_exists(path))
        return ovl_err_set(OVL_ERR_AUTH, "%s: missing, but %s.head records entries (the log "
                           "was deleted or moved)", path, path);
    return ovl_err_set(OVL_ERR_INPUT, "%s: no such audit log (nor %s.head)", path, path);
}

int ovl_cmd_audit(int argc, char **argv)
{
    ovl_err rc = OVL_OK;
    ovl_audit_log log = {0};
    ovl_pubkey owner, peers[MAX_PEERS];
    size_t npeers = 0;
    bool have_owner = false;
    if (argc < 3 || ovl_cli_wants_help(argc, argv)) {
        bool h = ovl_cli_wants_help(argc, argv);
        fputs(help, h ? stdout : stderr);
        return h ? 0 : 2;
    }
    bool show = strcmp(argv[1], "show") == 0;
    OVL_ENSURE(show || strcmp(argv[1], "verify") == 0, OVL_ERR_USAGE,
               "audit: unknown subcommand '%s' (verify or show)", argv[1]);
    OVL_TRY(ovl_crypto_init());
    for (int i = 3; i < argc; i += 2) {
        OVL_ENSURE(i + 1 < argc, OVL_ERR_USAGE, "audit: %s needs a value", argv[i]);
        if (strcmp(argv[i], "--key") == 0) {
            OVL_TRY(ovl_cli_once_named("audit", "--key", &have_owner));
            OVL_TRY(ovl_pubkey_load(&owner, argv[i + 1]));
        } else if (strcmp(argv[i], "--peer") == 0) {
            OVL_ENSURE(npeers < MAX_PEERS, OVL_ERR_USAGE, "at most %d --peer options", MAX_PEERS);
            OVL_TRY(ovl_pubkey_load(&peers[npeers++], argv[i + 1]));
        } else {
            OVL_FAIL(ovl_err_set(OVL_ERR_USAGE, "audit: unknown option '%s' (see overlap audit "
                                 "--help)", argv[i]));
        }
    }
    OVL_TRY(check_present(argv[2]));
    rc = ovl_audit_load(&log, argv[2], have_owner ? &owner : NULL, peers, npeers);
    if (rc != OVL_OK && broken_log(rc)) {
        ovl_cli_fail(rc);
        ovl_audit_log_free(&log);
        return OVL_EXIT_AUDIT;
    }
    OVL_TRY(rc);
    OVL_ENSURE(log.n > 0 || head_exists(argv[2]), OVL_ERR_AUTH,
               "%s: holds no entries and %s.head is missing (were both emptied?)", argv[2],
               argv[2]);
    if (show) {
        for (size_t i = 0; i < log.n; i++)
            show_entry(&log.entries[i], peers, npeers);
    } else {
        char fpr[OVL_FPR_LEN] = "(empty log)";
        if (log.n)
            ovl_fingerprint(fpr, log.entries[0].signer);
        printf("%s: %zu entries; chain, signatures and head intact; signed by %s\n", argv[2],
               log.n, fpr);
    }
done:
    ovl_audit_log_free(&log);
    if (rc != OVL_OK && broken_log(rc)) {
        ovl_cli_fail(rc);
        return OVL_EXIT_AUDIT;
    }
    return rc == OVL_OK ? 0 : ovl_cli_fail(rc);
}
