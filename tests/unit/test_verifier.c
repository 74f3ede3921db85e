/* The verifier: each rule allowed and refused (one refusal per test),
 * approvals forged / missing / for another template, the strictest of two
 * owners' policies wins, and the agreed encoding detects any mismatch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/group.h"
#include "core/mem.h"
#include "policy/verifier.h"
#include "session/analysis.h"
#include "setup/negotiate.h"
#include "test.h"

static char dir[] = "/tmp/ovl-test-verifier-XXXXXX";
static char tpl_path[256];
static ovl_identity *retailer, *advertiser, *mallory;
static char fr[OVL_FPR_LEN], fa[OVL_FPR_LEN], fm[OVL_FPR_LEN];
static ovl_template *tpl;
static char tpl_hex[2 * OVL_HASH_LEN + 1];
static const char *approved_hex = tpl_hex; /* the template retail_policy approves */

static const char sql[] =
    "-- param campaign_id string in ('CAMP_2026_Q3', 'CAMP_2026_Q4')\n"
    "-- param start_date date\n"
    "SELECT c.campaign_id, COUNT(DISTINCT c.email) AS users, SUM(p.amount) AS revenue\n"
    "FROM impressions AS c INNER JOIN purchases AS p ON c.email = p.email\n"
    "WHERE c.campaign_id = :campaign_id AND p.day >= :start_date\n"
    "GROUP BY c.campaign_id HAVING COUNT(DISTINCT c.email) >= 50\n";

/* json with one piece replaced (from -> to), or as is; false (and a test
 * failure) when from is not in it. */
static bool edit_json(char *json, size_t size, const char *from, const char *to)
{
    char edited[8192];
    const char *at = from ? strstr(json, from) : NULL;
    if (from && !at) {
        fprintf(stderr, "test bug: '%s' not in policy\n", from);
        OVL_T_RECORD(false, "'%s' not in the policy", from);
        return false;
    }
    if (at) {
        snprintf(edited, sizeof edited, "%.*s%s%s", (int)(at - json), json, to, at + strlen(from));
        snprintf(json, size, "%s", edited);
    }
    return true;
}

/* The retailer's policy with two pieces replaced (from -> to, then from2 ->
 * to2), or as is. */
static ovl_policy *retail_policy2(const char *from, const char *to, const char *from2,
                                  const char *to2)
{
    char json[8192];
    ovl_policy *p = NULL;
    snprintf(json, sizeof json,
             "{\"version\": 1, \"table\": {\"name\": \"purchases\", \"columns\": [\"email\", \"day\", \"amount\", \"secret\"]},"
             " \"join\": [{\"column\": \"email\", \"normalize\": \"email\"}],"
             " \"peers\": [{\"name\": \"advertiser\", \"fingerprint\": \"%s\"}],"
             " \"list\": {\"allowed\": true, \"columns\": [\"day\"], \"receivers\": [\"%s\"]},"
             " \"aggregation\": {\"adhoc\": true, \"functions\": [\"COUNT\", \"COUNT_DISTINCT\", \"SUM\"],"
             "   \"dimensions\": [\"day\"], \"aggregates\": [\"amount\"], \"min_rows\": 100,"
             "   \"receivers\": [\"%s\"], \"allow_cardinality\": true},"
             " \"custom\": {\"templates\": [{\"name\": \"attribution\", \"sha256\": \"%s\"}]}}",
             fa, fa, fa, approved_hex);
    if (!edit_json(json, sizeof json, from, to) || !edit_json(json, sizeof json, from2, to2))
        return NULL;
    EXPECT_OK(ovl_policy_parse(&p, "retail.policy.json", json, strlen(json)));
    return p;
}

static ovl_policy *retail_policy(const char *from, const char *to)
{
    return retail_policy2(from, to, NULL, NULL);
}

static ovl_policy *adv_policy(void)
{
    char json[4096];
    ovl_policy *p = NULL;
    snprintf(json, sizeof json,
             "{\"version\": 1, \"table\": {\"name\": \"impressions\", \"columns\": [\"email\", \"campaign_id\"]},"
             " \"join\": [{\"column\": \"email\", \"normalize\": \"email\"}],"
             " \"peers\": [{\"name\": \"retailer\", \"fingerprint\": \"%s\"}],"
             " \"list\": {\"allowed\": false, \"columns\": [], \"receivers\": []},"
             " \"aggregation\": {\"adhoc\": false, \"functions\": [\"COUNT_DISTINCT\", \"SUM\"],"
             "   \"dimensions\": [\"campaign_id\"], \"aggregates\": [], \"min_rows\": 250,"
             "   \"receivers\": [], \"allow_cardinality\": false},"
             " \"custom\": {\"templates\": [{\"name\": \"attribution\", \"sha256\": \"%s\"}]}}",
             fr, tpl_hex);
    EXPECT_OK(ovl_policy_parse(&p, "adv.policy.json", json, strlen(json)));
    return p;
}

static const ovl_param_value good_params[] = {{"campaign_id", "CAMP_2026_Q3"},
                                              {"start_date", "2026-07-01"}};
static ovl_approvals both;

/* The advertiser runs the template against the retailer and receives the result. */
static ovl_request tpl_request(void)
{
    ovl_request r;
    memset(&r, 0, sizeof r);
    r.mode = OVL_MODE_AGGREGATE;
    r.tpl = tpl;
    r.params = good_params;
    r.nparams = 2;
    r.approvals = &both;
    r.norm = OVL_NORM_EMAIL;
    r.receivers[0] = fa;
    r.nreceivers = 1;
    return r;
}

static ovl_err verify_retail(const ovl_request *r, const char *from, const char *to)
{
    ovl_policy *p = retail_policy(from, to);
    ovl_policy_terms terms;
    ovl_err rc = p ? ovl_verify_request(&terms, p, fr, fa, r) : OVL_ERR_INTERNAL;
    ovl_policy_free(p);
    return rc;
}

static void expect_refused(ovl_err rc, const char *want)
{
    EXPECT_EQ(rc, OVL_ERR_POLICY);
    OVL_T_RECORD(strstr(ovl_err_detail(), want) != NULL, "'%s' not in '%s'", want, ovl_err_detail());
}

static void test_template_allowed(void)
{
    ovl_request r = tpl_request();
    EXPECT_OK(verify_retail(&r, NULL, NULL));
    /* this owner's v2 statements: its policy's, defaults filled in */
    ovl_policy *p = retail_policy("\"min_rows\": 100", "\"min_rows\": 100, \"max_cells\": 64, "
                                  "\"max_rows_per_identifier\": 300");
    ovl_policy_terms terms;
    EXPECT_OK(ovl_verify_request(&terms, p, fr, fa, &r));
    EXPECT_TRUE(terms.max_cells == 64 && terms.count_bits == 9 && terms.value_bits == 40);
    ovl_policy_free(p);
    p = retail_policy(NULL, NULL);
    EXPECT_OK(ovl_verify_request(&terms, p, fr, fa, &r));
    EXPECT_TRUE(terms.max_cells == 1000 && terms.count_bits == 3 && terms.value_bits == 40);
    ovl_policy_free(p);
}

static void test_refuse_peer_unlisted(void)
{
    ovl_request r = tpl_request();
    ovl_policy *p = retail_policy(NULL, NULL);
    ovl_policy_terms terms;
    expect_refused(ovl_verify_request(&terms, p, fr, fm, &r), "retail.policy.json: peers: SHA256:");
    ovl_policy_free(p);
}

static void test_refuse_template_not_in_policy(void)
{
    ovl_request r = tpl_request();
    expect_refused(verify_retail(&r, tpl_hex,
                                 "0000000000000000000000000000000000000000000000000000000000000000"),
                   "custom.templates: template");
}

static void test_refuse_template_other_table(void)
{
    ovl_request r = tpl_request();
    expect_refused(verify_retail(&r, "\"name\": \"purchases\"", "\"name\": \"orders\""),
                   "table: template");
}

static void test_refuse_approval_missing_own(void)
{
    ovl_request r = tpl_request();
    ovl_approvals only_adv = {.n = 1};
    memcpy(only_adv.fpr[0], fa, OVL_FPR_LEN);
    r.approvals = &only_adv;
    expect_refused(verify_retail(&r, NULL, NULL), "no valid approval by this owner");
}

static void test_refuse_approval_missing_peer(void)
{
    ovl_request r = tpl_request();
    ovl_approvals only_me = {.n = 1};
    memcpy(only_me.fpr[0], fr, OVL_FPR_LEN);
    r.approvals = &only_me;
    expect_refused(verify_retail(&r, NULL, NULL), "no valid approval by the peer advertiser");
}

static void test_refuse_param_outside_list(void)
{
    ovl_request r = tpl_request();
    ovl_param_value bad[] = {{"campaign_id", "CAMP_2027"}, {"start_date", "2026-07-01"}};
    r.params = bad;
    expect_refused(verify_retail(&r, NULL, NULL),
                   "retail.policy.json: parameters: attribution.sql: parameter campaign_id: value is not in its allowed list");
}

static void test_refuse_template_column_unlisted(void)
{
    ovl_request r = tpl_request();
    expect_refused(verify_retail(&r, "\"aggregates\": [\"amount\"]", "\"aggregates\": []"),
                   "aggregation.aggregates: column 'amount' is not listed");
    expect_refused(verify_retail(&r, "\"dimensions\": [\"day\"]", "\"dimensions\": []"),
                   "aggregation.dimensions: column 'day' is not listed, so it cannot be filtered on");
}

static void test_refuse_function(void)
{
    ovl_request r = tpl_request();
    expect_refused(verify_retail(&r, "\"COUNT\", \"COUNT_DISTINCT\", \"SUM\"", "\"COUNT\", \"COUNT_DISTINCT\""),
                   "aggregation.functions: SUM is not allowed");
}

static void test_refuse_join(void)
{
    ovl_request r = tpl_request();
    expect_refused(verify_retail(&r, "\"column\": \"email\", \"normalize\": \"email\"",
                                 "\"column\": \"day\", \"normalize\": \"email\""),
                   "join: 'email' is not a join column");
    r.norm = OVL_NORM_PHONE;
    expect_refused(verify_retail(&r, NULL, NULL), "join: 'email' is normalised as email, the run states phone");
}

static void test_refuse_receiver(void)
{
    ovl_request r = tpl_request();
    r.receivers[1] = fm;
    r.nreceivers = 2;
    expect_refused(verify_retail(&r, NULL, NULL), "aggregation.receivers: SHA256:");
    r.receivers[1] = fr; /* the owner itself may always receive */
    EXPECT_OK(verify_retail(&r, NULL, NULL));
}

static void test_refuse_cardinality(void)
{
    ovl_request r = tpl_request();
    r.reveals_cardinality = true;
    EXPECT_OK(verify_retail(&r, NULL, NULL));
    expect_refused(verify_retail(&r, "\"allow_cardinality\": true", "\"allow_cardinality\": false"),
                   "aggregation.allow_cardinality");
}

static ovl_request adhoc(ovl_mode mode)
{
    ovl_request r;
    memset(&r, 0, sizeof r);
    r.mode = mode;
    r.join_column = "email";
    r.norm = OVL_NORM_EMAIL;
    r.receivers[0] = fa;
    r.nreceivers = 1;
    return r;
}

static void test_intersection(void)
{
    ovl_request r = adhoc(OVL_MODE_INTERSECTION);
    const char *cols[] = {"day"}, *secret[] = {"secret"};
    r.list_columns = cols;
    r.nlist_columns = 1;
    EXPECT_OK(verify_retail(&r, NULL, NULL));
    expect_refused(verify_retail(&r, "\"allowed\": true", "\"allowed\": false"),
                   "list.allowed: intersection (row-level) runs are refused");
    r.list_columns = secret;
    expect_refused(verify_retail(&r, NULL, NULL), "list.columns: column 'secret' is not listed");
    r.list_columns = cols;
    r.receivers[0] = fm;
    expect_refused(verify_retail(&r, NULL, NULL), "list.receivers: SHA256:");
}

static void test_cardinality_mode(void)
{
    ovl_request r = adhoc(OVL_MODE_CARDINALITY);
    EXPECT_OK(verify_retail(&r, NULL, NULL));
    expect_refused(verify_retail(&r, "\"allow_cardinality\": true", "\"allow_cardinality\": false"),
                   "aggregation.allow_cardinality: the number of shared identifiers may not be revealed");
}

static void test_adhoc_aggregate(void)
{
    ovl_request r = adhoc(OVL_MODE_AGGREGATE);
    const char *groups[] = {"campaign_id"};
    ovl_value_req vals[] = {{OVL_FN_SUM, "amount"}, {OVL_FN_COUNT, NULL}};
    r.group_by = groups;
    r.ngroup_by = 1;
    r.values = vals;
    r.nvalues = 2;
    r.side = OVL_SIDE_VALUES;
    EXPECT_OK(verify_retail(&r, NULL, NULL));
    expect_refused(verify_retail(&r, "\"adhoc\": true", "\"adhoc\": false"),
                   "aggregation.adhoc: aggregates without an approved template are refused");
    ovl_value_req secret[] = {{OVL_FN_SUM, "secret"}};
    r.values = secret;
    r.nvalues = 1;
    expect_refused(verify_retail(&r, NULL, NULL), "aggregation.aggregates: column 'secret' is not listed");
    ovl_value_req avg[] = {{OVL_FN_AVG, "amount"}};
    r.values = avg;
    expect_refused(verify_retail(&r, NULL, NULL), "aggregation.functions: AVG is not allowed");
    /* as the group side, the owner's grouped columns must be dimensions */
    const char *bad_groups[] = {"secret"};
    r.values = vals;
    r.nvalues = 2;
    r.side = OVL_SIDE_GROUP;
    r.group_by = bad_groups;
    expect_refused(verify_retail(&r, NULL, NULL), "aggregation.dimensions: column 'secret' is not listed");
    r.receivers[0] = fm;
    r.group_by = (const char *[]){"day"};
    expect_refused(verify_retail(&r, NULL, NULL), "aggregation.receivers");
}

/* Two owners: the retailer (min_rows 100) and the advertiser (250, no
 * cardinality). Both must compute the same agreement, with the strictest terms. */
static void test_strictest_wins(void)
{
    ovl_policy *rp = retail_policy(NULL, NULL), *ap = adv_policy();
    ovl_policy_terms pt[2];
    ovl_owner_terms t[2], back;
    ovl_agreement at_r, at_a;
    ovl_request r = tpl_request();
    EXPECT_OK(ovl_verify_request(&pt[0], rp, fr, fa, &r));
    EXPECT_OK(ovl_verify_request(&pt[1], ap, fa, fr, &r));
    for (int i = 0; i < 2; i++)
        t[i] = (ovl_owner_terms){.min_rows = pt[i].min_rows,
                                 .allow_cardinality = pt[i].allow_cardinality,
                                 .has_policy = pt[i].has_policy};
    /* terms travel to the peer */
    uint8_t raw[OVL_TERMS_LEN];
    ovl_buf w, rd;
    ovl_buf_writer(&w, raw, sizeof raw);
    EXPECT_OK(ovl_owner_terms_encode(&w, &t[1]));
    EXPECT_EQ(ovl_buf_len(&w), OVL_TERMS_LEN);
    ovl_buf_reader(&rd, raw, sizeof raw);
    EXPECT_OK(ovl_owner_terms_decode(&back, &rd));
    EXPECT_EQ(back.min_rows, 250);
    raw[1] = 0xff; /* min_rows out of range */
    ovl_buf_reader(&rd, raw, sizeof raw);
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_owner_terms_decode(&back, &rd));
    ovl_owner_terms swapped[2] = {t[1], t[0]};
    EXPECT_OK(ovl_request_agreement(&at_r, &r, t, 2));
    EXPECT_OK(ovl_request_agreement(&at_a, &r, swapped, 2));
    EXPECT_EQ(at_r.threshold, 250); /* template HAVING 50, retailer 100, advertiser 250 */
    EXPECT_TRUE(at_r.encoding_len == at_a.encoding_len &&
                memcmp(at_r.encoding, at_a.encoding, at_r.encoding_len) == 0);
    EXPECT_BYTES_EQ(at_r.analysis_id, tpl->hash, 0);
    /* the advertiser's policy forbids cardinality: a request revealing it fails
     * the agreement even at the retailer, whose own policy allows it */
    r.reveals_cardinality = true;
    ovl_agreement bad;
    EXPECT_ERR(OVL_ERR_POLICY, ovl_request_agreement(&bad, &r, t, 2));
    ovl_agreement_clear(&at_r);
    ovl_agreement_clear(&at_a);
    ovl_policy_free(rp);
    ovl_policy_free(ap);
}

static void test_agreement_mismatch(void)
{
    ovl_owner_terms t = {.min_rows = 100, .allow_cardinality = true, .has_policy = true};
    ovl_request a = tpl_request(), b = tpl_request();
    ovl_param_value other[] = {{"campaign_id", "CAMP_2026_Q4"}, {"start_date", "2026-07-01"}};
    ovl_param_value reordered[] = {{"start_date", "2026-07-01"}, {"campaign_id", "CAMP_2026_Q3"}};
    ovl_agreement x, y;
    EXPECT_OK(ovl_request_agreement(&x, &a, &t, 1));
    b.params = reordered; /* order of --param does not matter */
    EXPECT_OK(ovl_request_agreement(&y, &b, &t, 1));
    EXPECT_TRUE(x.encoding_len == y.encoding_len && memcmp(x.encoding, y.encoding, x.encoding_len) == 0);
    ovl_agreement_clear(&y);
    b.params = other; /* different parameter: different bytes, same analysis id */
    EXPECT_OK(ovl_request_agreement(&y, &b, &t, 1));
    EXPECT_TRUE(x.encoding_len != y.encoding_len || memcmp(x.encoding, y.encoding, x.encoding_len) != 0);
    EXPECT_BYTES_EQ(x.analysis_id, y.analysis_id, OVL_HASH_LEN);
    ovl_agreement_clear(&y);
    b.params = good_params;
    b.receivers[1] = fr;
    b.nreceivers = 2; /* different receivers */
    EXPECT_OK(ovl_request_agreement(&y, &b, &t, 1));
    EXPECT_TRUE(x.encoding_len != y.encoding_len || memcmp(x.encoding, y.encoding, x.encoding_len) != 0);
    ovl_agreement_clear(&y);
    ovl_owner_terms stricter = {.min_rows = 300, .allow_cardinality = true, .has_policy = true};
    EXPECT_OK(ovl_request_agreement(&y, &a, &stricter, 1)); /* different threshold */
    EXPECT_TRUE(x.encoding_len != y.encoding_len || memcmp(x.encoding, y.encoding, x.encoding_len) != 0);
    ovl_agreement_clear(&x);
    ovl_agreement_clear(&y);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_approvals(void)
{
    char path[512], sig_path[600], text[1024];
    ovl_pubkey keys[2] = {*ovl_identity_pub(retailer), *ovl_identity_pub(advertiser)};
    ovl_approvals ap;
    /* missing: no error, not approved */
    EXPECT_OK(ovl_approvals_collect(&ap, tpl_path, tpl->hash, keys, 2));
    EXPECT_EQ(ap.n, 0);
    EXPECT_OK(ovl_approval_write(tpl_path, retailer, tpl->hash, path, sizeof path));
    EXPECT_OK(ovl_approvals_collect(&ap, tpl_path, tpl->hash, keys, 2));
    EXPECT_EQ(ap.n, 1);
    EXPECT_STR_EQ(ap.fpr[0], fr);
    EXPECT_OK(ovl_approval_write(tpl_path, advertiser, tpl->hash, path, sizeof path));
    EXPECT_OK(ovl_approvals_collect(&ap, tpl_path, tpl->hash, keys, 2));
    EXPECT_EQ(ap.n, 2);
    /* for another template */
    uint8_t other[OVL_HASH_LEN];
    memcpy(other, tpl->hash, sizeof other);
    other[0] ^= 1;
    EXPECT_ERR(OVL_ERR_POLICY, ovl_approvals_collect(&ap, tpl_path, other, keys, 2));
    EXPECT_TRUE(strstr(ovl_err_detail(), "approves another template") != NULL);
    /* forged: mallory's signature in the advertiser's file */
    snprintf(sig_path, sizeof sig_path, "%s.advertiser.sig", tpl_path);
    FILE *f = fopen(sig_path, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f)
        fclose(f);
    text[n] = '\0';
    char *sigfield = strchr(strchr(strchr(strchr(text, ' ') + 1, ' ') + 1, ' ') + 1, ' ') + 1;
    sigfield[0] = sigfield[0] == 'a' ? 'b' : 'a';
    write_file(sig_path, text);
    EXPECT_ERR(OVL_ERR_AUTH, ovl_approvals_collect(&ap, tpl_path, tpl->hash, keys, 2));
    EXPECT_TRUE(strstr(ovl_err_detail(), "signature does not verify") != NULL);
    /* signed by another key under the advertiser's name */
    char mpath[512];
    char mtpl[300];
    snprintf(mtpl, sizeof mtpl, "%s/m.sql", dir);
    EXPECT_OK(ovl_approval_write(mtpl, mallory, tpl->hash, mpath, sizeof mpath));
    rename(mpath, sig_path);
    EXPECT_ERR(OVL_ERR_AUTH, ovl_approvals_collect(&ap, tpl_path, tpl->hash, keys, 2));
    EXPECT_TRUE(strstr(ovl_err_detail(), "signed by another key") != NULL);
    write_file(sig_path, "garbage\n");
    EXPECT_ERR(OVL_ERR_INPUT, ovl_approvals_collect(&ap, tpl_path, tpl->hash, keys, 2));
    unlink(sig_path);
    snprintf(sig_path, sizeof sig_path, "%s.retailer.sig", tpl_path);
    unlink(sig_path);
}

/* A template with the attribution window (CONDITIONS.md §8): each owner's
 * condition column must be in its aggregation.join_conditions. */
static void test_join_conditions(void)
{
    static const char psql[] =
        "SELECT c.campaign_id, COUNT(DISTINCT c.email) AS users, SUM(p.amount) AS revenue\n"
        "FROM impressions AS c INNER JOIN purchases AS p ON c.email = p.email\n"
        " AND p.day BETWEEN c.seen AND c.seen + INTERVAL '30 days'\n"
        "GROUP BY c.campaign_id HAVING COUNT(DISTINCT c.email) >= 50\n";
    ovl_template *saved = tpl, *pt = NULL;
    char saved_hex[sizeof tpl_hex];
    EXPECT_OK(ovl_template_parse(&pt, "window.sql", psql, strlen(psql)));
    if (!pt)
        return;
    memcpy(saved_hex, tpl_hex, sizeof tpl_hex);
    tpl = pt;
    ovl_hex_encode(tpl_hex, pt->hash, OVL_HASH_LEN);
    ovl_request r = tpl_request();
    r.params = NULL;
    r.nparams = 0;
    expect_refused(verify_retail(&r, NULL, NULL),
                   "aggregation.join_conditions: column 'day' is not listed, so it cannot be "
                   "compared with the partner's columns");
    EXPECT_OK(verify_retail(&r, "\"allow_cardinality\": true}",
                            "\"allow_cardinality\": true, \"join_conditions\": [\"day\"]}"));
    expect_refused(verify_retail(&r, "\"allow_cardinality\": true}",
                                 "\"allow_cardinality\": true, \"join_conditions\": [\"amount\"]}"),
                   "column 'day' is not listed");
    tpl = saved;
    memcpy(tpl_hex, saved_hex, sizeof tpl_hex);
    ovl_template_free(pt);
}

/* A template with the attribution window and a cap (`cap` its first line),
 * verified by the retailer with its policy edited (from -> to, twice). */
static ovl_err verify_capped(const char *cap, const char *from, const char *to,
                             const char *from2, const char *to2)
{
    char text[1024];
    ovl_template *saved = tpl, *pt = NULL;
    char saved_hex[sizeof tpl_hex];
    ovl_policy *p = NULL;
    ovl_policy_terms terms;
    snprintf(text, sizeof text,
             "%s\nSELECT c.campaign_id, COUNT(DISTINCT c.email) AS users, SUM(p.amount) AS "
             "revenue\nFROM impressions AS c INNER JOIN purchases AS p ON c.email = p.email\n"
             " AND p.day BETWEEN c.seen AND c.seen + INTERVAL '30 days'\n"
             "GROUP BY c.campaign_id HAVING COUNT(DISTINCT c.email) >= 50\n", cap);
    ovl_err rc = ovl_template_parse(&pt, "capped.sql", text, strlen(text));
    EXPECT_OK(rc);
    if (rc != OVL_OK)
        return OVL_ERR_INTERNAL;
    memcpy(saved_hex, tpl_hex, sizeof tpl_hex);
    tpl = pt;
    ovl_hex_encode(tpl_hex, pt->hash, OVL_HASH_LEN);
    ovl_request r = tpl_request();
    r.params = NULL;
    r.nparams = 0;
    p = retail_policy2(from, to, from2, to2);
    rc = p ? ovl_verify_request(&terms, p, fr, fa, &r) : OVL_ERR_INTERNAL;
    ovl_policy_free(p);
    tpl = saved;
    memcpy(tpl_hex, saved_hex, sizeof tpl_hex);
    ovl_template_free(pt);
    return rc;
}

/* The cap's ordering column (CONDITIONS.md §8) follows the filter rule:
 * refused unless it is a join column or listed in aggregation.dimensions or
 * aggregation.join_conditions; the partner's ordering column (c.seen, not a
 * column of this table) is not this owner's to check. */
static void test_cap_order(void)
{
    static const char conds[] = "\"allow_cardinality\": true}";
    static const char day[] = "\"allow_cardinality\": true, \"join_conditions\": [\"day\"]}";
    static const char both_lists[] =
        "\"allow_cardinality\": true, \"join_conditions\": [\"day\", \"secret\"]}";
    static const char dims[] = "\"dimensions\": [\"day\"]";
    expect_refused(verify_capped("-- cap rows 2 by c.seen, p.secret", conds, day, NULL, NULL),
                   "retail.policy.json: aggregation.dimensions: column 'secret' is not listed, so "
                   "it cannot be the cap's ordering column");
    EXPECT_TRUE(strstr(ovl_err_detail(), "aggregation.join_conditions") != NULL);
    EXPECT_OK(verify_capped("-- cap rows 2 by c.seen, p.secret", conds, both_lists, NULL, NULL));
    EXPECT_OK(verify_capped("-- cap rows 2 by c.seen, p.secret", conds, day, dims,
                            "\"dimensions\": [\"day\", \"secret\"]"));
    /* the compared column, in join_conditions only; the join column */
    EXPECT_OK(verify_capped("-- cap rows 3 by p.day", conds, day, dims, "\"dimensions\": []"));
    EXPECT_OK(verify_capped("-- cap rows 3 by p.email", conds, day, dims, "\"dimensions\": []"));
    expect_refused(verify_capped("-- cap rows 3 by p.amount", conds, day, NULL, NULL),
                   "column 'amount' is not listed, so it cannot be the cap's ordering column");
    /* without an ordering column: input order, nothing to check */
    EXPECT_OK(verify_capped("-- cap rows 3", conds, day, dims, "\"dimensions\": []"));
}

/* A v2 template run by the advertiser against the retailer, whose policy
 * (edited from -> to) approves it. */
static ovl_err verify_v2(const char *text, const ovl_param_value *params, size_t nparams,
                         const char *from, const char *to)
{
    ovl_template *t = NULL;
    char hex[2 * OVL_HASH_LEN + 1];
    ovl_err rc = ovl_template_parse(&t, "v2.sql", text, strlen(text));
    EXPECT_OK(rc);
    if (rc != OVL_OK)
        return OVL_ERR_INTERNAL;
    ovl_hex_encode(hex, t->hash, OVL_HASH_LEN);
    ovl_request r = tpl_request();
    r.tpl = t;
    r.params = params;
    r.nparams = nparams;
    approved_hex = hex;
    rc = verify_retail(&r, from, to);
    approved_hex = tpl_hex;
    ovl_template_free(t);
    return rc;
}

#define V2_FROM " FROM impressions AS c INNER JOIN purchases AS p ON c.email = p.email "

/* Aggregates v2: dimensions of both parties, truncated dates, COUNT(col),
 * sums in expressions: each owner checks its own columns. */
static void test_v2_columns(void)
{
    static const char ok[] =
        "SELECT c.campaign_id, DATE_TRUNC('week', p.day) AS week, COUNT(p.amount) AS n,"
        " SUM(p.amount) AS revenue, SUM(p.amount) / NULLIF(COUNT(p.day), 0) AS per_day"
        V2_FROM "GROUP BY 1, 2 HAVING COUNT(DISTINCT c.email) >= 50";
    EXPECT_OK(verify_v2(ok, NULL, 0, NULL, NULL));
    expect_refused(verify_v2(ok, NULL, 0, "\"dimensions\": [\"day\"]", "\"dimensions\": []"),
                   "aggregation.dimensions: column 'day' is not listed, so it cannot be grouped by");
    expect_refused(verify_v2("SELECT c.campaign_id, SUM(p.amount) * 2 - SUM(p.secret) AS x" V2_FROM
                             "GROUP BY 1", NULL, 0, NULL, NULL),
                   "aggregation.aggregates: column 'secret' is not listed, so it cannot be aggregated");
    expect_refused(verify_v2("SELECT COUNT(p.secret) AS n" V2_FROM, NULL, 0, NULL, NULL),
                   "aggregation.aggregates: column 'secret' is not listed, so it cannot be counted");
    expect_refused(verify_v2("SELECT AVG(p.amount) AS a" V2_FROM, NULL, 0, NULL, NULL),
                   "aggregation.functions: AVG is not allowed");
    expect_refused(verify_v2("SELECT COUNT(*) / 2 AS a" V2_FROM, NULL, 0,
                             "\"COUNT\", \"COUNT_DISTINCT\", \"SUM\"", "\"COUNT_DISTINCT\""),
                   "aggregation.functions: COUNT is not allowed");
    /* the peer's columns are the peer's policy's business */
    EXPECT_OK(verify_v2("SELECT c.secret_dim, SUM(c.secret_value) AS s" V2_FROM "GROUP BY 1", NULL,
                        0, NULL, NULL));
}

/* aggregation.max_cells against the group space the filters allow. */
static void test_v2_max_cells(void)
{
    static const char weekly[] =
        "-- param lo date\n-- param hi date\n"
        "SELECT c.campaign_id, DATE_TRUNC('week', p.day) AS week, COUNT(*) AS n" V2_FROM
        "WHERE c.campaign_id IN ('a', 'b', 'c') AND p.day >= :lo AND p.day <= :hi GROUP BY 1, 2";
    const ovl_param_value year[] = {{"lo", "2026-01-01"}, {"hi", "2026-12-31"}};
    const ovl_param_value quarter[] = {{"lo", "2026-07-01"}, {"hi", "2026-09-30"}};
    /* 2026 touches 53 ISO weeks (from Monday 2025-12-29 to Monday 2026-12-28): 3 x 53 = 159 */
    EXPECT_OK(verify_v2(weekly, year, 2, NULL, NULL));
    expect_refused(verify_v2(weekly, year, 2, "\"min_rows\": 100",
                             "\"min_rows\": 100, \"max_cells\": 158"),
                   "aggregation.max_cells: template v2.sql's filters allow up to 159 cells");
    EXPECT_OK(verify_v2(weekly, year, 2, "\"min_rows\": 100", "\"min_rows\": 100, \"max_cells\": 159"));
    /* a quarter: 2026-06-29 .. 2026-09-28, 14 weeks: 42 cells */
    expect_refused(verify_v2(weekly, quarter, 2, "\"min_rows\": 100",
                             "\"min_rows\": 100, \"max_cells\": 41"), "up to 42 cells");
    /* days of a year: 3 x 365 > the default 1000 */
    expect_refused(verify_v2("SELECT c.campaign_id, p.day, COUNT(*) AS n" V2_FROM
                             "WHERE c.campaign_id IN ('a', 'b', 'c') AND p.day BETWEEN DATE "
                             "'2026-01-01' AND DATE '2026-12-31' GROUP BY 1, 2", NULL, 0, NULL, NULL),
                   "up to 1095 cells (runner groups x contributor groups), where this policy allows 1000");
    /* months, exclusive bounds: 2026-01-31 < day < 2026-04-01 is February and March */
    expect_refused(verify_v2("SELECT c.campaign_id, DATE_TRUNC('month', p.day) AS m, COUNT(*) AS n" V2_FROM
                             "WHERE c.campaign_id = 'a' AND p.day > DATE '2026-01-31' AND p.day < "
                             "DATE '2026-04-01' GROUP BY 1, 2", NULL, 0, "\"min_rows\": 100",
                             "\"min_rows\": 100, \"max_cells\": 1"), "up to 2 cells");
    /* an unbounded dimension: the engine checks the actual group space at HELLO */
    EXPECT_OK(verify_v2("SELECT c.campaign_id, p.day, COUNT(*) AS n" V2_FROM "GROUP BY 1, 2", NULL, 0,
                        "\"min_rows\": 100", "\"min_rows\": 100, \"max_cells\": 1"));
}

/* Ad hoc, each item names its party; unqualified items keep their sides. */
static void test_v2_adhoc(void)
{
    ovl_request r = adhoc(OVL_MODE_AGGREGATE);
    const char *groups[] = {"campaign_id", "week(contributor:day)"};
    ovl_value_req vals[] = {{OVL_FN_SUM, "amount"}, {OVL_FN_SUM, "runner:spend"},
                            {OVL_FN_COUNT, "contributor:day"}};
    r.group_by = groups;
    r.ngroup_by = 2;
    r.values = vals;
    r.nvalues = 3;
    r.side = OVL_SIDE_VALUES;
    EXPECT_OK(verify_retail(&r, NULL, NULL));
    groups[1] = "contributor:secret";
    expect_refused(verify_retail(&r, NULL, NULL),
                   "aggregation.dimensions: column 'secret' is not listed, so it cannot be grouped by");
    groups[1] = "year(contributor:day)";
    expect_refused(verify_retail(&r, NULL, NULL), "the request's group-by column: --group-by");
    groups[1] = "runner:secret"; /* the runner's own business */
    EXPECT_OK(verify_retail(&r, NULL, NULL));
    vals[2].column = "contributor:secret";
    expect_refused(verify_retail(&r, NULL, NULL), "column 'secret' is not listed, so it cannot be counted");
    /* as the runner, the retailer checks only runner: items and unqualified group-by columns */
    r.side = OVL_SIDE_GROUP;
    groups[0] = "day";
    groups[1] = "week(contributor:secret)";
    vals[1].column = "runner:secret";
    expect_refused(verify_retail(&r, NULL, NULL), "column 'secret' is not listed, so it cannot be aggregated");
    vals[1].column = "runner:amount";
    EXPECT_OK(verify_retail(&r, NULL, NULL));
}

int main(void)
{
    char mpath[600];
    if (ovl_crypto_init() != OVL_OK || !mkdtemp(dir))
        return 1;
    snprintf(tpl_path, sizeof tpl_path, "%s/attribution.sql", dir);
    write_file(tpl_path, sql);
    if (ovl_identity_generate(&retailer, "retailer") || ovl_identity_generate(&advertiser, "advertiser") ||
        ovl_identity_generate(&mallory, "advertiser") ||
        ovl_template_parse(&tpl, "attribution.sql", sql, strlen(sql)))
        return 1;
    ovl_fingerprint(fr, ovl_identity_pub(retailer)->pk);
    ovl_fingerprint(fa, ovl_identity_pub(advertiser)->pk);
    ovl_fingerprint(fm, ovl_identity_pub(mallory)->pk);
    ovl_hex_encode(tpl_hex, tpl->hash, OVL_HASH_LEN);
    both.n = 2;
    memcpy(both.fpr[0], fr, OVL_FPR_LEN);
    memcpy(both.fpr[1], fa, OVL_FPR_LEN);
    RUN(test_template_allowed);
    RUN(test_refuse_peer_unlisted);
    RUN(test_refuse_template_not_in_policy);
    RUN(test_refuse_template_other_table);
    RUN(test_refuse_approval_missing_own);
    RUN(test_refuse_approval_missing_peer);
    RUN(test_refuse_param_outside_list);
    RUN(test_refuse_template_column_unlisted);
    RUN(test_join_conditions);
    RUN(test_cap_order);
    RUN(test_refuse_function);
    RUN(test_refuse_join);
    RUN(test_refuse_receiver);
    RUN(test_refuse_cardinality);
    RUN(test_intersection);
    RUN(test_cardinality_mode);
    RUN(test_adhoc_aggregate);
    RUN(test_v2_columns);
    RUN(test_v2_max_cells);
    RUN(test_v2_adhoc);
    RUN(test_strictest_wins);
    RUN(test_agreement_mismatch);
    RUN(test_approvals);
    snprintf(mpath, sizeof mpath, "%s/m.sql.advertiser.sig", dir);
    unlink(mpath);
    unlink(tpl_path);
    rmdir(dir);
    ovl_template_free(tpl);
    ovl_identity_free(retailer);
    ovl_identity_free(advertiser);
    ovl_identity_free(mallory);
    return ovl_t_summary("test_verifier");
}
