/* A partner running modified code, for the policy tests
 * (tests/e2e/test_modified_peer_e2e.py). Where hostile_peer breaks the PSI
 * protocol, this peer speaks every protocol correctly and lies where an
 * honest client states facts about its analysis: it connects to an owner's
 * `serve` (or listening `run`) with a negotiated PSI run built from the
 * engine's own code (negotiation engine, agreement, PSI engine, real TLS)
 * and deviates as --case says:
 *
 *   honest            no deviation (the baseline)
 *   forged-receivers  REQUEST lists no receivers, yet asks for output
 *   false-cardinality REQUEST says the count is not revealed, in cardinality mode
 *   withheld-cosign   completes the run, takes its output, never co-signs
 *   bad-template      REQUEST carries an aggregate template whose text does not parse
 *
 * To get output it must bind the agreement the owner derived into its
 * HELLO, so it computes that honestly (a different one only stops the run
 * sooner). It prints "modified_peer: CASE: received N" (N: the count it
 * learnt) on success, or "modified_peer: CASE: <error>" and exits 1.
 *
 * usage: modified_peer --case NAME --connect H:P --identity KEY --peer PUB
 *                      [--n N] [--mode intersection|cardinality]
 *                      [--reveal connector|both|listener] [--join COLUMN] [--timeout S]
 * Its identifiers are SHA-256("user<i>@example.com"), i < N (default 50). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "core/pool.h"
#include "crypto/group.h"
#include "net/identity.h"
#include "net/transport.h"
#include "common/hello.h"
#include "psi/psi.h"
#include "session/drive.h"
#include "setup/agreement.h"
#include "setup/negotiator.h"
#include "tool_link.h"
#include "tool_peer.h"

static const char *const cases[] = {"honest", "forged-receivers", "false-cardinality",
                                    "withheld-cosign", "bad-template", NULL};

typedef struct {
    tp_common c;
    const char *join;
} args;

typedef struct {
    const args *a;
    const ovl_identity *self;
    ovl_nego nego;
    char fpr[2][OVL_FPR_LEN]; /* [listener, connector] */
    ovl_owner_terms terms[2];
    uint64_t listener_set;
    ovl_agreement agreement;
} peer;

static bool is(const args *a, const char *name) { return strcmp(a->c.name, name) == 0; }

/* No policy to consult and no audit log: an empty history, signed. */
static ovl_err on_prepare(void *arg, ovl_nego *request)
{
    peer *p = arg;
    memset(&request->connector_terms, 0, sizeof request->connector_terms);
    return ovl_history_sign(&request->connector_terms.history, p->self);
}

static ovl_err on_judge(void *arg, ovl_nego *request, ovl_owner_terms *terms, uint64_t *set_size)
{
    (void)arg;
    (void)request;
    (void)terms;
    (void)set_size;
    return ovl_err_set(OVL_ERR_INTERNAL, "this peer only connects");
}

/* The agreement the owner derived: the truth about who receives, so that
 * HELLO matches and the run goes ahead. */
static ovl_err on_agree(void *arg, const ovl_owner_terms *terms, uint64_t set_size)
{
    peer *p = arg;
    p->terms[0] = *terms;
    p->listener_set = set_size;
    ovl_agreement_req q = {.mode = p->nego.mode, .norm = p->nego.norm};
    if (p->nego.reveal != OVL_REVEAL_CONNECTOR)
        q.receivers[q.nreceivers++] = p->fpr[0];
    if (p->nego.reveal != OVL_REVEAL_LISTENER)
        q.receivers[q.nreceivers++] = p->fpr[1];
    q.reveals_cardinality = ovl_mode_reveals_size(p->nego.mode);
    return ovl_agreement_make(&p->agreement, &q, p->terms, 2);
}

static ovl_err on_cosigned(void *arg, const uint8_t sig[OVL_SIG_LEN])
{
    (void)arg;
    (void)sig;
    return OVL_OK;
}

static ovl_err build_request(peer *p)
{
    const args *a = p->a;
    ovl_nego *n = &p->nego;
    n->mode = a->c.mode;
    n->reveal = a->c.reveal;
    n->norm = OVL_NORM_NONE;
    n->join[0] = strdup(a->join);
    n->join[1] = strdup("email");
    if (!n->join[0] || !n->join[1])
        return ovl_err_set(OVL_ERR_NOMEM, "out of memory");
    if (!is(a, "forged-receivers")) {
        if (a->c.reveal != OVL_REVEAL_CONNECTOR)
            memcpy(n->receivers[n->nreceivers++], p->fpr[0], OVL_FPR_LEN);
        if (a->c.reveal != OVL_REVEAL_LISTENER)
            memcpy(n->receivers[n->nreceivers++], p->fpr[1], OVL_FPR_LEN);
    }
    n->reveals_cardinality = ovl_mode_reveals_size(a->c.mode) && !is(a, "false-cardinality");
    n->connector_set = a->c.n;
    if (is(a, "bad-template")) {
        static const char text[] = "SELECT COUNT(DISTINCT c.email) FROM a AS c INNER JOIN";
        n->mode = OVL_MODE_AGGREGATE;
        n->tpl_text = strdup(text);
        n->tpl_len = sizeof text - 1;
        n->tpl_label = strdup("evil.sql");
        if (!n->tpl_text || !n->tpl_label)
            return ovl_err_set(OVL_ERR_NOMEM, "out of memory");
    }
    return OVL_OK;
}

static ovl_err psi_params(const peer *p, ovl_buf *out)
{
    ovl_err rc = OVL_OK;
    const char *head = "psi/1 id=sha256 normalize=none";
    OVL_TRY(ovl_buf_put_bytes(out, head, strlen(head)));
    OVL_TRY(ovl_buf_put_u8(out, 0));
    OVL_TRY(ovl_buf_put_bytes(out, p->agreement.encoding, p->agreement.encoding_len));
    OVL_TRY(ovl_buf_put_u64(out, p->listener_set));
    OVL_TRY(ovl_buf_put_u64(out, p->a->c.n));
done:
    return rc;
}

static ovl_err run(const args *a, uint64_t *received)
{
    ovl_err rc = OVL_OK;
    peer p;
    ovl_identity *self = NULL;
    ovl_pubkey theirs;
    ovl_conn *conn = NULL;
    ovl_pool *pool = NULL;
    ovl_negotiator *nego = NULL;
    ovl_psi *psi = NULL;
    ovl_buf carry = {0}, params = {0};
    uint8_t(*ids)[32] = NULL;
    uint8_t transcript[OVL_NEGO_HASH_LEN];
    memset(&p, 0, sizeof p);
    p.a = a;
    OVL_TRY(ovl_identity_load(&self, a->c.identity));
    p.self = self;
    OVL_TRY(ovl_pubkey_load(&theirs, a->c.peer));
    ovl_fingerprint(p.fpr[0], theirs.pk);
    ovl_fingerprint(p.fpr[1], ovl_identity_pub(self)->pk);
    OVL_TRY(build_request(&p));
    OVL_TRY(tp_make_ids(&ids, a->c.n));
    OVL_TRY(ovl_pool_new(&pool, 2));
    OVL_TRY(ovl_buf_alloc(&carry, 4096, OVL_DRIVE_CARRY_MAX));
    OVL_TRY(ovl_buf_alloc(&params, 256, OVL_HELLO_PARAMS_MAX));
    OVL_TRY(tl_link("modified_peer", self, &theirs, NULL, a->c.connect, a->c.timeout, &conn,
                    NULL));
    ovl_negotiator_config cfg = {
        .role = OVL_ROLE_CONNECTOR,
        .request = &p.nego,
        .self = self,
        .peer = &theirs,
        .cb = {.prepare = on_prepare, .judge = on_judge, .agree = on_agree,
               .cosigned = on_cosigned, .arg = &p},
    };
    OVL_TRY(ovl_negotiator_new(&nego, &cfg));
    ovl_drive_opts d = {.timeout_ms = (int)a->c.timeout * 1000, .pool = pool, .rest = &carry};
    OVL_TRY(ovl_drive(conn, &ovl_negotiator_ops, nego, &d));
    OVL_TRY(psi_params(&p, &params));
    ovl_psi_config pc = {
        .role = OVL_ROLE_CONNECTOR,
        .mode = a->c.mode,
        .reveal = a->c.reveal,
        .group = ovl_group_default(),
        .ids = (const uint8_t(*)[32])ids,
        .nids = a->c.n,
        .max_peer_set = 1ull << 32,
        .max_jobs = 6,
        .params = params.data,
        .params_len = (uint32_t)params.wpos,
        .expect_peer_set = true,
        .peer_set_expected = p.listener_set,
    };
    OVL_TRY(ovl_psi_new(&psi, &pc));
    d.preread = carry.data + carry.rpos;
    d.preread_len = ovl_buf_remaining(&carry);
    OVL_TRY(ovl_drive(conn, &ovl_psi_ops, psi, &d));
    if (ovl_psi_receives_output(psi)) {
        const bool *matched;
        OVL_TRY(ovl_psi_result(psi, &matched, received));
    }
    if (is(a, "withheld-cosign"))
        goto done; /* output in hand: hang up without a co-signature */
    memcpy(transcript, ovl_psi_transcript(psi), OVL_NEGO_HASH_LEN);
    OVL_TRY(ovl_negotiator_cosign(nego, transcript));
    d.preread = carry.data + carry.rpos;
    d.preread_len = ovl_buf_remaining(&carry);
    OVL_TRY(ovl_drive(conn, &ovl_negotiator_ops, nego, &d));
done:
    ovl_conn_close(conn);
    ovl_psi_free(psi);
    ovl_negotiator_free(nego);
    ovl_pool_free(pool);
    ovl_buf_free(&carry);
    ovl_buf_free(&params);
    ovl_agreement_clear(&p.agreement);
    ovl_nego_clear(&p.nego);
    ovl_identity_free(self);
    free(ids);
    return rc;
}

static int usage(const char *why)
{
    return tp_usage("modified_peer", cases, why,
                    "--case NAME --connect H:P --identity KEY --peer PUB [--n N] [--mode M] "
                    "[--reveal R] [--join COLUMN] [--timeout S]");
}

static int parse_args(args *a, int argc, char **argv)
{
    static const struct option opts[] = {
        TP_COMMON_OPTIONS,
        {"join", required_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    int c;
    const char *why = NULL;
    memset(a, 0, sizeof *a);
    tp_common_init(&a->c, 20, OVL_REVEAL_CONNECTOR);
    a->join = "email";
    while ((c = tp_getopt(&a->c, argc, argv, opts, &why)) != -1) {
        if (c == TP_BAD)
            return usage(why);
        if (c != 'j')
            return usage("unknown option");
        a->join = optarg;
    }
    if (!tp_case_known(cases, a->c.name) || !a->c.connect || !a->c.identity || !a->c.peer ||
        a->c.n < 1 || a->c.n > 1000000 || a->c.timeout == 0 || a->c.mode == OVL_MODE_AGGREGATE)
        return usage("missing or bad arguments");
    return 0;
}

int main(int argc, char **argv)
{
    args a;
    uint64_t received = 0;
    if (parse_args(&a, argc, argv) != 0)
        return 2;
    ovl_err rc = ovl_crypto_init();
    if (rc == OVL_OK)
        rc = run(&a, &received);
    if (rc != OVL_OK) {
        printf("modified_peer: %s: %s\n", a.c.name, ovl_err_detail());
        return 1;
    }
    printf("modified_peer: %s: received %llu\n", a.c.name, (unsigned long long)received);
    return 0;
}
