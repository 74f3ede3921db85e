/* overlap run --mode aggregate: the runner (group-by columns, receives the
 * result) or the contributor (value columns, receives nothing); see
 * protocols/aggregate/SPEC.md. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aggregate/aggregate.h"
#include "cli/analysis.h"
#include "cli/cli.h"
#include "cli/session.h"
#include "core/guard.h"
#include "crypto/r255x8.h"
#include "io/columns.h"
#include "net/drive.h"
#include "net/identity.h"
#include "core/mem.h"
#include "core/pool.h"
#include "net/transport.h"

#define AVG_EXTRA_DIGITS 4u /* SPEC.md §5.8 */

typedef struct {
    ovl_idtable table;
    ovl_identity *self;
    ovl_pubkey peer;
    ovl_listener *listener;
    ovl_conn *conn;
    ovl_pool *pool;
    ovl_agg *agg;
    FILE *dump;
    ovl_group_table groups;
    char **group_cols;
    size_t ngroup_cols;
    ovl_value_col *vcols;
    size_t nvcols;
    uint8_t (*memb)[32];
    size_t *gstart, nmemb;
    int64_t *vectors;
    double started;
    bool progress_shown, finished;
    bool runner;
    ovl_policy *policy;
    ovl_template *tpl; /* this party's own parse, for roles, columns and output */
    int party;
    const char *join;
    ovl_tpl_rowfilter filter;
    ovl_analysis a;
    bool negotiated;
    ovl_buf first;
    char tname[256]; /* this party's table name, when derived from the CSV's name */
} agg_run;

/* Per identifier: rows, then the sum of each value column (checked adds). */
static ovl_err contributor_vectors(agg_run *s, const ovl_agg_cli *o)
{
    return ovl_value_vectors(&s->vectors, o->table, s->vcols, s->nvcols, &s->table);
}

static int memb_cmp(const void *a, const void *b)
{
    const uint32_t *x = a, *y = b;
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* Distinct (group, identifier) memberships, grouped (SPEC.md §5.1). */
static ovl_err runner_memberships(agg_run *s, const ovl_agg_cli *o)
{
    ovl_err rc = OVL_OK;
    uint32_t(*pairs)[2] = NULL;
    size_t n = 0, k = 0;
    OVL_TRY(ovl_group_table_load(&s->groups, o->table, s->group_cols, s->ngroup_cols, &s->table));
    OVL_ENSURE(s->groups.ngroups <= OVL_AGG_MAX_GROUPS, OVL_ERR_INPUT,
               "%s: %zu groups exceed the cap of %u", o->table, s->groups.ngroups,
               OVL_AGG_MAX_GROUPS);
    OVL_TRY(ovl_calloc((void **)&pairs, s->table.nrows ? s->table.nrows : 1, sizeof *pairs));
    for (size_t r = 0; r < s->table.nrows; r++) {
        if (!s->table.row_valid[r])
            continue;
        pairs[n][0] = s->groups.row_group[r];
        pairs[n++][1] = (uint32_t)ovl_idtable_find(&s->table, s->table.row_ids[r]);
    }
    qsort(pairs, n, sizeof *pairs, memb_cmp);
    OVL_TRY(ovl_calloc((void **)&s->memb, n ? n : 1, sizeof *s->memb));
    OVL_TRY(ovl_calloc((void **)&s->gstart, s->groups.ngroups + 1, sizeof *s->gstart));
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && memb_cmp(pairs[i - 1], pairs[i]) == 0)
            continue;
        s->gstart[pairs[i][0] + 1]++;
        memcpy(s->memb[k++], s->table.ids[pairs[i][1]], 32);
    }
    for (size_t g = 1; g <= s->groups.ngroups; g++)
        s->gstart[g] += s->gstart[g - 1];
    s->nmemb = k;
done:
    free(pairs);
    return rc;
}

static void show_progress(void *arg)
{
    agg_run *s = arg;
    ovl_agg_progress pr;
    ovl_agg_get_progress(s->agg, &pr);
    fprintf(stderr, "\roverlap: %s  own %llu/%llu  peer %llu/%llu  %.0f s   ",
            pr.setup_done ? "aggregating" : "setup", (unsigned long long)pr.own_done,
            (unsigned long long)pr.own_total, (unsigned long long)pr.peer_done,
            (unsigned long long)pr.peer_total, ovl_cli_now() - s->started);
    s->progress_shown = true;
}

/* One CSV field, quoted when it must be (RFC 4180). */
static ovl_err put_field(ovl_outfile *out, const char *v, bool first)
{
    ovl_err rc = OVL_OK;
    if (!first)
        OVL_TRY(ovl_outfile_write(out, ",", 1));
    if (strpbrk(v, ",\"\r\n") == NULL) {
        OVL_TRY(ovl_outfile_write(out, v, strlen(v)));
        goto done;
    }
    OVL_TRY(ovl_outfile_write(out, "\"", 1));
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            OVL_TRY(ovl_outfile_write(out, "\"", 1));
        OVL_TRY(ovl_outfile_write(out, p, 1));
    }
    OVL_TRY(ovl_outfile_write(out, "\"", 1));
done:
    return rc;
}

/* Which value column (index in the analysis) a template aggregate reads. */
static size_t value_index(const agg_run *s, const char *column)
{
    for (size_t c = 0; c < ovl_agg_value_count(s->agg); c++)
        if (column && strcmp(ovl_agg_value_name(s->agg, c), column) == 0)
            return c;
    return SIZE_MAX;
}

/* Without a template: dimensions, matched, rows, sum_ and avg_ per column.
 * With one: exactly its SELECT list, under its names. */
static ovl_err put_header(agg_run *s, ovl_outfile *out)
{
    ovl_err rc = OVL_OK;
    char name[OVL_COL_NAME_MAX + 8];
    bool first = true;
    if (s->tpl) {
        for (size_t i = 0; i < s->tpl->ndims; i++, first = false)
            OVL_TRY(put_field(out, s->tpl->dims[i].output, first));
        for (size_t i = 0; i < s->tpl->naggs; i++, first = false)
            OVL_TRY(put_field(out, s->tpl->aggs[i].output, first));
        OVL_TRY(ovl_outfile_write(out, "\n", 1));
        goto done;
    }
    for (size_t c = 0; c < s->ngroup_cols; c++, first = false)
        OVL_TRY(put_field(out, s->group_cols[c], first));
    OVL_TRY(put_field(out, "matched", first));
    OVL_TRY(put_field(out, "rows", false));
    for (size_t c = 0; c < ovl_agg_value_count(s->agg); c++) {
        snprintf(name, sizeof name, "sum_%s", ovl_agg_value_name(s->agg, c));
        OVL_TRY(put_field(out, name, false));
        snprintf(name, sizeof name, "avg_%s", ovl_agg_value_name(s->agg, c));
        OVL_TRY(put_field(out, name, false));
    }
    OVL_TRY(ovl_outfile_write(out, "\n", 1));
done:
    return rc;
}

static ovl_err put_group(agg_run *s, ovl_outfile *out, size_t g, uint64_t matched,
                         const int64_t *sums)
{
    ovl_err rc = OVL_OK;
    char num[OVL_DECIMAL_STR_MAX];
    bool first = true;
    for (size_t c = 0; c < s->ngroup_cols; c++, first = false)
        OVL_TRY(put_field(out, ovl_group_key(&s->groups, g, c), first));
    snprintf(num, sizeof num, "%llu", (unsigned long long)matched);
    OVL_TRY(put_field(out, num, first));
    ovl_decimal_format(num, sums[0], 0);
    OVL_TRY(put_field(out, num, false));
    for (size_t c = 0; c < ovl_agg_value_count(s->agg); c++) {
        unsigned d = ovl_agg_value_decimals(s->agg, c);
        ovl_decimal_format(num, sums[1 + c], d);
        OVL_TRY(put_field(out, num, false));
        ovl_decimal_format_ratio(num, sums[1 + c], (uint64_t)sums[0], d, AVG_EXTRA_DIGITS);
        OVL_TRY(put_field(out, num, false));
    }
    OVL_TRY(ovl_outfile_write(out, "\n", 1));
done:
    return rc;
}

static ovl_err put_template_group(agg_run *s, ovl_outfile *out, size_t g, uint64_t matched,
                                  const int64_t *sums)
{
    ovl_err rc = OVL_OK;
    char num[OVL_DECIMAL_STR_MAX];
    bool first = true;
    for (size_t i = 0; i < s->tpl->ndims; i++, first = false)
        OVL_TRY(put_field(out, ovl_group_key(&s->groups, g, i), first));
    for (size_t i = 0; i < s->tpl->naggs; i++, first = false) {
        const ovl_tpl_agg *ag = &s->tpl->aggs[i];
        size_t c = value_index(s, ag->column);
        if (ag->fn == OVL_FN_COUNT_DISTINCT) {
            snprintf(num, sizeof num, "%llu", (unsigned long long)matched);
        } else if (ag->fn == OVL_FN_COUNT) {
            ovl_decimal_format(num, sums[0], 0);
        } else {
            OVL_ENSURE(c != SIZE_MAX, OVL_ERR_PROTOCOL, "the peer did not contribute column %s",
                       ag->column);
            unsigned d = ovl_agg_value_decimals(s->agg, c);
            if (ag->fn == OVL_FN_SUM)
                ovl_decimal_format(num, sums[1 + c], d);
            else
                ovl_decimal_format_ratio(num, sums[1 + c], (uint64_t)sums[0], d, AVG_EXTRA_DIGITS);
        }
        OVL_TRY(put_field(out, num, first));
    }
    OVL_TRY(ovl_outfile_write(out, "\n", 1));
done:
    return rc;
}

/* Released groups only, in the sorted order of their dimension values. */
static ovl_err write_result(agg_run *s, const ovl_agg_cli *o)
{
    ovl_err rc = OVL_OK;
    ovl_outfile *out = NULL;
    OVL_TRY(ovl_outfile_open(&out, o->out));
    OVL_TRY(put_header(s, out));
    for (size_t g = 0; g < s->groups.ngroups; g++) {
        uint64_t matched;
        bool released;
        const int64_t *sums;
        OVL_TRY(ovl_agg_group_result(s->agg, g, &matched, &released, &sums));
        OVL_ENSURE(!released || sums[0] >= 1, OVL_ERR_PROTOCOL,
                   "the peer's shares decode to a group without rows");
        if (released && s->tpl)
            OVL_TRY(put_template_group(s, out, g, matched, sums));
        else if (released)
            OVL_TRY(put_group(s, out, g, matched, sums));
    }
    rc = ovl_outfile_commit(out);
    out = NULL;
done:
    ovl_outfile_abort(out);
    return rc;
}

static const char *base_name(const char *path, char *buf, size_t cap)
{
    const char *slash = strrchr(path, '/');
    const char *b = slash ? slash + 1 : path;
    const char *dot = strrchr(b, '.');
    snprintf(buf, cap, "%.*s", dot && dot != b ? (int)(dot - b) : (int)strlen(b), b);
    return buf;
}

/* With a template, this party's role, join column, columns and filters come
 * from it (protocols/setup/SPEC.md §3.3). */
static ovl_err template_plan(agg_run *s, const ovl_agg_cli *o)
{
    ovl_err rc = OVL_OK;
    char name[256];
    const char *table_name = o->table_name    ? o->table_name
                             : s->policy      ? s->policy->table_name
                                              : base_name(o->table, name, sizeof name);
    s->party = -1;
    s->join = o->join;
    s->runner = o->values == NULL || o->group_by != NULL;
    if (o->tpl == NULL)
        return OVL_OK;
    OVL_TRY(ovl_template_load(&s->tpl, o->tpl));
    OVL_TRY(ovl_template_check_params(s->tpl, o->params, o->nparams));
    s->party = ovl_template_party(s->tpl, table_name);
    OVL_ENSURE(s->party >= 0, OVL_ERR_USAGE,
               "%s reads tables %s and %s; this party's table is named %s (set --table-name)",
               o->tpl, s->tpl->table[0], s->tpl->table[1], table_name);
    s->runner = s->tpl->group_party == s->party ||
                (s->tpl->group_party < 0 && s->tpl->value_party != s->party);
    s->join = s->tpl->join_column[s->party];
    OVL_ENSURE(!s->runner || o->out, OVL_ERR_USAGE,
               "run: --out FILE is required: this party groups the template's result");
    OVL_TRY(ovl_tpl_rowfilter_init(&s->filter, s->tpl, s->party, o->params, o->nparams, o->table));
    if (s->runner) {
        OVL_TRY(ovl_calloc((void **)&s->group_cols, s->tpl->ndims + 1, sizeof *s->group_cols));
        for (size_t i = 0; i < s->tpl->ndims; i++) {
            s->group_cols[i] = strdup(s->tpl->dims[i].column);
            OVL_ENSURE(s->group_cols[i], OVL_ERR_NOMEM, "out of memory");
            s->ngroup_cols++;
        }
    } else {
        OVL_TRY(ovl_calloc((void **)&s->vcols, s->tpl->naggs + 1, sizeof *s->vcols));
        for (size_t i = 0; i < s->tpl->naggs; i++) {
            const ovl_tpl_agg *ag = &s->tpl->aggs[i];
            bool seen = ag->column == NULL || ag->party != s->party ||
                        (ag->fn != OVL_FN_SUM && ag->fn != OVL_FN_AVG);
            for (size_t k = 0; k < s->nvcols && !seen; k++)
                seen = strcmp(s->vcols[k].name, ag->column) == 0;
            if (seen)
                continue;
            s->vcols[s->nvcols].name = strdup(ag->column);
            OVL_ENSURE(s->vcols[s->nvcols].name, OVL_ERR_NOMEM, "out of memory");
            OVL_TRY(ovl_column_decimals(&s->vcols[s->nvcols].decimals, o->table, ag->column));
            s->nvcols++;
        }
    }
done:
    return rc;
}

static ovl_err load_inputs(agg_run *s, const ovl_agg_cli *o)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_crypto_init());
    OVL_TRY(ovl_paillier_init());
    OVL_TRY(ovl_identity_load(&s->self, o->identity));
    OVL_TRY(ovl_pubkey_load(&s->peer, o->peer));
    if (o->policy)
        OVL_TRY(ovl_policy_load(&s->policy, o->policy));
    OVL_TRY(template_plan(s, o));
    OVL_TRY(ovl_idtable_load_filtered(&s->table, o->table, s->join, o->norm, o->prehashed,
                                      s->filter.n ? ovl_tpl_rowfilter_apply : NULL, &s->filter));
    if (!s->runner) {
        if (s->tpl == NULL)
            OVL_TRY(ovl_value_cols_parse(&s->vcols, &s->nvcols, o->values));
        OVL_TRY(contributor_vectors(s, o));
    } else {
        if (s->tpl == NULL)
            OVL_TRY(ovl_col_names_parse(&s->group_cols, &s->ngroup_cols,
                                        o->group_by ? o->group_by : ""));
        OVL_TRY(runner_memberships(s, o));
    }
done:
    return rc;
}

static ovl_err read_text(char **out, size_t *len, const char *path)
{
    ovl_err rc = OVL_OK;
    FILE *f = fopen(path, "rb");
    OVL_ENSURE(f != NULL, OVL_ERR_IO, "cannot read %s", path);
    OVL_TRY(ovl_calloc((void **)out, OVL_TPL_MAX_BYTES + 1, 1));
    *len = fread(*out, 1, OVL_TPL_MAX_BYTES + 1, f);
    OVL_ENSURE(*len <= OVL_TPL_MAX_BYTES, OVL_ERR_INPUT, "%s is larger than %u bytes", path,
               OVL_TPL_MAX_BYTES);
done:
    if (f)
        fclose(f);
    return rc;
}

/* The analysis this party typed, as a request (protocols/setup/SPEC.md §3.2). */
static ovl_err build_nego(agg_run *s, const ovl_agg_cli *o, ovl_nego *n)
{
    ovl_err rc = OVL_OK;
    char fpr[OVL_FPR_LEN];
    bool listener = o->listen != NULL;
    memset(n, 0, sizeof *n);
    n->mode = OVL_MODE_AGGREGATE;
    n->norm = o->norm;
    n->join[listener ? 0 : 1] = strdup(s->join);
    n->join[listener ? 1 : 0] = strdup(o->peer_join ? o->peer_join : s->join);
    OVL_ENSURE(n->join[0] && n->join[1], OVL_ERR_NOMEM, "out of memory");
    n->runner_is_listener = s->runner == listener;
    ovl_fingerprint(fpr, s->runner ? ovl_identity_pub(s->self)->pk : s->peer.pk);
    memcpy(n->receivers[0], fpr, OVL_FPR_LEN);
    n->nreceivers = 1;
    if (o->tpl) {
        char label[256];
        const char *slash = strrchr(o->tpl, '/');
        snprintf(label, sizeof label, "%s", slash ? slash + 1 : o->tpl);
        n->tpl_label = strdup(label);
        OVL_TRY(read_text(&n->tpl_text, &n->tpl_len, o->tpl));
        OVL_TRY(ovl_calloc((void **)&n->params, o->nparams + 1, sizeof *n->params));
        for (size_t i = 0; i < o->nparams; i++) {
            n->params[i].name = strdup(o->params[i].name);
            n->params[i].value = strdup(o->params[i].value);
            OVL_ENSURE(n->params[i].name && n->params[i].value, OVL_ERR_NOMEM, "out of memory");
            n->nparams++;
        }
        goto done;
    }
    OVL_ENSURE(s->runner && o->values != NULL, OVL_ERR_USAGE,
               "run: a negotiated ad-hoc aggregate is asked by the runner, naming the served "
               "table's columns with --values (or use --template)");
    n->threshold = o->min_rows;
    OVL_TRY(ovl_calloc((void **)&n->group_by, s->ngroup_cols + 1, sizeof *n->group_by));
    for (size_t i = 0; i < s->ngroup_cols; i++) {
        n->group_by[i] = strdup(s->group_cols[i]);
        OVL_ENSURE(n->group_by[i], OVL_ERR_NOMEM, "out of memory");
        n->ngroup_by++;
    }
    ovl_value_col *cols = NULL;
    size_t ncols = 0;
    OVL_TRY(ovl_value_cols_parse(&cols, &ncols, o->values));
    rc = ovl_calloc((void **)&n->values, 2 * ncols + 1, sizeof *n->values);
    if (rc == OVL_OK)
        rc = ovl_calloc((void **)&n->decimals, 2 * ncols + 1, sizeof *n->decimals);
    for (size_t i = 0; rc == OVL_OK && i < 2 * ncols; i++) {
        char *col = strdup(cols[i / 2].name);
        if (col == NULL) {
            rc = ovl_err_set(OVL_ERR_NOMEM, "out of memory");
            break;
        }
        n->values[i].fn = i % 2 ? OVL_FN_AVG : OVL_FN_SUM;
        n->values[i].column = col;
        n->decimals[i] = cols[i / 2].decimals;
        n->nvalues++;
    }
    ovl_value_cols_free(cols, ncols);
done:
    return rc;
}

static ovl_err negotiate(agg_run *s, const ovl_agg_cli *o)
{
    ovl_err rc = OVL_OK;
    ovl_nego mine = {0};
    bool request;
    int timeout_ms = (int)(o->timeout_s * 1000);
    ovl_analysis_begin(&s->a, s->self, s->policy, o->audit,
                       o->listen ? OVL_ROLE_LISTENER : OVL_ROLE_CONNECTOR, s->table.nids, s->conn);
    s->a.table_name = o->table_name   ? o->table_name
                      : s->policy     ? s->policy->table_name
                                      : base_name(o->table, s->tname, sizeof s->tname);
    if (o->connect) {
        if (!o->negotiate)
            goto done;
        OVL_TRY(build_nego(s, o, &s->a.nego));
        if (o->tpl)
            OVL_TRY(ovl_analysis_read_approvals(&s->a, o->tpl));
        OVL_TRY(ovl_analysis_connector(&s->a, s->conn, timeout_ms));
        s->negotiated = true;
        goto done;
    }
    OVL_TRY(ovl_analysis_first_frame(s->conn, &s->first, timeout_ms, &request));
    if (!request) {
        if (o->negotiate)
            OVL_FAIL(ovl_analysis_refuse(s->conn, ovl_err_set(OVL_ERR_POLICY,
                     "this party negotiates its analyses: the peer must too (--policy, "
                     "--template or --negotiate)")));
        goto done;
    }
    OVL_ENSURE(o->tpl != NULL, OVL_ERR_POLICY,
               "the peer asks for a negotiated ad-hoc aggregate: those are answered by "
               "overlap serve; two operators share a --template instead");
    OVL_TRY(build_nego(s, o, &mine));
    OVL_TRY(ovl_analysis_read_approvals(&s->a, o->tpl));
    OVL_TRY(ovl_analysis_answer(&s->a, s->conn, &s->first, &mine));
    s->negotiated = true;
done:
    ovl_nego_clear(&mine);
    return rc;
}

static ovl_err execute(agg_run *s, const ovl_agg_cli *o)
{
    ovl_err rc = OVL_OK;
    char domain[64];
    OVL_TRY(load_inputs(s, o));
    if (o->dump) {
        s->dump = fopen(o->dump, "wb");
        OVL_ENSURE(s->dump != NULL, OVL_ERR_IO, "cannot create %s", o->dump);
    }
    ovl_agg_config cfg = {
        .role = o->listen ? OVL_ROLE_LISTENER : OVL_ROLE_CONNECTOR,
        .contributor = !s->runner,
        .group = ovl_group_default(),
        .domain = domain,
        .min_rows = o->min_rows,
        .paillier_bits = (unsigned)o->paillier_bits,
        .max_peer_set = o->max_peer,
        .max_jobs = (size_t)(2 * o->threads + 2),
        .memb = (const uint8_t(*)[32])s->memb,
        .group_start = s->gstart,
        .ngroups = s->groups.ngroups,
        .group_by_cols = (unsigned)s->ngroup_cols,
        .ids = (const uint8_t(*)[32])s->table.ids,
        .nids = s->table.nids,
        .vectors = s->vectors,
        .values = s->vcols,
        .nvalues = s->nvcols,
    };
    snprintf(domain, sizeof domain, "id=sha256 normalize=%s", ovl_norm_name(o->norm));
    OVL_TRY(ovl_agg_precheck(&cfg));
    OVL_TRY(ovl_pool_new(&s->pool, (size_t)o->threads));
    OVL_TRY(ovl_cli_open_connection(&s->listener, &s->conn, o->listen, o->connect, s->self,
                                    &s->peer, o->wait_s, o->timeout_s));
    rc = negotiate(s, o);
    if (rc != OVL_OK)
        OVL_FAIL(ovl_cli_peer_error(rc, ovl_conn_label(s->conn)));
    /* A template's threshold is the agreed one (HAVING, raised by every
     * owner's min_rows); ad hoc, the larger of both statements applies. */
    if (s->negotiated && (o->tpl || s->a.agreement.threshold > cfg.min_rows))
        cfg.min_rows = s->a.agreement.threshold ? s->a.agreement.threshold : 1;
    if (s->negotiated) {
        cfg.agreement = s->a.agreement.encoding;
        cfg.agreement_len = s->a.agreement.encoding_len;
        cfg.expect_peer_set = true;
        cfg.peer_set_expected = s->a.peer_set;
    }
    OVL_TRY(ovl_agg_new(&s->agg, &cfg));
    s->started = ovl_cli_now();
    OVL_TRY(ovl_cli_drive(s->conn, &ovl_agg_ops, s->agg, s->pool, s->dump, o->timeout_s,
                          o->quiet ? NULL : show_progress, s, &s->first, &s->progress_shown));
    if (s->negotiated)
        OVL_TRY(ovl_analysis_cosign(&s->a, s->conn, ovl_agg_transcript(s->agg),
                                    (int)(o->timeout_s * 1000)));
    if (s->runner) {
        size_t released = ovl_agg_groups_released(s->agg);
        s->a.groups_released = released;
        s->a.groups_suppressed = s->groups.ngroups - released;
        OVL_TRY(write_result(s, o));
    } else if (o->out && !o->quiet) {
        fprintf(stderr, "overlap: the contributor receives no output; %s was not written\n",
                o->out);
    }
    s->finished = true;
done:
    return rc;
}

static void print_summary(const agg_run *s, const ovl_agg_cli *o, double seconds)
{
    bool runner = s->runner;
    size_t released = runner ? ovl_agg_groups_released(s->agg) : 0;
    json_t *j = json_object();
    json_object_set_new(j, "mode", json_string("aggregate"));
    json_object_set_new(j, "role", json_string(o->listen ? "listener" : "connector"));
    json_object_set_new(j, "aggregate_role", json_string(runner ? "runner" : "contributor"));
    json_object_set_new(j, "suite", json_string(ovl_group_default()->name));
    json_object_set_new(j, "arith", json_string(ovl_arith_name()));
    json_object_set_new(j, "local_rows", json_integer((json_int_t)s->table.nrows));
    json_object_set_new(j, "distinct_local_identifiers", json_integer((json_int_t)s->table.nids));
    json_object_set_new(j, "skipped_rows", json_integer((json_int_t)s->table.skipped));
    json_object_set_new(j, "peer_set_size",
                        json_integer((json_int_t)ovl_agg_peer_set_size(s->agg)));
    json_object_set_new(j, "intersection_size", json_null());
    json_object_set_new(j, "min_rows", json_integer((json_int_t)ovl_agg_threshold(s->agg)));
    json_object_set_new(j, "paillier_bits", json_integer((json_int_t)o->paillier_bits));
    if (runner) {
        json_object_set_new(j, "groups_released", json_integer((json_int_t)released));
        json_object_set_new(j, "groups_suppressed",
                            json_integer((json_int_t)(s->groups.ngroups - released)));
    } else {
        json_object_set_new(j, "groups_released", json_null());
        json_object_set_new(j, "groups_suppressed", json_null());
    }
    json_object_set_new(j, "tag_bytes", json_integer((json_int_t)ovl_agg_tag_len(s->agg)));
    json_object_set_new(j, "seconds", json_real(seconds));
    json_object_set_new(j, "bytes_sent", json_integer((json_int_t)ovl_conn_bytes_sent(s->conn)));
    json_object_set_new(j, "bytes_received",
                        json_integer((json_int_t)ovl_conn_bytes_received(s->conn)));
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    if (text) {
        printf("%s\n", text);
        free(text);
    }
    json_decref(j);
}

static void cleanup(agg_run *s)
{
    ovl_analysis_clear(&s->a);
    ovl_buf_free(&s->first);
    ovl_template_free(s->tpl);
    ovl_policy_free(s->policy);
    ovl_conn_close(s->conn);
    ovl_listener_close(s->listener);
    ovl_agg_free(s->agg);
    ovl_pool_free(s->pool);
    ovl_idtable_free(&s->table);
    ovl_identity_free(s->self);
    ovl_group_table_free(&s->groups);
    ovl_col_names_free(s->group_cols, s->ngroup_cols);
    ovl_value_cols_free(s->vcols, s->nvcols);
    ovl_free_secret(s->memb, s->nmemb * sizeof *s->memb);
    free(s->gstart);
    free(s->vectors);
    if (s->dump)
        fclose(s->dump);
}

int ovl_run_aggregate(const ovl_agg_cli *o)
{
    agg_run s;
    memset(&s, 0, sizeof s);
    double t0 = ovl_cli_now();
    ovl_err rc = execute(&s, o);
    if (rc == OVL_OK && o->summary)
        print_summary(&s, o, ovl_cli_now() - t0);
    if (s.negotiated || (o->audit && s.conn))
        ovl_analysis_audit(&s.a, rc);
    if (rc == OVL_OK && !o->quiet && s.runner) {
        size_t released = ovl_agg_groups_released(s.agg);
        fprintf(stderr, "overlap: done: %zu groups released, %zu suppressed (min-rows %llu), "
                        "written to %s\n",
                released, s.groups.ngroups - released,
                (unsigned long long)ovl_agg_threshold(s.agg), o->out);
    }
    cleanup(&s);
    return rc == OVL_OK ? 0 : ovl_cli_fail(rc);
}
