/* A multi-party PSI session (protocols/mpsi/SPEC.md §3, §8): the steps of
 * the two-party pipeline (session.c) for K members.
 *
 *  1. Input: this member's identifiers, loaded before any connection.
 *  2. Setup: every member JOINs with the analysis it states and its set
 *     size; the hub answers with the member list (keys, names, sizes,
 *     nonces); each member checks it, applies its own policy to every other
 *     member and says READY; the hub says GO once all are. A refusal or a
 *     mismatch stops every member with one line naming the member.
 *  3. The engine (protocols/mpsi/mpsi.c), every member's frames moving
 *     through the hub (ROUTE, route.c). A member that fails, aborts or
 *     disconnects is named to every other member by the hub's ABORT.
 *  4. Co-signatures: each member signs the run's transcript hash once its
 *     part is done; the hub hands all K to every member, which checks them.
 *     Only then is the run complete anywhere.
 *  5. Output, written atomically by each receiving member.
 *  6. Audit: an entry naming every member, with every co-signature. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "core/frame.h"
#include "core/guard.h"
#include "core/mem.h"
#include "crypto/group.h"
#include "io/load.h"
#include "mpsi/route.h"
#include "mpsi/setup.h"
#include "policy/audit.h"
#include "policy/verifier.h"
#include "session/drive.h"
#include "session/mpsi_run.h"
#include "session/psi_output.h"

#define LINK_IN_CHUNK (256u << 10)
/* Bytes read ahead of the frames being computed on, so an ABORT behind
 * them is seen at once (link_frames) rather than after all of them. */
#define LINK_IN_MAX (64u << 20)
#define LINK_READ_STEP (16u << 20) /* read per connection per step, at most */
#define LINK_FRAMES_STEP 2u       /* frames handled per connection per step */
/* Unsent bytes one connection may hold: the hub relays every chain and
 * table of the run, and its engine produces them faster than a slow member
 * reads. 2 GiB covers members of 2^24 identifiers (SPEC.md §9). */
#define LINK_OUT_MAX ((size_t)1 << 31)
#define SETUP_FRAME_MAX 4096u
#define ABORT_WAIT_MS 2000
#define DRAIN_MS 15000
#define TLS_RECORD_MAX 16384u /* plaintext bytes in one TLS record */

static const char ANALYSIS_TAG[] = "overlap-v1 mpsi analysis";

typedef struct {
    ovl_conn *c;
    unsigned member; /* the member at the other end */
    ovl_buf in, out;
    long long heard;
    size_t front_left; /* unsent bytes of the frame partly sent (0: at a frame's start) */
    bool gone;         /* closed or failed: nothing more is sent to it */
    ovl_err eof;       /* the read that failed, held while complete frames remain */
    char eof_detail[256];
    bool closed;       /* nothing more to wait for: the connection failed, or it
                        * brought an ABORT (its sender closes without waiting) */
} mlink;

struct ovl_mpsi_session {
    ovl_mpsi_session_config cfg;
    ovl_idtable ids;
    unsigned k, self;
    ovl_mpsi_list list;
    const char *names[OVL_MPSI_MAX_MEMBERS];
    uint8_t sid[32], done[32];
    mlink link[OVL_MPSI_MAX_MEMBERS - 1];
    size_t nlinks;
    ovl_mpsi *eng;
    ovl_pool *pool;
    ovl_buf scratch;
    uint8_t sig[OVL_MPSI_MAX_MEMBERS][OVL_SIG_LEN];
    bool have_sig[OVL_MPSI_MAX_MEMBERS];
    unsigned nsigs;
    bool sent_sign, all_signed, listed, completed;
    bool receives, have_count;
    uint64_t count;
    char self_fpr[OVL_FPR_LEN];
    uint8_t analysis[OVL_HASH_LEN];
    uint64_t agreed_seq;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "member 2 (carol)", for every line that names a member. */
static const char *who(const ovl_mpsi_session *s, unsigned i, char buf[96])
{
    snprintf(buf, 96, "member %u (%s)", i, s->names[i] ? s->names[i] : "?");
    return buf;
}

static bool is_receiver(const ovl_mpsi_session *s, unsigned i)
{
    return s->cfg.mode == OVL_MODE_CARDINALITY || s->cfg.reveal == OVL_REVEAL_BOTH || i == 0;
}

/* ---- input (step 1) ---- */

ovl_err ovl_mpsi_session_new(ovl_mpsi_session **out, const ovl_mpsi_session_config *cfg)
{
    ovl_err rc = OVL_OK;
    ovl_mpsi_session *s = NULL;
    ovl_outfile *probe = NULL;
    ovl_table_input in;
    /* the matched rows of --out are copied in a second read, checked by the digest */
    ovl_load_spec want = {.query = cfg->query, .join = cfg->join, .norm = cfg->norm,
                          .prehashed = cfg->prehashed, .rows_digest = cfg->out != NULL};
    *out = NULL;
    OVL_ENSURE(cfg->members >= OVL_MPSI_MIN_MEMBERS && cfg->members <= OVL_MPSI_MAX_MEMBERS &&
                   cfg->npeers == (cfg->hub ? cfg->members - 1 : 1),
               OVL_ERR_USAGE, "mpsi: %u members with %zu peer keys", cfg->members, cfg->npeers);
    OVL_TRY(ovl_calloc((void **)&s, 1, sizeof *s));
    *out = s;
    s->cfg = *cfg;
    s->k = cfg->members;
    s->receives = is_receiver(s, cfg->hub ? 0 : 1);
    ovl_fingerprint(s->self_fpr, ovl_identity_pub(cfg->self)->pk);
    OVL_TRY(ovl_buf_alloc(&s->scratch, 64 * 1024, OVL_FRAME_HDR + OVL_FRAME_MAX_PAYLOAD));
    /* The engine's batches split over this thread and threads-1 workers. */
    OVL_TRY(ovl_pool_new(&s->pool, cfg->threads > 1 ? (size_t)cfg->threads - 1 : 0));
    OVL_TRY(ovl_table_load(&in, cfg->table, &want));
    s->ids = in.ids;
    OVL_ENSURE(s->ids.nids <= OVL_MPSI_MAX_SET, OVL_ERR_LIMIT,
               "%s holds %zu distinct identifiers; a multi-party run takes at most %u per member",
               cfg->table, s->ids.nids, OVL_MPSI_MAX_SET);
    /* An unwritable --out fails now, before any member is contacted. */
    if (cfg->out && s->receives) {
        OVL_TRY(ovl_output_open(&probe, cfg->out, cfg->replace));
        ovl_outfile_abort(probe);
    }
done:
    return rc;
}

/* ---- blocking frame I/O for the setup (small frames only) ---- */

static ovl_err write_all(ovl_conn *c, const uint8_t *p, size_t len, int timeout_ms)
{
    ovl_err rc = OVL_OK;
    long long deadline = now_ms() + timeout_ms;
    while (len > 0) {
        size_t n = 0;
        bool ready;
        OVL_TRY(ovl_conn_write_some(c, p, len, &n));
        p += n;
        len -= n;
        if (n == 0) {
            OVL_ENSURE(now_ms() < deadline, OVL_ERR_TIMEOUT, "peer %s does not read",
                       ovl_conn_label(c));
            OVL_TRY(ovl_conn_wait(c, true, 100, &ready));
        }
    }
done:
    return rc;
}

static ovl_err send_buf(mlink *l, ovl_buf *b, int timeout_ms)
{
    ovl_err rc = write_all(l->c, b->data, b->wpos, timeout_ms);
    ovl_buf_clear(b);
    return rc;
}

/* Tells one connection why the run stops, without waiting long on it. */
static void abort_link(mlink *l, ovl_err e, const char *reason)
{
    ovl_buf a;
    if (l->gone || ovl_buf_alloc(&a, 256, 512) != OVL_OK)
        return;
    /* The frame partly sent is finished first, or the ABORT would land
     * inside it; and a TLS write that stopped half-way holds up to one
     * record of what follows, so it is retried with at least that much. */
    size_t flush = l->front_left;
    if (ovl_conn_wants_write(l->c))
        while (flush < TLS_RECORD_MAX && flush < ovl_buf_remaining(&l->out)) {
            const uint8_t *h = ovl_buf_rptr(&l->out) + flush;
            flush += OVL_FRAME_HDR + ((size_t)h[1] << 24 | (size_t)h[2] << 16 |
                                      (size_t)h[3] << 8 | h[4]);
        }
    if (flush > 0 && write_all(l->c, ovl_buf_rptr(&l->out), flush, ABORT_WAIT_MS) != OVL_OK) {
        ovl_buf_free(&a);
        l->gone = true;
        return;
    }
    if (ovl_frame_abort(&a, e, reason) == OVL_OK)
        (void)write_all(l->c, a.data, a.wpos, ABORT_WAIT_MS);
    ovl_buf_free(&a);
    l->gone = true;
}

/* Closing a connection with unread bytes resets it, and the reset makes
 * the peer drop what it has not read yet, our ABORT included: so after the
 * ABORTs, read and discard until every peer has closed (each does once it
 * has read the ABORT, after the frames before it), for a bounded time. */
static void drain_links(ovl_mpsi_session *s)
{
    long long deadline = now_ms() + DRAIN_MS;
    uint8_t sink[16384];
    while (now_ms() < deadline) {
        struct pollfd fds[OVL_MPSI_MAX_MEMBERS];
        nfds_t nf = 0;
        for (size_t i = 0; i < s->nlinks; i++) {
            mlink *l = &s->link[i];
            size_t n = 1;
            while (!l->closed && n > 0)
                if (ovl_conn_read_some(l->c, sink, sizeof sink, &n) != OVL_OK)
                    l->closed = true;
            if (!l->closed) {
                fds[nf].fd = ovl_conn_fd(l->c);
                fds[nf].events = POLLIN;
                fds[nf++].revents = 0;
            }
        }
        if (nf == 0)
            break;
        (void)poll(fds, nf, 50);
    }
}

/* Fails the run with the current detail, told to every member but
 * `except` (the one that caused it, if it is gone). */
static ovl_err fail_all(ovl_mpsi_session *s, ovl_err e, int except)
{
    char reason[512];
    snprintf(reason, sizeof reason, "%s", ovl_err_detail());
    for (size_t i = 0; i < s->nlinks; i++)
        if ((int)s->link[i].member != except)
            abort_link(&s->link[i], e, reason);
    drain_links(s);
    return ovl_err_set(e, "%s", reason);
}

/* An ABORT's reason as this run's error (its category kept). */
static ovl_err abort_error(const uint8_t *p, size_t len)
{
    static const char prefix[] = "peer aborted: ";
    char reason[512];
    ovl_err e = ovl_frame_abort_decode(p, len);
    const char *d = ovl_err_detail();
    /* A member gone or silent elsewhere is a connection failure here too
     * (exit 4), not a protocol one. */
    uint16_t cat = len >= 2 ? (uint16_t)(p[0] << 8 | p[1]) : 0;
    if (cat == OVL_ERR_PEER_CLOSED || cat == OVL_ERR_TIMEOUT)
        e = (ovl_err)cat;
    snprintf(reason, sizeof reason, "%s",
             strncmp(d, prefix, sizeof prefix - 1) == 0 ? d + sizeof prefix - 1 : d);
    return ovl_err_set(e, "%s", reason);
}

/* One setup frame from l: *type and its payload in `frame`. */
static ovl_err read_setup(const ovl_mpsi_session *s, mlink *l, ovl_buf *frame, uint8_t *type,
                          ovl_buf *payload)
{
    ovl_err rc = OVL_OK;
    bool complete;
    char w[96];
    rc = ovl_read_frame(l->c, frame, (int)(s->cfg.timeout_s * 1000));
    l->closed = rc == OVL_ERR_PEER_CLOSED || rc == OVL_ERR_TLS || rc == OVL_ERR_IO;
    if (rc == OVL_ERR_PEER_CLOSED || rc == OVL_ERR_TLS)
        return ovl_err_set(rc, "%s disconnected during the setup", who(s, l->member, w));
    if (rc == OVL_ERR_TIMEOUT)
        return ovl_err_set(rc, "%s was silent for more than %llu s during the setup",
                           who(s, l->member, w), (unsigned long long)s->cfg.timeout_s);
    OVL_TRY(rc);
    OVL_TRY(ovl_frame_parse(frame, SETUP_FRAME_MAX, type, payload, &complete));
    OVL_ENSURE(complete, OVL_ERR_INTERNAL, "mpsi: a setup frame read in part");
    if (*type == OVL_FRAME_ABORT) {
        l->closed = true;
        return abort_error(ovl_buf_rptr(payload), ovl_buf_remaining(payload));
    }
done:
    return rc;
}

/* ---- policy (step 2) ---- */

static ovl_err analysis_id(ovl_mpsi_session *s)
{
    uint8_t v[4] = {(uint8_t)s->k, (uint8_t)s->cfg.mode, (uint8_t)s->cfg.reveal,
                    (uint8_t)s->cfg.norm};
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)ANALYSIS_TAG, sizeof ANALYSIS_TAG - 1);
    crypto_hash_sha256_update(&st, v, sizeof v);
    crypto_hash_sha256_final(&st, s->analysis);
    return OVL_OK;
}

/* This member's policy for a session with member j: j must be listed, the
 * mode allowed on this join column, and j, if it receives, a permitted
 * receiver. */
static ovl_err policy_for(const ovl_mpsi_session *s, unsigned j)
{
    static const ovl_approvals none;
    ovl_policy_terms t;
    char fpr[OVL_FPR_LEN];
    ovl_request r = {.mode = s->cfg.mode, .approvals = &none, .join_column = s->cfg.join,
                     .norm = s->cfg.norm, .prehashed = s->cfg.prehashed,
                     .reveals_cardinality = s->cfg.mode == OVL_MODE_CARDINALITY};
    ovl_fingerprint(fpr, s->list.pk[j]);
    if (is_receiver(s, j))
        r.receivers[r.nreceivers++] = fpr;
    return ovl_verify_request(&t, s->cfg.policy, s->self_fpr, fpr, &r);
}

static void fill_entry(const ovl_mpsi_session *s, ovl_audit_entry *e, ovl_outcome outcome,
                       const char *reason)
{
    memset(e, 0, sizeof *e);
    e->time = (uint64_t)time(NULL);
    /* The member this one is connected to: a member's hub, the hub's member 1. */
    ovl_fingerprint(e->peer, s->list.pk[s->self == 0 ? 1 : 0]);
    e->mode = s->cfg.mode;
    memcpy(e->analysis, s->analysis, OVL_HASH_LEN);
    e->local_set = s->ids.nids;
    for (unsigned i = 0; i < s->k; i++)
        if (i != s->self)
            e->peer_set += s->list.size[i];
    e->outcome = outcome;
    snprintf(e->reason, sizeof e->reason, "%s", reason);
    e->agreed = s->agreed_seq;
    e->nmembers = s->listed ? s->k : 0;
    for (unsigned i = 0; s->listed && i < s->k; i++)
        memcpy(e->member_pk[i], s->list.pk[i], OVL_PK_LEN);
    if (s->completed) {
        e->has_transcript = true;
        memcpy(e->transcript, s->done, OVL_HASH_LEN);
        e->has_member_sigs = true;
        memcpy(e->member_sig, s->sig, sizeof s->sig);
    }
}

/* Every other member allowed, then the run charged to budgets at once, under
 * the reservation lock (as analysis.c's owner_checks does for two). */
static ovl_err check_policy(ovl_mpsi_session *s)
{
    ovl_err rc = OVL_OK;
    ovl_audit_log log = {0};
    ovl_audit_entry e;
    int lock = -1;
    char fpr[OVL_FPR_LEN];
    memset(&e, 0, sizeof e);
    OVL_TRY(analysis_id(s));
    if (s->cfg.policy == NULL)
        return OVL_OK;
    for (unsigned j = 0; j < s->k; j++)
        if (j != s->self)
            OVL_TRY(policy_for(s, j));
    if (s->cfg.audit_path == NULL)
        goto done;
    OVL_TRY(ovl_audit_lock(s->cfg.audit_path, &lock));
    OVL_TRY(ovl_audit_load(&log, s->cfg.audit_path, ovl_identity_pub(s->cfg.self), NULL, 0));
    for (unsigned j = 0; j < s->k; j++) {
        if (j == s->self)
            continue;
        ovl_fingerprint(fpr, s->list.pk[j]);
        OVL_TRY(ovl_budget_check(s->cfg.policy, &log, fpr, s->analysis, (uint64_t)time(NULL)));
    }
    fill_entry(s, &e, OVL_OUTCOME_AGREED, "");
    OVL_TRY(ovl_audit_append(s->cfg.audit_path, s->cfg.self, &e));
    s->agreed_seq = e.seq;
done:
    ovl_audit_unlock(lock);
    ovl_audit_entry_clear(&e);
    ovl_audit_log_free(&log);
    return rc;
}

/* ---- setup (step 2) ---- */

static void name_members(ovl_mpsi_session *s)
{
    for (unsigned i = 0; i < s->k; i++)
        s->names[i] = s->list.name[i];
}

static ovl_err join_matches(const ovl_mpsi_session *s, unsigned i, const ovl_mpsi_join *j)
{
    char w[96];
    const ovl_mpsi_session_config *c = &s->cfg;
    who(s, i, w);
    if (j->members != s->k)
        return ovl_err_set(OVL_ERR_POLICY, "%s runs --parties %u, the listener --parties %u", w,
                           j->members, s->k);
    if (j->mode != c->mode)
        return ovl_err_set(OVL_ERR_POLICY, "%s runs --mode %s, the listener --mode %s", w,
                           ovl_mode_name(j->mode), ovl_mode_name(c->mode));
    if (j->reveal != c->reveal)
        return ovl_err_set(OVL_ERR_POLICY, "%s runs --reveal %s, the listener --reveal %s", w,
                           j->reveal == OVL_REVEAL_BOTH ? "all" : "listener",
                           c->reveal == OVL_REVEAL_BOTH ? "all" : "listener");
    if (j->norm != c->norm)
        return ovl_err_set(OVL_ERR_POLICY, "%s runs --normalize %s, the listener --normalize %s",
                           w, ovl_norm_name(j->norm), ovl_norm_name(c->norm));
    return OVL_OK;
}

static ovl_err hub_joins(ovl_mpsi_session *s, ovl_buf *frame)
{
    ovl_err rc;
    const ovl_pubkey *me = ovl_identity_pub(s->cfg.self);
    ovl_mpsi_list *l = &s->list;
    l->members = s->k;
    l->mode = s->cfg.mode;
    l->reveal = s->cfg.reveal;
    l->norm = s->cfg.norm;
    memcpy(l->pk[0], me->pk, OVL_PK_LEN);
    snprintf(l->name[0], sizeof l->name[0], "%s", me->name);
    l->size[0] = s->ids.nids;
    randombytes_buf(l->nonce[0], 32);
    for (unsigned i = 1; i < s->k; i++) {
        memcpy(l->pk[i], s->cfg.peers[i - 1].pk, OVL_PK_LEN);
        snprintf(l->name[i], sizeof l->name[i], "%s", s->cfg.peers[i - 1].name);
    }
    name_members(s);
    for (size_t i = 0; i < s->nlinks; i++) {
        mlink *lk = &s->link[i];
        uint8_t type;
        ovl_buf p;
        ovl_mpsi_join j;
        char w[96];
        rc = read_setup(s, lk, frame, &type, &p);
        if (rc == OVL_OK && type != OVL_MPSI_JOIN)
            rc = ovl_err_set(OVL_ERR_PROTOCOL, "%s opened with frame 0x%02x, not JOIN (is it "
                             "running --parties?)", who(s, lk->member, w), type);
        if (rc == OVL_OK)
            rc = ovl_mpsi_join_read(&j, ovl_buf_rptr(&p), ovl_buf_remaining(&p));
        if (rc == OVL_OK)
            rc = join_matches(s, lk->member, &j);
        if (rc != OVL_OK) {
            if (strstr(ovl_err_detail(), who(s, lk->member, w)) == NULL)
                rc = ovl_err_wrap(rc, "%s: ", w);
            return fail_all(s, rc, -1);
        }
        l->size[lk->member] = j.size;
        memcpy(l->nonce[lk->member], j.nonce, 32);
    }
    s->listed = true;
    return OVL_OK;
}

static ovl_err hub_setup(ovl_mpsi_session *s)
{
    ovl_err rc = OVL_OK;
    ovl_buf frame = {0}, out = {0};
    char w[96];
    OVL_TRY(ovl_buf_alloc(&frame, 512, OVL_FRAME_HDR + SETUP_FRAME_MAX));
    OVL_TRY(ovl_buf_alloc(&out, 512, OVL_FRAME_HDR + SETUP_FRAME_MAX));
    OVL_TRY(hub_joins(s, &frame));
    OVL_TRY(ovl_mpsi_list_session(s->sid, &s->list));
    for (size_t i = 0; i < s->nlinks; i++) {
        s->list.index = s->link[i].member;
        OVL_TRY(ovl_mpsi_list_write(&out, &s->list));
        OVL_TRY(send_buf(&s->link[i], &out, (int)(s->cfg.timeout_s * 1000)));
    }
    rc = check_policy(s);
    if (rc != OVL_OK) {
        fprintf(stderr, "overlap: %s\n", ovl_err_detail());
        rc = ovl_err_wrap(rc, "%s refused the analysis: ", who(s, 0, w));
        OVL_FAIL(fail_all(s, rc, -1));
    }
    for (size_t i = 0; i < s->nlinks; i++) {
        mlink *lk = &s->link[i];
        uint8_t type;
        ovl_buf p;
        rc = read_setup(s, lk, &frame, &type, &p);
        if (rc == OVL_OK && (type != OVL_MPSI_READY || ovl_buf_remaining(&p) != 0))
            rc = ovl_err_set(OVL_ERR_PROTOCOL, "%s answered the member list with frame 0x%02x",
                             who(s, lk->member, w), type);
        if (rc == OVL_ERR_POLICY)
            rc = ovl_err_wrap(rc, "%s refused the analysis: ", who(s, lk->member, w));
        else if (rc != OVL_OK && strstr(ovl_err_detail(), who(s, lk->member, w)) == NULL)
            rc = ovl_err_wrap(rc, "%s: ", w);
        if (rc != OVL_OK)
            OVL_FAIL(fail_all(s, rc, (int)lk->member));
    }
    for (size_t i = 0; i < s->nlinks; i++) {
        OVL_TRY(ovl_frame_empty(&out, OVL_MPSI_GO));
        OVL_TRY(send_buf(&s->link[i], &out, (int)(s->cfg.timeout_s * 1000)));
    }
done:
    ovl_buf_free(&frame);
    ovl_buf_free(&out);
    return rc;
}

/* A member's checks of the hub's list: the hub at 0, itself where the list
 * says, its own size, and the analysis it states. */
static ovl_err check_list(ovl_mpsi_session *s)
{
    const ovl_mpsi_list *l = &s->list;
    const ovl_pubkey *me = ovl_identity_pub(s->cfg.self);
    if (memcmp(l->pk[0], s->cfg.peers[0].pk, OVL_PK_LEN) != 0)
        return ovl_err_set(OVL_ERR_PROTOCOL, "the listener's member list names another key as "
                           "member 0");
    if (memcmp(l->pk[l->index], me->pk, OVL_PK_LEN) != 0)
        return ovl_err_set(OVL_ERR_PROTOCOL, "the listener's member list places another key at "
                           "this member's index %u", l->index);
    if (l->size[l->index] != s->ids.nids)
        return ovl_err_set(OVL_ERR_PROTOCOL, "the listener's member list gives this member %llu "
                           "identifiers, not its %zu", (unsigned long long)l->size[l->index],
                           s->ids.nids);
    if (l->members != s->k || l->mode != s->cfg.mode || l->reveal != s->cfg.reveal ||
        l->norm != s->cfg.norm)
        return ovl_err_set(OVL_ERR_PROTOCOL, "the listener's member list states another "
                           "analysis than this member");
    return OVL_OK;
}

static ovl_err member_setup(ovl_mpsi_session *s)
{
    ovl_err rc = OVL_OK;
    ovl_buf frame = {0}, out = {0}, p;
    mlink *hub = &s->link[0];
    uint8_t type;
    int tmo = (int)(s->cfg.timeout_s * 1000);
    ovl_mpsi_join j = {.members = s->k, .mode = s->cfg.mode, .reveal = s->cfg.reveal,
                       .norm = s->cfg.norm, .size = s->ids.nids};
    s->names[0] = s->cfg.peers[0].name;
    randombytes_buf(j.nonce, 32);
    OVL_TRY(ovl_buf_alloc(&frame, 512, OVL_FRAME_HDR + SETUP_FRAME_MAX));
    OVL_TRY(ovl_buf_alloc(&out, 512, OVL_FRAME_HDR + SETUP_FRAME_MAX));
    OVL_TRY(ovl_mpsi_join_write(&out, &j));
    OVL_TRY(send_buf(hub, &out, tmo));
    OVL_TRY(read_setup(s, hub, &frame, &type, &p));
    OVL_ENSURE(type == OVL_MPSI_LIST, OVL_ERR_PROTOCOL,
               "the listener answered JOIN with frame 0x%02x, not the member list", type);
    OVL_TRY(ovl_mpsi_list_read(&s->list, ovl_buf_rptr(&p), ovl_buf_remaining(&p)));
    OVL_TRY(check_list(s));
    s->self = s->list.index;
    s->listed = true;
    name_members(s);
    OVL_TRY(ovl_mpsi_list_session(s->sid, &s->list));
    rc = check_policy(s);
    if (rc != OVL_OK) {
        abort_link(hub, rc, ovl_err_detail());
        OVL_FAIL(rc);
    }
    OVL_TRY(ovl_frame_empty(&out, OVL_MPSI_READY));
    OVL_TRY(send_buf(hub, &out, tmo));
    OVL_TRY(read_setup(s, hub, &frame, &type, &p));
    OVL_ENSURE(type == OVL_MPSI_GO && ovl_buf_remaining(&p) == 0, OVL_ERR_PROTOCOL,
               "the listener sent frame 0x%02x instead of the start of the run", type);
done:
    ovl_buf_free(&frame);
    ovl_buf_free(&out);
    return rc;
}

/* ---- the run (steps 3 and 4) ---- */

static ovl_err sign_with_identity(void *arg, uint8_t sig[64], const uint8_t *msg, size_t len)
{
    return ovl_identity_sign(arg, sig, msg, len);
}

static ovl_err start_engine(ovl_mpsi_session *s)
{
    ovl_mpsi_config c = {
        .members = s->k,
        .self = s->self,
        .mode = s->cfg.mode,
        .reveal = s->cfg.reveal,
        .group = ovl_group_default(),
        .ids = (const uint8_t(*)[32])s->ids.ids,
        .nids = s->ids.nids,
        .set_sizes = s->list.size,
        .member_pk = (const uint8_t(*)[32])s->list.pk,
        .names = s->names,
        .sign = sign_with_identity,
        .sign_arg = (void *)s->cfg.self,
        .session = s->sid,
        .pool = s->pool,
    };
    return ovl_mpsi_new(&s->eng, &c);
}

/* The link to member i (the hub's links are in index order). */
static mlink *link_to(ovl_mpsi_session *s, unsigned i)
{
    return s->self == 0 ? &s->link[i - 1] : &s->link[0];
}

/* Every frame the engine has, onto its connection: bare to or from the hub,
 * in a ROUTE between two other members (SPEC.md §3.3). */
static ovl_err pull_engine(ovl_mpsi_session *s, bool *moved)
{
    ovl_err rc = OVL_OK;
    for (;;) {
        bool have;
        unsigned to;
        ovl_buf_clear(&s->scratch);
        OVL_TRY(ovl_mpsi_pull(s->eng, &s->scratch, &to, &have));
        if (!have)
            break;
        *moved = true;
        OVL_ENSURE(to < s->k && to != s->self, OVL_ERR_INTERNAL, "mpsi: a frame for member %u", to);
        mlink *l = link_to(s, to);
        if (s->self != 0 && to != 0)
            OVL_TRY(ovl_mpsi_route_wrap(&l->out, to, s->scratch.data, s->scratch.wpos));
        else
            OVL_TRY(ovl_buf_put_bytes(&l->out, s->scratch.data, s->scratch.wpos));
    }
done:
    return rc;
}

static ovl_err sig_check(const ovl_mpsi_session *s, unsigned i, const uint8_t sig[OVL_SIG_LEN])
{
    uint8_t msg[128];
    ovl_pubkey pk;
    char w[96];
    size_t n = ovl_audit_cosign_msg(msg, sizeof msg, s->done);
    memcpy(pk.pk, s->list.pk[i], OVL_PK_LEN);
    pk.name[0] = '\0';
    if (ovl_pubkey_verify(&pk, sig, msg, n) != OVL_OK)
        return ovl_err_set(OVL_ERR_AUTH, "%s's co-signature of the run does not verify",
                           who(s, i, w));
    return OVL_OK;
}

/* Once this member's engine is done: its co-signature (a member sends it
 * to the hub; the hub, holding all K, hands them to every member). */
static ovl_err cosign(ovl_mpsi_session *s)
{
    ovl_err rc = OVL_OK;
    uint8_t msg[128];
    if (!ovl_mpsi_done(s->eng))
        return OVL_OK;
    if (!s->sent_sign) {
        size_t n = ovl_audit_cosign_msg(msg, sizeof msg, s->done);
        OVL_TRY(ovl_identity_sign(s->cfg.self, s->sig[s->self], msg, n));
        s->have_sig[s->self] = true;
        s->nsigs++;
        s->sent_sign = true;
        if (s->self != 0)
            OVL_TRY(ovl_mpsi_sign_write(&s->link[0].out, s->sig[s->self]));
    }
    if (s->self == 0 && !s->all_signed && s->nsigs == s->k) {
        for (size_t i = 0; i < s->nlinks; i++)
            OVL_TRY(ovl_mpsi_sigs_write(&s->link[i].out, s->k,
                                        (const uint8_t(*)[OVL_SIG_LEN])s->sig));
        s->all_signed = true;
    }
done:
    return rc;
}

static ovl_err hub_frame(ovl_mpsi_session *s, mlink *l, uint8_t type, const uint8_t *p,
                         size_t len)
{
    ovl_err rc = OVL_OK;
    char w[96];
    unsigned to;
    uint8_t itype;
    ovl_buf inner;
    if (type == OVL_MPSI_ROUTE) {
        OVL_TRY(ovl_mpsi_route_hub(p, len, s->k, l->member, &to, &itype, &inner));
        mlink *dst = link_to(s, to);
        /* A member already gone gets nothing more; the run stops anyway. */
        if (!dst->gone)
            OVL_TRY(ovl_mpsi_route_wrap(&dst->out, l->member,
                                        ovl_buf_rptr(&inner) - OVL_FRAME_HDR,
                                        ovl_buf_remaining(&inner) + OVL_FRAME_HDR));
    } else if (type == OVL_FRAME_ABORT) {
        l->closed = true;
        rc = abort_error(p, len);
        return ovl_err_wrap(rc, "%s stopped the run: ", who(s, l->member, w));
    } else if (type == OVL_MPSI_SIGN) {
        OVL_ENSURE(!s->have_sig[l->member], OVL_ERR_PROTOCOL, "%s sent SIGN twice",
                   who(s, l->member, w));
        OVL_TRY(ovl_mpsi_sign_read(s->sig[l->member], p, len));
        OVL_TRY(sig_check(s, l->member, s->sig[l->member]));
        s->have_sig[l->member] = true;
        s->nsigs++;
    } else {
        OVL_TRY(ovl_mpsi_feed(s->eng, l->member, type, p, len));
    }
done:
    return rc;
}

static ovl_err member_frame(ovl_mpsi_session *s, uint8_t type, const uint8_t *p, size_t len)
{
    ovl_err rc = OVL_OK;
    unsigned from;
    uint8_t itype;
    ovl_buf inner;
    if (type == OVL_MPSI_ROUTE) {
        OVL_TRY(ovl_mpsi_route_open(p, len, s->k, &from, &itype, &inner));
        OVL_TRY(ovl_mpsi_feed(s->eng, from, itype, ovl_buf_rptr(&inner),
                              ovl_buf_remaining(&inner)));
    } else if (type == OVL_FRAME_ABORT) {
        s->link[0].closed = true;
        return abort_error(p, len);
    } else if (type == OVL_MPSI_SIGS) {
        OVL_ENSURE(s->sent_sign && !s->all_signed, OVL_ERR_PROTOCOL,
                   "the listener sent the co-signatures before this member's part was done");
        OVL_TRY(ovl_mpsi_sigs_read(s->sig, s->k, p, len));
        for (unsigned i = 0; i < s->k; i++)
            OVL_TRY(sig_check(s, i, s->sig[i]));
        s->all_signed = true;
    } else {
        OVL_TRY(ovl_mpsi_feed(s->eng, 0, type, p, len));
    }
done:
    return rc;
}

/* An ABORT among the complete frames read ahead: the run stops now, not
 * after computing on the frames before it. */
static ovl_err abort_ahead(ovl_mpsi_session *s, mlink *l)
{
    ovl_buf r = l->in;
    for (;;) {
        uint8_t type;
        ovl_buf payload;
        bool complete;
        if (ovl_frame_parse(&r, OVL_FRAME_MAX_PAYLOAD, &type, &payload, &complete) != OVL_OK ||
            !complete)
            return OVL_OK;
        if (type == OVL_FRAME_ABORT)
            return s->self == 0 ? hub_frame(s, l, type, ovl_buf_rptr(&payload),
                                            ovl_buf_remaining(&payload))
                                : member_frame(s, type, ovl_buf_rptr(&payload),
                                               ovl_buf_remaining(&payload));
    }
}

static ovl_err link_frames(ovl_mpsi_session *s, mlink *l, bool *moved)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(abort_ahead(s, l));
    for (unsigned k = 0; k < LINK_FRAMES_STEP; k++) {
        uint8_t type;
        ovl_buf payload;
        bool complete;
        OVL_TRY(ovl_frame_parse(&l->in, OVL_FRAME_MAX_PAYLOAD, &type, &payload, &complete));
        if (!complete)
            break;
        *moved = true;
        const uint8_t *p = ovl_buf_rptr(&payload);
        size_t n = ovl_buf_remaining(&payload);
        OVL_TRY(s->self == 0 ? hub_frame(s, l, type, p, n) : member_frame(s, type, p, n));
    }
    /* Moved down only once the consumed part outweighs the rest (amortised). */
    if (ovl_buf_remaining(&l->in) == 0)
        ovl_buf_clear(&l->in);
    else if (l->in.rpos >= ovl_buf_remaining(&l->in) || l->in.max - l->in.wpos < LINK_IN_CHUNK)
        ovl_buf_compact(&l->in);
done:
    return rc;
}

static ovl_err link_write(mlink *l, bool *moved)
{
    ovl_err rc = OVL_OK;
    size_t n;
    if (ovl_buf_remaining(&l->out) == 0)
        return OVL_OK;
    OVL_TRY(ovl_conn_write_some(l->c, ovl_buf_rptr(&l->out), ovl_buf_remaining(&l->out), &n));
    if (n == 0)
        return OVL_OK;
    *moved = true;
    /* Where the frame being sent ends (for abort_link). */
    for (size_t at = 0; at < n;) {
        if (l->front_left == 0) {
            const uint8_t *h = ovl_buf_rptr(&l->out) + at;
            l->front_left = OVL_FRAME_HDR + ((size_t)h[1] << 24 | (size_t)h[2] << 16 |
                                             (size_t)h[3] << 8 | h[4]);
        }
        size_t take = n - at < l->front_left ? n - at : l->front_left;
        l->front_left -= take;
        at += take;
    }
    OVL_TRY(ovl_buf_skip(&l->out, n));
    /* As drive.c: drop sent bytes only once they outweigh the rest. */
    if (ovl_buf_remaining(&l->out) == 0)
        ovl_buf_clear(&l->out);
    else if (l->out.rpos >= ovl_buf_remaining(&l->out))
        ovl_buf_compact(&l->out);
done:
    return rc;
}

/* Whether a complete frame waits in l->in. */
static bool frame_waiting(const mlink *l)
{
    ovl_buf r = l->in;
    uint8_t type;
    ovl_buf payload;
    bool complete;
    return ovl_frame_parse(&r, OVL_FRAME_MAX_PAYLOAD, &type, &payload, &complete) == OVL_OK &&
           complete;
}

/* A connection that ended is reported only once the frames read before its
 * end are handled (a peer may close right after its last frame). */
static ovl_err link_read(mlink *l, bool *moved)
{
    ovl_err rc = OVL_OK;
    if (l->eof != OVL_OK)
        return frame_waiting(l) ? OVL_OK : ovl_err_set(l->eof, "%s", l->eof_detail);
    for (size_t got = 0; got < LINK_READ_STEP;) {
        size_t room = l->in.max - l->in.wpos, n;
        if (room > LINK_IN_CHUNK)
            room = LINK_IN_CHUNK;
        if (room == 0)
            break;
        OVL_TRY(ovl_buf_ensure(&l->in, room));
        rc = ovl_conn_read_some(l->c, l->in.data + l->in.wpos, room, &n);
        if (rc != OVL_OK && frame_waiting(l)) {
            l->eof = rc;
            snprintf(l->eof_detail, sizeof l->eof_detail, "%s", ovl_err_detail());
            return OVL_OK;
        }
        OVL_TRY(rc);
        if (n == 0)
            break;
        l->in.wpos += n;
        l->heard = now_ms();
        *moved = true;
        got += n;
    }
done:
    return rc;
}

/* A connection's failure as the run's: a member that closed or reset it is
 * named; other errors name it unless they do already. */
static ovl_err link_error(const ovl_mpsi_session *s, const mlink *l, ovl_err rc)
{
    char w[96];
    who(s, l->member, w);
    if (rc == OVL_ERR_PEER_CLOSED || rc == OVL_ERR_TLS || rc == OVL_ERR_IO)
        return ovl_err_set(OVL_ERR_PEER_CLOSED, "%s%s disconnected mid-run (%s)", w,
                           l->member == 0 ? ", the listener," : "", ovl_err_detail());
    /* The engine's and the relay's own errors name the member at fault. */
    const char *d = ovl_err_detail();
    if (strncmp(d, "mpsi: ", 6) != 0 && strncmp(d, "member ", 7) != 0)
        return ovl_err_wrap(rc, "%s: ", w);
    return rc;
}

static bool finished(const ovl_mpsi_session *s)
{
    if (!s->all_signed)
        return false;
    for (size_t i = 0; i < s->nlinks; i++)
        if (ovl_buf_remaining(&s->link[i].out) > 0)
            return false;
    return true;
}

/* Waits for any connection; a run silent for the timeout names the member
 * heard from longest ago. */
static ovl_err wait_links(ovl_mpsi_session *s)
{
    struct pollfd fds[OVL_MPSI_MAX_MEMBERS];
    long long now = now_ms(), last = 0;
    size_t oldest = 0;
    for (size_t i = 0; i < s->nlinks; i++) {
        mlink *l = &s->link[i];
        if (ovl_conn_pending(l->c))
            return OVL_OK;
        fds[i].fd = ovl_conn_fd(l->c);
        fds[i].events = POLLIN;
        if (ovl_buf_remaining(&l->out) > 0 || ovl_conn_wants_write(l->c))
            fds[i].events |= POLLOUT;
        fds[i].revents = 0;
        if (l->heard > last)
            last = l->heard;
        if (l->heard < s->link[oldest].heard)
            oldest = i;
    }
    if (now - last > (long long)s->cfg.timeout_s * 1000) {
        char w[96];
        return ovl_err_set(OVL_ERR_TIMEOUT, "%s was silent for more than %llu s",
                           who(s, s->link[oldest].member, w),
                           (unsigned long long)s->cfg.timeout_s);
    }
    if (poll(fds, (nfds_t)s->nlinks, 200) < 0 && errno != EINTR)
        return ovl_err_set(OVL_ERR_IO, "poll failed: %s", strerror(errno));
    return OVL_OK;
}

static ovl_err step_links(ovl_mpsi_session *s, bool *moved)
{
    ovl_err rc = OVL_OK;
    for (size_t i = 0; i < s->nlinks; i++) {
        mlink *l = &s->link[i];
        rc = link_read(l, moved);
        if (rc == OVL_OK)
            rc = link_frames(s, l, moved);
        if (rc == OVL_OK) {
            rc = link_write(l, moved);
            /* A member that stopped sends ABORT, then closes, so our write
             * may fail first: its reason, if it came, says more. */
            if (rc != OVL_OK && link_read(l, moved) == OVL_OK) {
                ovl_err why = link_frames(s, l, moved);
                rc = why != OVL_OK ? why : rc;
            }
        }
        if (rc != OVL_OK) {
            /* The member is gone (or stopped) unless our own engine failed. */
            if (rc == OVL_ERR_PEER_CLOSED || rc == OVL_ERR_TLS || rc == OVL_ERR_IO)
                l->gone = l->closed = true;
            if (strstr(ovl_err_detail(), "stopped the run") != NULL)
                l->gone = true;
            return link_error(s, l, rc);
        }
    }
    OVL_TRY(pull_engine(s, moved));
    OVL_TRY(cosign(s));
done:
    return rc;
}

static ovl_err run_links(ovl_mpsi_session *s)
{
    ovl_err rc = OVL_OK;
    ovl_mpsi_done_hash(s->done, s->sid);
    for (size_t i = 0; i < s->nlinks; i++) {
        s->link[i].heard = now_ms();
        OVL_TRY(ovl_buf_alloc(&s->link[i].in, LINK_IN_CHUNK, LINK_IN_MAX));
        OVL_TRY(ovl_buf_alloc(&s->link[i].out, 64 * 1024, LINK_OUT_MAX));
    }
    OVL_TRY(start_engine(s));
    while (!finished(s)) {
        bool moved = false;
        OVL_TRY(step_links(s, &moved));
        if (!moved)
            OVL_TRY(wait_links(s));
    }
    s->completed = true;
done:
    /* The hub tells every other member who stopped the run; a member tells
     * the hub, which tells the rest. */
    if (rc != OVL_OK)
        rc = fail_all(s, rc, -1);
    return rc;
}

/* ---- output and audit (steps 5 and 6) ---- */

static ovl_err deliver(ovl_mpsi_session *s)
{
    ovl_err rc = OVL_OK;
    const bool *matched = NULL;
    if (!ovl_mpsi_receives(s->eng))
        return OVL_OK;
    OVL_TRY(ovl_mpsi_result(s->eng, &matched, &s->count));
    s->have_count = true;
    if (s->cfg.out == NULL)
        return OVL_OK;
    const ovl_psi_output o = {s->cfg.out, s->cfg.replace, s->cfg.writing, s->cfg.mode,
                             s->cfg.table, s->cfg.query, &s->ids};
    return ovl_psi_output_write(&o, matched, s->count);
done:
    return rc;
}

static void audit(ovl_mpsi_session *s, ovl_err result)
{
    ovl_audit_entry e;
    char reason[512];
    if (s->cfg.audit_path == NULL)
        return;
    snprintf(reason, sizeof reason, "%s", result == OVL_OK ? "" : ovl_err_detail());
    ovl_outcome outcome = result == OVL_OK ? OVL_OUTCOME_OK
                          : result == OVL_ERR_POLICY && !s->agreed_seq ? OVL_OUTCOME_REFUSED
                                                                       : OVL_OUTCOME_FAILED;
    if (analysis_id(s) == OVL_OK) {
        fill_entry(s, &e, outcome, reason);
        if (ovl_audit_append(s->cfg.audit_path, s->cfg.self, &e) != OVL_OK)
            fprintf(stderr, "overlap: warning: could not append to the audit log %s: %s\n",
                    s->cfg.audit_path, ovl_err_detail());
        ovl_audit_entry_clear(&e);
    }
    if (result != OVL_OK)
        (void)ovl_err_set(result, "%s", reason);
}

ovl_err ovl_mpsi_session_run(ovl_mpsi_session *s, ovl_conn *const *conns, size_t nconns)
{
    ovl_err rc = OVL_OK;
    OVL_ENSURE(nconns == s->cfg.npeers, OVL_ERR_INTERNAL, "mpsi: %zu connections", nconns);
    s->nlinks = nconns;
    for (size_t i = 0; i < nconns; i++) {
        s->link[i].c = conns[i];
        s->link[i].member = s->cfg.hub ? (unsigned)i + 1 : 0;
    }
    if (s->cfg.hub) {
        OVL_TRY(hub_setup(s));
    } else {
        rc = member_setup(s);
        if (rc != OVL_OK)
            OVL_FAIL(fail_all(s, rc, -1));
    }
    OVL_TRY(run_links(s));
    OVL_TRY(deliver(s));
done:
    audit(s, rc);
    return rc;
}

void ovl_mpsi_session_result_get(const ovl_mpsi_session *s, ovl_mpsi_session_result *r)
{
    memset(r, 0, sizeof *r);
    r->members = s->k;
    r->self = s->self;
    for (unsigned i = 0; s->listed && i < s->k; i++) {
        snprintf(r->name[i], sizeof r->name[i], "%s", s->list.name[i]);
        ovl_fingerprint(r->fpr[i], s->list.pk[i]);
        r->size[i] = s->list.size[i];
    }
    r->receives = s->receives;
    r->have_count = s->have_count;
    r->count = s->count;
    r->local_rows = s->ids.nrows;
    r->local_ids = s->ids.nids;
    r->skipped = s->ids.skipped;
    for (size_t i = 0; i < s->nlinks; i++) {
        r->bytes_sent += ovl_conn_bytes_sent(s->link[i].c);
        r->bytes_received += ovl_conn_bytes_received(s->link[i].c);
    }
}

void ovl_mpsi_session_free(ovl_mpsi_session *s)
{
    if (s == NULL)
        return;
    ovl_mpsi_free(s->eng);
    ovl_pool_free(s->pool);
    for (size_t i = 0; i < OVL_MPSI_MAX_MEMBERS - 1; i++) {
        ovl_buf_free(&s->link[i].in);
        ovl_buf_free(&s->link[i].out);
    }
    ovl_buf_free(&s->scratch);
    ovl_idtable_free(&s->ids);
    sodium_memzero(s, sizeof *s);
    free(s);
}
