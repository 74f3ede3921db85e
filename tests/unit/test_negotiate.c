#include <stdlib.h>
#include <string.h>

#include "crypto/group.h"
#include "policy/audit.h"
#include "setup/negotiate.h"
#include "test.h"

static void sample(ovl_nego *n)
{
    static ovl_nego_param params[] = {{"campaign_id", "CAMP_A"}, {"start_date", "2026-07-01"}};
    static char *approvals[] = {"overlap-approval-v1 ed25519 aa bb cc alice"};
    static char *group_by[] = {"ad_format"};
    static ovl_nego_value values[] = {{OVL_FN_SUM, "amount"}, {OVL_FN_AVG, "amount"}};
    static unsigned decimals[] = {2, 2};
    memset(n, 0, sizeof *n);
    n->mode = OVL_MODE_AGGREGATE;
    n->reveal = OVL_REVEAL_CONNECTOR;
    n->norm = OVL_NORM_EMAIL;
    n->join[0] = "email";
    n->join[1] = "hashed_email";
    n->tpl_text = "SELECT 1";
    n->tpl_len = 8;
    n->tpl_label = "t.sql";
    n->params = params;
    n->nparams = 2;
    n->approvals = approvals;
    n->napprovals = 1;
    n->group_by = group_by;
    n->ngroup_by = 1;
    n->values = values;
    n->decimals = decimals;
    n->nvalues = 2;
    n->threshold = 25;
    memcpy(n->receivers[0], "SHA256:0000000000000000000000000000000000000000000000000000000000000000",
           OVL_FPR_LEN);
    n->nreceivers = 1;
    n->connector_terms.has_policy = true;
    n->connector_terms.min_rows = 10;
    n->connector_set = 1234;
}

static void request_roundtrip(void)
{
    ovl_nego n, back;
    ovl_buf b;
    sample(&n);
    EXPECT_OK(ovl_buf_alloc(&b, 256, 1 << 20));
    EXPECT_OK(ovl_nego_write(&b, &n));
    EXPECT_EQ(b.data[0], OVL_REQUEST_TYPE);
    EXPECT_OK(ovl_nego_parse(&back, b.data + OVL_FRAME_HDR, b.wpos - OVL_FRAME_HDR));
    EXPECT_EQ(back.mode, OVL_MODE_AGGREGATE);
    EXPECT_STR_EQ(back.join[1], "hashed_email");
    EXPECT_EQ(back.tpl_len, 8);
    EXPECT_STR_EQ(back.params[1].value, "2026-07-01");
    EXPECT_EQ(back.napprovals, 1);
    EXPECT_STR_EQ(back.values[1].column, "amount");
    EXPECT_EQ(back.values[1].fn, OVL_FN_AVG);
    EXPECT_EQ(back.decimals[0], 2);
    EXPECT_EQ(back.threshold, 25);
    EXPECT_EQ(back.connector_set, 1234);
    EXPECT_EQ(back.connector_terms.min_rows, 10);
    EXPECT_TRUE(back.connector_terms.has_policy);
    ovl_nego_clear(&back);

    /* Every truncation is rejected, never an over-read. */
    size_t len = b.wpos - OVL_FRAME_HDR;
    int rejected = 0;
    for (size_t cut = 0; cut < len; cut++) {
        ovl_err rc = ovl_nego_parse(&back, b.data + OVL_FRAME_HDR, cut);
        rejected += rc == OVL_ERR_PROTOCOL;
        if (rc == OVL_OK)
            ovl_nego_clear(&back);
    }
    EXPECT_EQ(rejected, (int)len);
    /* Trailing bytes are rejected too. */
    EXPECT_OK(ovl_buf_put_u8(&b, 0));
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_nego_parse(&back, b.data + OVL_FRAME_HDR, len + 1));
    ovl_buf_free(&b);
}

static void request_bad_fields(void)
{
    ovl_nego n, back;
    ovl_buf b;
    sample(&n);
    EXPECT_OK(ovl_buf_alloc(&b, 256, 1 << 20));
    EXPECT_OK(ovl_nego_write(&b, &n));
    uint8_t *p = b.data + OVL_FRAME_HDR;
    size_t len = b.wpos - OVL_FRAME_HDR;
    p[0] = 2; /* version */
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_nego_parse(&back, p, len));
    p[0] = 1;
    p[1] = 9; /* mode */
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_nego_parse(&back, p, len));
    p[1] = OVL_MODE_AGGREGATE;
    EXPECT_OK(ovl_nego_parse(&back, p, len));
    ovl_nego_clear(&back);
    /* A NUL byte inside a string field. */
    uint8_t *e = NULL;
    for (size_t i = 0; i + 5 <= len && e == NULL; i++)
        if (memcmp(p + i, "email", 5) == 0)
            e = p + i;
    EXPECT_TRUE(e != NULL);
    if (e) {
        e[2] = 0;
        EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_nego_parse(&back, p, len));
        e[2] = 'a';
    }
    /* A line feed or an escape in a name would forge the owner's log lines. */
    static const char *const names[] = {"ad_format", "amount", "CAMP_A", "t.sql"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        size_t nl = strlen(names[k]);
        uint8_t *q = NULL;
        for (size_t i = 0; i + nl <= len && q == NULL; i++)
            if (memcmp(p + i, names[k], nl) == 0)
                q = p + i;
        EXPECT_TRUE(q != NULL);
        if (q == NULL)
            continue;
        uint8_t was = q[1];
        q[1] = k % 2 ? 0x1b : '\n';
        EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_nego_parse(&back, p, len));
        EXPECT_TRUE(strstr(ovl_err_detail(), "control character") != NULL);
        q[1] = was;
    }
    EXPECT_OK(ovl_nego_parse(&back, p, len));
    ovl_nego_clear(&back);
    ovl_buf_free(&b);
    /* An approval is a file's text: its line feed is kept. */
    static char *approval_nl[] = {"overlap-approval-v1 ed25519 aa bb cc alice\n"};
    n.approvals = approval_nl;
    EXPECT_OK(ovl_buf_alloc(&b, 256, 1 << 20));
    EXPECT_OK(ovl_nego_write(&b, &n));
    EXPECT_OK(ovl_nego_parse(&back, b.data + OVL_FRAME_HDR, b.wpos - OVL_FRAME_HDR));
    EXPECT_TRUE(back.napprovals == 1 && strcmp(back.approvals[0], approval_nl[0]) == 0);
    ovl_nego_clear(&back);
    ovl_buf_free(&b);
    /* Oversized lists are refused when writing. */
    n.nparams = OVL_REQUEST_MAX_LIST + 1;
    EXPECT_OK(ovl_buf_alloc(&b, 256, 1 << 20));
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_nego_write(&b, &n));
    ovl_buf_free(&b);
}

static void terms_and_cosign(void)
{
    ovl_buf b;
    ovl_owner_terms t = {.has_policy = true, .min_rows = 50, .allow_cardinality = true}, back;
    uint64_t size = 0;
    EXPECT_OK(ovl_buf_alloc(&b, 64, 4096));
    EXPECT_OK(ovl_terms_write(&b, &t, 777));
    EXPECT_OK(ovl_terms_parse(&back, &size, b.data + OVL_FRAME_HDR, b.wpos - OVL_FRAME_HDR));
    EXPECT_EQ(back.min_rows, 50);
    EXPECT_EQ(size, 777);
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_terms_parse(&back, &size, b.data + OVL_FRAME_HDR, 5));
    ovl_buf_free(&b);

    ovl_identity *a = NULL, *m = NULL;
    EXPECT_OK(ovl_identity_generate(&a, "alice"));
    EXPECT_OK(ovl_identity_generate(&m, "mallory"));
    uint8_t tr[32] = {1, 2, 3}, sig[OVL_SIG_LEN];
    EXPECT_OK(ovl_buf_alloc(&b, 64, 4096));
    EXPECT_OK(ovl_cosign_write(&b, a, tr));
    const uint8_t *pl = b.data + OVL_FRAME_HDR;
    size_t len = b.wpos - OVL_FRAME_HDR;
    EXPECT_OK(ovl_cosign_verify(sig, pl, len, ovl_identity_pub(a), tr));
    EXPECT_ERR(OVL_ERR_AUTH, ovl_cosign_verify(sig, pl, len, ovl_identity_pub(m), tr));
    tr[0] ^= 1;
    EXPECT_ERR(OVL_ERR_AUTH, ovl_cosign_verify(sig, pl, len, ovl_identity_pub(a), tr));
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_cosign_verify(sig, pl, len - 1, ovl_identity_pub(a), tr));
    ovl_buf_free(&b);
    ovl_identity_free(a);
    ovl_identity_free(m);
}

/* The audit history in the owner terms: travels intact, is signed by its
 * sender, and one that cannot be (shown after the head, a head hash for an
 * empty log) does not parse. */
static void terms_history(void)
{
    ovl_buf b;
    ovl_identity *a = NULL, *m = NULL;
    ovl_owner_terms t = {.has_policy = true, .min_rows = 50}, back;
    uint64_t size = 0;
    EXPECT_OK(ovl_identity_generate(&a, "alice"));
    EXPECT_OK(ovl_identity_generate(&m, "mallory"));
    t.history.head_seq = 12;
    t.history.head_hash[0] = 0xaa;
    t.history.since_seq = 9;
    t.history.since_hash[31] = 0x55;
    EXPECT_OK(ovl_history_sign(&t.history, a));
    EXPECT_OK(ovl_buf_alloc(&b, 64, 4096));
    EXPECT_OK(ovl_terms_write(&b, &t, 5));
    EXPECT_EQ(b.wpos - OVL_FRAME_HDR, OVL_TERMS_LEN + 8);
    EXPECT_OK(ovl_terms_parse(&back, &size, b.data + OVL_FRAME_HDR, b.wpos - OVL_FRAME_HDR));
    EXPECT_EQ(back.history.head_seq, 12);
    EXPECT_EQ(back.history.since_seq, 9);
    EXPECT_BYTES_EQ(back.history.since_hash, t.history.since_hash, OVL_NEGO_HASH_LEN);
    EXPECT_OK(ovl_history_verify(&back.history, ovl_identity_pub(a)));
    EXPECT_ERR(OVL_ERR_AUTH, ovl_history_verify(&back.history, ovl_identity_pub(m)));
    back.history.head_seq = 11; /* a head put back under the old signature */
    EXPECT_ERR(OVL_ERR_AUTH, ovl_history_verify(&back.history, ovl_identity_pub(a)));
    /* since (offset 10 + 40) after the head: malformed */
    uint8_t *pl = b.data + OVL_FRAME_HDR;
    pl[10 + 40 + 7] = 13;
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_terms_parse(&back, &size, pl, b.wpos - OVL_FRAME_HDR));
    ovl_buf_free(&b);
    /* an empty log with a head hash */
    memset(&t.history, 0, sizeof t.history);
    t.history.head_hash[3] = 1;
    EXPECT_OK(ovl_buf_alloc(&b, 64, 4096));
    EXPECT_OK(ovl_terms_write(&b, &t, 5));
    EXPECT_ERR(OVL_ERR_PROTOCOL,
               ovl_terms_parse(&back, &size, b.data + OVL_FRAME_HDR, b.wpos - OVL_FRAME_HDR));
    ovl_buf_free(&b);
    ovl_identity_free(a);
    ovl_identity_free(m);
}

/* The fuzz seeds are well-formed requests, so the fuzzer starts deep. */
static void request_seeds_parse(void)
{
    static const char *const seeds[] = {"adhoc", "psi", "template"};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        char p[256];
        uint8_t buf[4096];
        snprintf(p, sizeof p, "tests/fuzz/corpus/request/%s", seeds[i]);
        FILE *f = fopen(p, "rb");
        OVL_T_RECORD(f != NULL, "cannot open %s", p);
        if (f == NULL)
            continue;
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        ovl_nego back;
        OVL_T_RECORD(ovl_nego_parse(&back, buf, n) == OVL_OK, "seed %s: %s", p, ovl_err_detail());
        ovl_nego_clear(&back);
    }
}

/* The protocol signs what the audit log later verifies: the same bytes. */
static void cosign_message_matches_audit(void)
{
    uint8_t tr[OVL_HASH_LEN], a[128], b[128];
    for (size_t i = 0; i < sizeof tr; i++)
        tr[i] = (uint8_t)(i * 7 + 1);
    size_t na = ovl_cosign_msg(a, sizeof a, tr), nb = ovl_audit_cosign_msg(b, sizeof b, tr);
    EXPECT_TRUE(na > OVL_HASH_LEN);
    EXPECT_EQ(na, nb);
    EXPECT_BYTES_EQ(a, b, na);
    EXPECT_EQ(ovl_cosign_msg(a, na - 1, tr), 0);
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK)
        return 1;
    RUN(request_roundtrip);
    RUN(request_bad_fields);
    RUN(terms_and_cosign);
    RUN(terms_history);
    RUN(request_seeds_parse);
    RUN(cosign_message_matches_audit);
    return ovl_t_summary("test_negotiate");
}
