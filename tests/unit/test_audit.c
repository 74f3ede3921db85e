/* The audit log: append and verify; edit, delete, reorder and truncation
 * detected at the first broken entry; co-signatures; budget and differencing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "policy/audit.h"
#include "crypto/group.h"
#include "core/mem.h"
#include "test.h"

static char dir[] = "/tmp/ovl-test-audit-XXXXXX";
static char path[256], head[300];
static ovl_identity *owner, *peer, *other;
static char fpeer[OVL_FPR_LEN];
static const uint8_t analysis[OVL_HASH_LEN] = {1, 2, 3};

static ovl_err append(uint64_t time, ovl_outcome oc, uint64_t local, uint64_t peer_set)
{
    ovl_audit_entry e;
    memset(&e, 0, sizeof e);
    e.time = time;
    memcpy(e.peer, fpeer, OVL_FPR_LEN);
    e.mode = OVL_MODE_AGGREGATE;
    e.has_template = true;
    memcpy(e.template_hash, analysis, OVL_HASH_LEN);
    memcpy(e.analysis, analysis, OVL_HASH_LEN);
    ovl_param_value pv[] = {{"start_date", "2026-07-01"}, {"campaign_id", "CAMP_2026_Q3"}};
    ovl_err rc = ovl_audit_entry_set_params(&e, pv, 2);
    e.local_set = local;
    e.peer_set = peer_set;
    e.groups_released = 3;
    e.groups_suppressed = 1;
    e.outcome = oc;
    if (oc == OVL_OUTCOME_REFUSED)
        snprintf(e.reason, sizeof e.reason, "retail.policy.json: peers: refused");
    if (rc == OVL_OK)
        rc = ovl_audit_append(path, owner, &e);
    ovl_audit_entry_clear(&e);
    return rc;
}

static char *slurp(const char *p, size_t *n)
{
    FILE *f = fopen(p, "rb");
    char *buf = calloc(1, 1 << 20);
    *n = f && buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    if (f)
        fclose(f);
    return buf;
}

static void spit(const char *p, const char *text, size_t n)
{
    FILE *f = fopen(p, "wb");
    if (f) {
        fwrite(text, 1, n, f);
        fclose(f);
    }
}

/* Splits the log into lines (pointers into buf, newline kept). */
static size_t lines(char *buf, char **out, size_t max)
{
    size_t k = 0;
    for (char *p = buf; *p && k < max; k++) {
        out[k] = p;
        char *nl = strchr(p, '\n');
        p = nl ? nl + 1 : p + strlen(p);
    }
    return k;
}

static ovl_err load(ovl_audit_log *log)
{
    return ovl_audit_load(log, path, ovl_identity_pub(owner), NULL, 0);
}

static void expect_broken(const char *text, size_t n, const char *want)
{
    ovl_audit_log log;
    char *orig;
    size_t on;
    orig = slurp(path, &on);
    spit(path, text, n);
    ovl_err rc = load(&log);
    OVL_T_RECORD(rc != OVL_OK, "tampered log verified");
    OVL_T_RECORD(strstr(ovl_err_detail(), want) != NULL, "'%s' not in '%s'", want, ovl_err_detail());
    spit(path, orig, on);
    free(orig);
}

static void test_chain(void)
{
    ovl_audit_log log;
    for (int i = 0; i < 5; i++)
        EXPECT_OK(append(1000 + (uint64_t)i, i == 2 ? OVL_OUTCOME_REFUSED : OVL_OUTCOME_OK, 500, 800));
    EXPECT_OK(load(&log));
    EXPECT_EQ(log.n, 5);
    if (log.n == 5) {
        EXPECT_EQ(log.entries[4].seq, 5);
        EXPECT_STR_EQ(log.entries[0].params[0].name, "campaign_id"); /* sorted */
        EXPECT_EQ(log.entries[2].outcome, OVL_OUTCOME_REFUSED);
        EXPECT_BYTES_EQ(log.entries[1].prev, log.entries[0].hash, OVL_HASH_LEN);
    }
    ovl_audit_log_free(&log);
    /* another owner key pinned */
    EXPECT_ERR(OVL_ERR_AUTH, ovl_audit_load(&log, path, ovl_identity_pub(other), NULL, 0));
    /* someone else cannot append to this log */
    ovl_audit_entry e;
    memset(&e, 0, sizeof e);
    e.mode = OVL_MODE_CARDINALITY;
    e.outcome = OVL_OUTCOME_OK;
    EXPECT_ERR(OVL_ERR_AUTH, ovl_audit_append(path, other, &e));
}

static void test_tamper(void)
{
    size_t n;
    char *buf = slurp(path, &n), *l[8], mod[1 << 16];
    size_t k = lines(buf, l, 8);
    EXPECT_EQ(k, 5);
    if (k != 5) {
        free(buf);
        return;
    }
    size_t len[5];
    for (int i = 0; i < 5; i++)
        len[i] = (size_t)((i < 4 ? l[i + 1] : buf + n) - l[i]);
    /* edit: entry 3's set size */
    memcpy(mod, buf, n);
    char *p = strstr(mod + (l[2] - buf), "\"local_set\":500");
    if (p)
        p[13] = '9';
    expect_broken(mod, n, ":3: entry 3: signature does not verify");
    /* delete entry 3 */
    size_t m = 0;
    for (int i = 0; i < 5; i++)
        if (i != 2)
            memcpy(mod + m, l[i], len[i]), m += len[i];
    expect_broken(mod, m, ":3: entry 3: holds entry 4");
    /* reorder entries 2 and 3 */
    m = 0;
    int order[] = {0, 2, 1, 3, 4};
    for (int i = 0; i < 5; i++)
        memcpy(mod + m, l[order[i]], len[order[i]]), m += len[order[i]];
    expect_broken(mod, m, ":2: entry 2: holds entry 3");
    /* truncate: drop the last entry whole (the head record notices) */
    expect_broken(buf, n - len[4], "entries 5..5 are missing");
    /* truncate mid-line */
    expect_broken(buf, n - 10, ":5: entry 5: truncated");
    /* a field removed */
    memcpy(mod, buf, n);
    p = strstr(mod, "\"reason\"");
    if (p)
        memcpy(p, "\"reasom\"", 8);
    expect_broken(mod, n, "entry 1: reason is missing");
    /* the head deleted */
    char *h;
    size_t hn;
    h = slurp(head, &hn);
    unlink(head);
    ovl_audit_log log;
    EXPECT_ERR(OVL_ERR_AUTH, load(&log));
    spit(head, h, hn);
    EXPECT_OK(load(&log));
    ovl_audit_log_free(&log);
    free(h);
    free(buf);
}

static void test_cosign(void)
{
    ovl_audit_log log;
    uint8_t transcript[OVL_HASH_LEN] = {9, 9, 9}, msg[128];
    ovl_audit_entry e;
    memset(&e, 0, sizeof e);
    e.time = 2000;
    memcpy(e.peer, fpeer, OVL_FPR_LEN);
    e.mode = OVL_MODE_INTERSECTION;
    e.outcome = OVL_OUTCOME_OK;
    e.has_transcript = true;
    memcpy(e.transcript, transcript, OVL_HASH_LEN);
    size_t n = ovl_audit_cosign_msg(msg, sizeof msg, transcript);
    EXPECT_TRUE(n > 0);
    e.has_peer_sig = true;
    EXPECT_OK(ovl_identity_sign(peer, e.peer_sig, msg, n));
    EXPECT_OK(ovl_audit_append(path, owner, &e));
    EXPECT_OK(ovl_audit_load(&log, path, ovl_identity_pub(owner), ovl_identity_pub(peer), 1));
    ovl_audit_log_free(&log);
    /* a co-signature by someone else is caught when the peer's key is given */
    e.has_transcript = true;
    EXPECT_OK(ovl_identity_sign(other, e.peer_sig, msg, n));
    EXPECT_OK(ovl_audit_append(path, owner, &e));
    EXPECT_ERR(OVL_ERR_AUTH, ovl_audit_load(&log, path, ovl_identity_pub(owner), ovl_identity_pub(peer), 1));
    EXPECT_TRUE(strstr(ovl_err_detail(), ":7: entry 7: the peer's co-signature") != NULL);
    EXPECT_OK(ovl_audit_load(&log, path, ovl_identity_pub(owner), NULL, 0));
    ovl_audit_log_free(&log);
}

static ovl_policy *policy(bool budget, bool diff)
{
    char json[2048];
    ovl_policy *p = NULL;
    snprintf(json, sizeof json,
             "{\"version\": 1, \"table\": {\"name\": \"t\", \"columns\": [\"email\"]}, \"join\": [],"
             " \"peers\": [], \"list\": {\"allowed\": false, \"columns\": [], \"receivers\": []},"
             " \"aggregation\": {\"adhoc\": false, \"functions\": [], \"dimensions\": [], \"aggregates\": [],"
             "   \"min_rows\": 10, \"receivers\": [], \"allow_cardinality\": false},"
             " \"custom\": {\"templates\": []}%s%s}",
             budget ? ", \"budget\": {\"runs_per_day\": 6, \"runs_per_template_per_day\": 4}" : "",
             diff ? ", \"differencing\": {\"refuse_small_differences\": true}" : "");
    EXPECT_OK(ovl_policy_parse(&p, "p.json", json, strlen(json)));
    return p;
}

static void test_budget(void)
{
    ovl_audit_log log;
    ovl_policy *p = policy(true, false), *none = policy(false, false);
    uint8_t other_analysis[OVL_HASH_LEN] = {7};
    EXPECT_OK(load(&log));
    /* log: 4 counted runs of `analysis` (one refused) at t=1000..1004, 2 of another
     * analysis at 2000 (intersection entries have zero analysis) */
    EXPECT_ERR(OVL_ERR_POLICY, ovl_budget_check(p, &log, fpeer, analysis, 2100));
    EXPECT_TRUE(strstr(ovl_err_detail(), "budget.runs_per_day") != NULL);
    EXPECT_OK(ovl_budget_check(none, &log, fpeer, analysis, 2100));
    /* a day later the runs no longer count */
    EXPECT_OK(ovl_budget_check(p, &log, fpeer, analysis, 1004 + 86400));
    /* another peer has its own budget */
    EXPECT_OK(ovl_budget_check(p, &log, "SHA256:00", analysis, 2100));
    ovl_audit_log_free(&log);
    ovl_policy_free(p);
    /* per analysis: 4 of `analysis` within the day, limit 4 */
    p = policy(true, false);
    p->runs_per_day = 100;
    EXPECT_OK(load(&log));
    EXPECT_ERR(OVL_ERR_POLICY, ovl_budget_check(p, &log, fpeer, analysis, 1500));
    EXPECT_TRUE(strstr(ovl_err_detail(), "budget.runs_per_template_per_day") != NULL);
    EXPECT_OK(ovl_budget_check(p, &log, fpeer, other_analysis, 1500));
    ovl_audit_log_free(&log);
    ovl_policy_free(p);
    ovl_policy_free(none);
}

static void test_differencing(void)
{
    ovl_audit_log log;
    ovl_policy *p = policy(false, true), *off = policy(false, false);
    EXPECT_OK(load(&log));
    /* earlier completed runs had local 500, peer 800; min_rows 10 */
    EXPECT_OK(ovl_differencing_check(p, &log, fpeer, analysis, 500, 800));
    EXPECT_OK(ovl_differencing_check(p, &log, fpeer, analysis, 510, 790));
    EXPECT_ERR(OVL_ERR_POLICY, ovl_differencing_check(p, &log, fpeer, analysis, 501, 800));
    EXPECT_TRUE(strstr(ovl_err_detail(), "differencing: this run's own set differs") != NULL);
    EXPECT_ERR(OVL_ERR_POLICY, ovl_differencing_check(p, &log, fpeer, analysis, 500, 799));
    EXPECT_TRUE(strstr(ovl_err_detail(), "peer's set") != NULL);
    EXPECT_OK(ovl_differencing_check(off, &log, fpeer, analysis, 501, 800));
    EXPECT_OK(ovl_differencing_check(p, &log, "SHA256:00", analysis, 501, 800));
    ovl_audit_log_free(&log);
    ovl_policy_free(p);
    ovl_policy_free(off);
}

/* A run charged when agreed is counted once, whatever its end: the final
 * entry naming its "agreed" entry does not count again; the continuity
 * fields survive the round trip and are covered by the entry's hash. */
static void test_charged(void)
{
    char p2[300];
    ovl_audit_log log;
    ovl_audit_entry e;
    ovl_policy *p = policy(true, true);
    snprintf(p2, sizeof p2, "%s/charged.audit", dir);
    memset(&e, 0, sizeof e);
    e.time = 5000;
    memcpy(e.peer, fpeer, OVL_FPR_LEN);
    e.mode = OVL_MODE_INTERSECTION;
    memcpy(e.analysis, analysis, OVL_HASH_LEN);
    e.local_set = 500;
    e.peer_set = 800;
    e.outcome = OVL_OUTCOME_AGREED;
    EXPECT_OK(ovl_audit_append(p2, owner, &e));
    EXPECT_EQ(e.seq, 1);
    e.outcome = OVL_OUTCOME_WITHHELD;
    e.agreed = 1;
    e.shown = 1;
    e.peer_head_seq = 7;
    e.peer_head_hash[0] = 0x42;
    e.has_transcript = true;
    EXPECT_OK(ovl_audit_append(p2, owner, &e));
    EXPECT_OK(ovl_audit_load(&log, p2, ovl_identity_pub(owner), NULL, 0));
    EXPECT_EQ(log.n, 2);
    EXPECT_TRUE(ovl_audit_entry_charged(&log.entries[0]));
    EXPECT_TRUE(!ovl_audit_entry_charged(&log.entries[1]));
    EXPECT_EQ(log.entries[1].outcome, OVL_OUTCOME_WITHHELD);
    EXPECT_EQ(log.entries[1].agreed, 1);
    EXPECT_EQ(log.entries[1].shown, 1);
    EXPECT_EQ(log.entries[1].peer_head_seq, 7);
    EXPECT_EQ(log.entries[1].peer_head_hash[0], 0x42);
    /* budget 6 a day, 4 per analysis: one charged run, not two */
    p->runs_per_template_per_day = 2;
    EXPECT_OK(ovl_budget_check(p, &log, fpeer, analysis, 5001));
    p->runs_per_template_per_day = 1;
    EXPECT_ERR(OVL_ERR_POLICY, ovl_budget_check(p, &log, fpeer, analysis, 5001));
    /* differencing compares with the charged run though it never completed */
    EXPECT_ERR(OVL_ERR_POLICY, ovl_differencing_check(p, &log, fpeer, analysis, 501, 800));
    ovl_audit_log_free(&log);
    /* the continuity fields are signed: editing one breaks the entry */
    size_t n;
    char *text = slurp(p2, &n);
    char *at = strstr(text, "\"peer_head\":[7,");
    EXPECT_TRUE(at != NULL);
    if (at) {
        at[13] = '8';
        spit(p2, text, n);
        EXPECT_ERR(OVL_ERR_AUTH, ovl_audit_load(&log, p2, ovl_identity_pub(owner), NULL, 0));
    }
    free(text);
    ovl_audit_entry_clear(&e);
    ovl_policy_free(p);
    unlink(p2);
    snprintf(p2, sizeof p2, "%s/charged.audit.head", dir);
    unlink(p2);
}

/* The reservation lock excludes any other holder, even in this process
 * (another open of the file, as another session's thread makes). */
static void test_reserve_lock(void)
{
    int a = -1, b = -1;
    char lp[320];
    snprintf(lp, sizeof lp, "%s.lock", path);
    EXPECT_OK(ovl_audit_lock(path, &a));
    EXPECT_TRUE(a >= 0);
    int other_fd = open(lp, O_RDWR);
    EXPECT_TRUE(other_fd >= 0);
    EXPECT_TRUE(flock(other_fd, LOCK_EX | LOCK_NB) != 0);
    ovl_audit_unlock(a);
    EXPECT_TRUE(flock(other_fd, LOCK_EX | LOCK_NB) == 0);
    close(other_fd);
    EXPECT_OK(ovl_audit_lock(path, &b));
    ovl_audit_unlock(b);
    ovl_audit_unlock(-1);
    unlink(lp);
}

static void test_parse_garbage(void)
{
    ovl_audit_log log;
    static const char *const bad[] = {"{}\n", "not json\n", "[1]\n", "\n", "{\"seq\": 1}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        OVL_T_RECORD(ovl_audit_parse(&log, "x", bad[i], strlen(bad[i]), NULL, NULL, 0) != OVL_OK,
                     "garbage %zu accepted", i);
    EXPECT_OK(ovl_audit_parse(&log, "x", "", 0, NULL, NULL, 0));
    EXPECT_EQ(log.n, 0);
}

/* A run with conditions across parties records this owner's own capped
 * count: in the JSON line and the signed bytes, 0 kept apart from absent. */
static void test_capped(void)
{
    ovl_audit_log log;
    size_t before, n;
    EXPECT_OK(load(&log));
    before = log.n;
    ovl_audit_log_free(&log);
    for (uint64_t k = 0; k < 2; k++) {
        ovl_audit_entry e;
        memset(&e, 0, sizeof e);
        e.time = 5000;
        memcpy(e.peer, fpeer, OVL_FPR_LEN);
        e.mode = OVL_MODE_AGGREGATE;
        memcpy(e.analysis, analysis, OVL_HASH_LEN);
        e.outcome = OVL_OUTCOME_OK;
        e.has_capped = true;
        e.capped = 37 * k;
        EXPECT_OK(ovl_audit_append(path, owner, &e));
        ovl_audit_entry_clear(&e);
    }
    EXPECT_OK(load(&log));
    EXPECT_EQ(log.n, before + 2);
    if (log.n == before + 2) {
        EXPECT_TRUE(log.entries[before].has_capped && log.entries[before].capped == 0);
        EXPECT_TRUE(log.entries[before + 1].has_capped && log.entries[before + 1].capped == 37);
        EXPECT_TRUE(!log.entries[0].has_capped);
    }
    ovl_audit_log_free(&log);
    char *buf = slurp(path, &n), *mod = malloc(n + 1);
    char *p = strstr(buf, "\"capped\":37");
    EXPECT_TRUE(p != NULL && strstr(buf, "\"capped\":0") != NULL && mod != NULL);
    if (p && mod) {
        /* the count is signed: editing it breaks the entry */
        memcpy(mod, buf, n);
        mod[p - buf + 10] = '8';
        char want[64];
        snprintf(want, sizeof want, ":%zu: entry %zu: signature does not verify", before + 2,
                 before + 2);
        expect_broken(mod, n, want);
        /* removing it too: 0 and absent are different entries */
        char *z = strstr(buf, ",\"capped\":0");
        size_t at = z ? (size_t)(z - buf) : 0, cut = strlen(",\"capped\":0");
        if (z) {
            memcpy(mod, buf, at);
            memcpy(mod + at, z + cut, n - at - cut);
        }
        snprintf(want, sizeof want, ":%zu: entry %zu: signature does not verify", before + 1,
                 before + 1);
        expect_broken(mod, z ? n - cut : n, want);
    }
    free(mod);
    free(buf);
}

static ovl_err append_inconsistent(ovl_mode mode, uint64_t n)
{
    ovl_audit_entry e;
    memset(&e, 0, sizeof e);
    e.time = 6000;
    memcpy(e.peer, fpeer, OVL_FPR_LEN);
    e.mode = mode;
    memcpy(e.analysis, analysis, OVL_HASH_LEN);
    e.outcome = OVL_OUTCOME_OK;
    e.groups_released = 4;
    e.inconsistent = n;
    ovl_err rc = ovl_audit_append(path, owner, &e);
    ovl_audit_entry_clear(&e);
    return rc;
}

/* An aggregate's receiver records the released records it left out as
 * inconsistent (protocols/aggregate/SPEC.md §8.3): signed, written only when
 * some were (so every older entry keeps its bytes and verifies), and only
 * on an aggregate's entry. */
static void test_inconsistent(void)
{
    ovl_audit_log log;
    size_t before, n;
    EXPECT_OK(load(&log));
    before = log.n;
    ovl_audit_log_free(&log);
    EXPECT_OK(append_inconsistent(OVL_MODE_AGGREGATE, 0));
    EXPECT_OK(append_inconsistent(OVL_MODE_AGGREGATE, 3));
    EXPECT_OK(load(&log));
    EXPECT_EQ(log.n, before + 2);
    if (log.n == before + 2) {
        EXPECT_EQ(log.entries[before].inconsistent, 0);
        EXPECT_EQ(log.entries[before + 1].inconsistent, 3);
        EXPECT_EQ(log.entries[0].inconsistent, 0);
    }
    ovl_audit_log_free(&log);
    char *buf = slurp(path, &n), *mod = calloc(1, n + 64);
    char *ln[64];
    size_t nl = lines(buf, ln, 64);
    char *p = strstr(buf, ",\"inconsistent\":3}");
    EXPECT_TRUE(p != NULL && nl == before + 2 && mod != NULL);
    /* the entry without any is written without the key */
    char *first = nl == before + 2 ? strstr(ln[before], "inconsistent") : NULL;
    EXPECT_TRUE(first != NULL && first > ln[before + 1]);
    if (p && mod && nl == before + 2) {
        char want[96];
        /* the count is signed: editing it breaks the entry */
        memcpy(mod, buf, n);
        mod[p - buf + 16] = '4';
        snprintf(want, sizeof want, ":%zu: entry %zu: signature does not verify", before + 2,
                 before + 2);
        expect_broken(mod, n, want);
        /* and removing it */
        size_t at = (size_t)(p - buf), cut = strlen(",\"inconsistent\":3");
        memcpy(mod, buf, at);
        memcpy(mod + at, p + cut, n - at - cut);
        expect_broken(mod, n - cut, want);
        /* 0 is never written: an entry claiming it is damaged, whatever its signature */
        at = (size_t)(ln[before + 1] - buf) - 2; /* before the closing brace of entry N-1 */
        static const char zero[] = ",\"inconsistent\":0";
        memcpy(mod, buf, at);
        memcpy(mod + at, zero, sizeof zero - 1);
        memcpy(mod + at + sizeof zero - 1, buf + at, n - at);
        snprintf(want, sizeof want, ":%zu: entry %zu: inconsistent is not a positive count",
                 before + 1, before + 1);
        expect_broken(mod, n + sizeof zero - 1, want);
    }
    free(mod);
    free(buf);
    /* on an entry that is no aggregate the writer refuses to sign it (the
     * reader would refuse the whole log), and the log is unchanged */
    EXPECT_ERR(OVL_ERR_INTERNAL, append_inconsistent(OVL_MODE_INTERSECTION, 2));
    EXPECT_TRUE(strstr(ovl_err_detail(), "inconsistent count on an entry of mode intersection") != NULL);
    EXPECT_OK(load(&log));
    EXPECT_EQ(log.n, before + 2);
    ovl_audit_log_free(&log);
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK || !mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/retail.audit", dir);
    snprintf(head, sizeof head, "%s.head", path);
    if (ovl_identity_generate(&owner, "retailer") || ovl_identity_generate(&peer, "advertiser") ||
        ovl_identity_generate(&other, "mallory"))
        return 1;
    ovl_fingerprint(fpeer, ovl_identity_pub(peer)->pk);
    RUN(test_chain);
    RUN(test_tamper);
    RUN(test_cosign);
    RUN(test_budget);
    RUN(test_differencing);
    RUN(test_charged);
    RUN(test_reserve_lock);
    RUN(test_parse_garbage);
    RUN(test_capped);
    RUN(test_inconsistent);
    unlink(path);
    unlink(head);
    rmdir(dir);
    ovl_identity_free(owner);
    ovl_identity_free(peer);
    ovl_identity_free(other);
    return ovl_t_summary("test_audit");
}
