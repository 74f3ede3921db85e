/* The aggregate kind of session (protocols/aggregate/SPEC.md): the runner
 * (group-by columns; receives the released groups) or the contributor
 * (value columns; receives nothing). A served table is always the
 * contributor. With a template, roles, columns and filters come from it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "core/mem.h"
#include "crypto/group.h"
#include "io/dbspec.h"
#include "session/state.h"

#define AVG_EXTRA_DIGITS 4u /* SPEC.md §5.8 */


/* One pass over the table: identifiers (after the template's filters), then
 * the runner's groups or, per identifier, the contributor's row count and
 * the sum of each value column (checked adds). */
static ovl_err load_table(ovl_session *s, const ovl_session_config *o)
{
    ovl_err rc = OVL_OK;
    ovl_table_input in;
    ovl_load_spec want = {.query = o->query, .join = s->join, .norm = o->norm,
                          .prehashed = o->prehashed, .filter = ovl_tpl_rowfilter_ops(&s->filter)};
    if (s->runner) {
        want.group_by = s->group_cols;
        want.ngroup_by = s->ngroup_cols;
        want.groups = true;
    } else {
        want.values = s->vcols;
        want.nvalues = s->nvcols;
    }
    OVL_TRY(ovl_table_load(&in, o->table, &want));
    s->ids = in.ids;
    s->groups = in.groups;
    if (!s->runner)
        rc = ovl_value_vectors(&s->vectors, &in.values, s->vcols, &s->ids);
    ovl_value_table_free(&in.values);
done:
    return rc;
}

static int memb_cmp(const void *a, const void *b)
{
    const uint32_t *x = a, *y = b;
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* Distinct (group, identifier) memberships, grouped (SPEC.md §5.1). */
static ovl_err runner_memberships(ovl_session *s, const ovl_session_config *o)
{
    ovl_err rc = OVL_OK;
    uint32_t(*pairs)[2] = NULL;
    size_t n = 0, k = 0;
    if (s->groups.ngroups > OVL_AGG_MAX_GROUPS) {
        char *shown = ovl_spec_redact(o->table);
        rc = ovl_err_set(OVL_ERR_INPUT, "%s: %zu groups exceed the cap of %u",
                         shown ? shown : "the table", s->groups.ngroups, OVL_AGG_MAX_GROUPS);
        free(shown);
        goto done;
    }
    OVL_TRY(ovl_calloc((void **)&pairs, s->ids.nrows ? s->ids.nrows : 1, sizeof *pairs));
    for (size_t r = 0; r < s->ids.nrows; r++) {
        if (!s->ids.row_valid[r])
            continue;
        pairs[n][0] = s->groups.row_group[r];
        pairs[n++][1] = (uint32_t)ovl_idtable_find(&s->ids, s->ids.row_ids[r]);
    }
    qsort(pairs, n, sizeof *pairs, memb_cmp);
    OVL_TRY(ovl_calloc((void **)&s->memb, n ? n : 1, sizeof *s->memb));
    OVL_TRY(ovl_calloc((void **)&s->gstart, s->groups.ngroups + 1, sizeof *s->gstart));
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && memb_cmp(pairs[i - 1], pairs[i]) == 0)
            continue;
        s->gstart[pairs[i][0] + 1]++;
        memcpy(s->memb[k++], s->ids.ids[pairs[i][1]], 32);
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
    ovl_session *s = arg;
    ovl_agg_progress pr;
    ovl_agg_get_progress(s->agg, &pr);
    fprintf(stderr, "\roverlap: %s  own %llu/%llu  peer %llu/%llu  %.0f s   ",
            pr.setup_done ? "aggregating" : "setup", (unsigned long long)pr.own_done,
            (unsigned long long)pr.own_total, (unsigned long long)pr.peer_done,
            (unsigned long long)pr.peer_total, ovl_session_now() - s->started);
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
static size_t value_index(const ovl_session *s, const char *column)
{
    for (size_t c = 0; c < ovl_agg_value_count(s->agg); c++)
        if (column && strcmp(ovl_agg_value_name(s->agg, c), column) == 0)
            return c;
    return SIZE_MAX;
}

/* Without a template: dimensions, matched, rows, sum_ and avg_ per column.
 * With one: exactly its SELECT list, under its names. */
static ovl_err put_header(ovl_session *s, ovl_outfile *out)
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

static ovl_err put_group(ovl_session *s, ovl_outfile *out, size_t g, uint64_t matched,
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

static ovl_err put_template_group(ovl_session *s, ovl_outfile *out, size_t g, uint64_t matched,
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
        ovl_agg_reduce reduce = ovl_aggfn_kind_of(ag->fn)->reduce;
        if (reduce == OVL_REDUCE_IDENTIFIERS) {
            snprintf(num, sizeof num, "%llu", (unsigned long long)matched);
        } else if (reduce == OVL_REDUCE_ROWS) {
            ovl_decimal_format(num, sums[0], 0);
        } else {
            OVL_ENSURE(c != SIZE_MAX, OVL_ERR_PROTOCOL, "the peer did not contribute column %s",
                       ag->column);
            unsigned d = ovl_agg_value_decimals(s->agg, c);
            if (reduce == OVL_REDUCE_SUM)
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
static ovl_err write_result(ovl_session *s, const ovl_session_config *o)
{
    ovl_err rc = OVL_OK;
    ovl_outfile *out = NULL;
    OVL_TRY(ovl_output_open(&out, o->out, o->replace));
    if (o->writing)
        o->writing(ovl_outfile_temp_path(out));
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
    if (o->writing)
        o->writing(NULL);
    return rc;
}

/* With a template, this party's role, join column, columns and filters come
 * from it (protocols/setup/SPEC.md §3.3). */
static ovl_err template_plan(ovl_session *s, const ovl_session_config *o)
{
    ovl_err rc = OVL_OK;
    const char *table_name = ovl_session_table_name(s);
    s->party = -1;
    s->join = o->join;
    s->runner = o->values == NULL || o->group_by != NULL;
    if (o->template_path == NULL)
        return OVL_OK;
    OVL_TRY(ovl_template_load(&s->tpl, o->template_path));
    OVL_TRY(ovl_template_check_params(s->tpl, o->params, o->nparams));
    /* The engine here computes per-identifier products only: running such a
     * template on it would silently drop its conditions (CONDITIONS.md). */
    OVL_ENSURE(s->tpl->npairs == 0, OVL_ERR_POLICY,
               "%s compares columns of both tables on each joined row (ON or WHERE); this "
               "build's aggregate engine has no pairwise comparison phase, so it refuses the "
               "template rather than drop the condition", o->template_path);
    s->party = ovl_template_party(s->tpl, table_name);
    OVL_ENSURE(s->party >= 0, OVL_ERR_USAGE,
               "%s reads tables %s and %s; this party's table is named %s (set --table-name)",
               o->template_path, s->tpl->table[0], s->tpl->table[1], table_name);
    s->runner = s->tpl->group_party == s->party ||
                (s->tpl->group_party < 0 && s->tpl->value_party != s->party);
    s->join = s->tpl->join_column[s->party];
    OVL_ENSURE(!s->runner || o->out, OVL_ERR_USAGE,
               "run: --out FILE is required: this party groups the template's result");
    OVL_TRY(ovl_tpl_rowfilter_init(&s->filter, s->tpl, s->party, o->params, o->nparams));
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
                        !ovl_aggfn_reads_values(ag->fn);
            for (size_t k = 0; k < s->nvcols && !seen; k++)
                seen = strcmp(s->vcols[k].name, ag->column) == 0;
            if (seen)
                continue;
            s->vcols[s->nvcols].name = strdup(ag->column);
            OVL_ENSURE(s->vcols[s->nvcols].name, OVL_ERR_NOMEM, "out of memory");
            s->vcols[s->nvcols].decimals = OVL_DECIMALS_AUTO; /* as many as the cells show */
            s->nvcols++;
        }
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
static ovl_err build_nego(ovl_session *s, const ovl_session_config *o, ovl_nego *n)
{
    ovl_err rc = OVL_OK;
    char fpr[OVL_FPR_LEN];
    bool listener = o->role == OVL_ROLE_LISTENER;
    memset(n, 0, sizeof *n);
    n->mode = OVL_MODE_AGGREGATE;
    n->norm = o->norm;
    n->join[listener ? 0 : 1] = strdup(s->join);
    n->join[listener ? 1 : 0] = strdup(o->peer_join ? o->peer_join : s->join);
    OVL_ENSURE(n->join[0] && n->join[1], OVL_ERR_NOMEM, "out of memory");
    n->runner_is_listener = s->runner == listener;
    ovl_fingerprint(fpr, s->runner ? ovl_identity_pub(o->self)->pk : o->peer->pk);
    memcpy(n->receivers[0], fpr, OVL_FPR_LEN);
    n->nreceivers = 1;
    if (o->template_path) {
        char label[256];
        const char *slash = strrchr(o->template_path, '/');
        snprintf(label, sizeof label, "%s", slash ? slash + 1 : o->template_path);
        n->tpl_label = strdup(label);
        OVL_TRY(read_text(&n->tpl_text, &n->tpl_len, o->template_path));
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


static void agg_config(ovl_session *s, ovl_agg_config *cfg);

/* run: this party's input from its options, before connecting. */
static ovl_err agg_load(ovl_session *s)
{
    ovl_err rc = OVL_OK;
    const ovl_session_config *o = &s->cfg;
    /* A group of one would publish that person's own values, whoever asks. */
    OVL_ENSURE(o->min_rows >= OVL_MIN_ROWS_LO, OVL_ERR_USAGE,
               "the minimum group size must be at least %u (got %llu)", OVL_MIN_ROWS_LO,
               (unsigned long long)o->min_rows);
    OVL_TRY(template_plan(s, o));
    if (s->tpl == NULL && !s->runner)
        OVL_TRY(ovl_value_cols_parse(&s->vcols, &s->nvcols, o->values));
    if (s->tpl == NULL && s->runner)
        OVL_TRY(ovl_col_names_parse(&s->group_cols, &s->ngroup_cols,
                                    o->group_by ? o->group_by : ""));
    OVL_TRY(load_table(s, o));
    if (s->runner)
        OVL_TRY(runner_memberships(s, o));
    /* A database --out is checked now (reachable, table absent unless
     * --replace), before the peer is contacted; a CSV path is opened and
     * dropped, so an unwritable one fails here too. */
    if (s->runner && o->out) {
        ovl_outfile *probe = NULL;
        OVL_TRY(ovl_output_open(&probe, o->out, o->replace));
        ovl_outfile_abort(probe);
    }
    ovl_agg_config cfg;
    agg_config(s, &cfg);
    OVL_TRY(ovl_agg_precheck(&cfg));
done:
    return rc;
}

/* The value columns a served table is asked for: the template's SUM/AVG
 * columns of this party, or the ad-hoc request's, each once. */
static ovl_err served_columns(ovl_session *s)
{
    ovl_err rc = OVL_OK;
    const ovl_template *t = s->a.tpl;
    size_t max = t ? t->naggs : s->a.nego.nvalues;
    OVL_TRY(ovl_calloc((void **)&s->vcols, max + 1, sizeof *s->vcols));
    for (size_t i = 0; i < max; i++) {
        const char *col = t ? t->aggs[i].column : s->a.nego.values[i].column;
        ovl_aggfn fn = t ? t->aggs[i].fn : s->a.nego.values[i].fn;
        if ((t && t->aggs[i].party != s->a.party) || col == NULL || !ovl_aggfn_reads_values(fn))
            continue;
        bool seen = false;
        for (size_t k = 0; k < s->nvcols && !seen; k++)
            seen = strcmp(s->vcols[k].name, col) == 0;
        if (seen)
            continue;
        s->vcols[s->nvcols].name = strdup(col);
        OVL_ENSURE(s->vcols[s->nvcols].name != NULL, OVL_ERR_NOMEM, "out of memory");
        s->vcols[s->nvcols].decimals = t ? OVL_DECIMALS_AUTO : s->a.nego.decimals[i];
        s->nvcols++;
    }
    OVL_ENSURE(s->nvcols > 0 && s->nvcols <= OVL_VALUE_COLS_MAX, OVL_ERR_POLICY,
               "the analysis asks for %zu value columns of this table (1..%u)", s->nvcols,
               OVL_VALUE_COLS_MAX);
done:
    return rc;
}

/* serve: the contributor's input for the peer's request, in one pass. */
static ovl_err agg_load_served(ovl_session *s)
{
    ovl_err rc = OVL_OK;
    const ovl_analysis *a = &s->a;
    bool runner = a->tpl ? a->tpl->group_party == a->party : a->nego.runner_is_listener;
    const char *join = a->tpl ? a->tpl->join_column[a->party] : a->nego.join[0];
    const ovl_policy_join *j = ovl_policy_join_find(s->cfg.policy, join);
    if (runner)
        return ovl_err_set(OVL_ERR_POLICY, "a served table never receives output: it "
                           "contributes values");
    if (a->tpl)
        OVL_TRY(ovl_tpl_rowfilter_init(&s->filter, a->tpl, a->party, a->params, a->nego.nparams));
    s->runner = false;
    s->join = join;
    rc = served_columns(s);
    if (rc == OVL_OK) {
        ovl_table_input in;
        ovl_load_spec want = {.query = s->cfg.query, .join = join, .norm = a->nego.norm,
                              .prehashed = j ? j->prehashed : false,
                              .filter = ovl_tpl_rowfilter_ops(&s->filter),
                              .values = s->vcols, .nvalues = s->nvcols};
        rc = ovl_table_load(&in, s->cfg.table, &want);
        if (rc == OVL_OK) {
            s->ids = in.ids;
            rc = ovl_value_vectors(&s->vectors, &in.values, s->vcols, &s->ids);
            ovl_value_table_free(&in.values);
        }
    }
    if (rc != OVL_OK && rc != OVL_ERR_POLICY)
        rc = ovl_err_set(OVL_ERR_INPUT, "%s", ovl_err_detail());
done:
    return rc;
}

static ovl_err agg_request(ovl_session *s, ovl_nego *n)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(build_nego(s, &s->cfg, n));
    if (s->cfg.template_path)
        OVL_TRY(ovl_analysis_read_approvals(&s->a, s->cfg.template_path));
done:
    return rc;
}

/* A listening `run`: two operators share a template; ad-hoc aggregates are
 * answered by `overlap serve`. */
static ovl_err agg_listen(ovl_session *s, ovl_nego *mine)
{
    ovl_err rc = OVL_OK;
    /* Sent to the peer too: worded by role, not "this party". */
    if (s->cfg.negotiate)
        s->a.plain_refusal = "the listener negotiates its analyses: the connector must too "
                             "(--policy, --template or --negotiate)";
    if (s->cfg.template_path == NULL) {
        s->a.request_refusal = "the connector asks for a negotiated ad-hoc aggregate: those are "
                               "answered by overlap serve; two operators share a --template "
                               "instead";
        goto done;
    }
    OVL_TRY(build_nego(s, &s->cfg, mine));
    OVL_TRY(ovl_analysis_read_approvals(&s->a, s->cfg.template_path));
done:
    return rc;
}

static void agg_config(ovl_session *s, ovl_agg_config *cfg)
{
    ovl_norm norm = s->negotiated ? s->a.nego.norm : s->cfg.norm;
    snprintf(s->domain, sizeof s->domain, "id=sha256 normalize=%s", ovl_norm_name(norm));
    *cfg = (ovl_agg_config){
        .role = s->cfg.role,
        .contributor = !s->runner,
        .group = ovl_group_default(),
        .domain = s->domain,
        .min_rows = s->cfg.min_rows,
        .paillier_bits = (unsigned)s->cfg.paillier_bits,
        .max_peer_set = s->cfg.max_peer,
        .max_jobs = (size_t)(2 * s->cfg.threads + 2),
        .memb = (const uint8_t(*)[32])s->memb,
        .group_start = s->gstart,
        .ngroups = s->groups.ngroups,
        .group_by_cols = (unsigned)s->ngroup_cols,
        .ids = (const uint8_t(*)[32])s->ids.ids,
        .nids = s->ids.nids,
        .vectors = s->vectors,
        .values = s->vcols,
        .nvalues = s->nvcols,
    };
}

static ovl_err agg_start(ovl_session *s, const ovl_proto_ops **ops, void **engine)
{
    ovl_err rc = OVL_OK;
    ovl_agg_config cfg;
    agg_config(s, &cfg);
    /* A template's threshold is the agreed one (HAVING, raised by every
     * owner's min_rows); ad hoc, the larger of both statements applies; a
     * served table takes the agreed one. */
    if (s->negotiated &&
        (s->cfg.serving || s->a.tpl || s->a.agreement.threshold > cfg.min_rows))
        cfg.min_rows = s->a.agreement.threshold >= OVL_MIN_ROWS_LO ? s->a.agreement.threshold
                                                                   : OVL_MIN_ROWS_LO;
    if (s->negotiated) {
        cfg.agreement = s->a.agreement.encoding;
        cfg.agreement_len = s->a.agreement.encoding_len;
        cfg.expect_peer_set = true;
        cfg.peer_set_expected = s->a.peer_set;
    }
    OVL_TRY(ovl_agg_new(&s->agg, &cfg));
    *ops = &ovl_agg_ops;
    *engine = s->agg;
done:
    return rc;
}

static const uint8_t *agg_transcript(const ovl_session *s) { return ovl_agg_transcript(s->agg); }

static ovl_err agg_deliver(ovl_session *s)
{
    /* Both roles record the counts; the contributor has them from FINISH. */
    s->a.groups_released = ovl_agg_groups_released(s->agg);
    s->a.groups_suppressed = ovl_agg_group_count(s->agg) - s->a.groups_released;
    if (!s->runner)
        return OVL_OK;
    return write_result(s, &s->cfg);
}

static void agg_result(const ovl_session *s, ovl_session_result *r)
{
    r->protocol = "aggregate/1";
    r->runner = s->runner;
    r->receives = s->runner;
    r->groups = s->groups.ngroups;
    if (s->agg) {
        r->peer_set = ovl_agg_peer_set_size(s->agg);
        r->threshold = ovl_agg_threshold(s->agg);
        r->tag_len = ovl_agg_tag_len(s->agg);
        r->released = s->runner && s->finished ? ovl_agg_groups_released(s->agg) : 0;
    }
    snprintf(r->summary, sizeof r->summary, "aggregate%s, %zu identifiers contributed, "
             "threshold %llu, completed", s->a.tpl ? " (template)" : "", s->ids.nids,
             (unsigned long long)r->threshold);
}

static uint64_t agg_peer_set(const ovl_session *s) { return s->a.peer_set; }

static void agg_clear(ovl_session *s)
{
    ovl_agg_free(s->agg);
    ovl_template_free(s->tpl);
    ovl_group_table_free(&s->groups);
    ovl_col_names_free(s->group_cols, s->ngroup_cols);
    ovl_value_cols_free(s->vcols, s->nvcols);
    ovl_free_secret(s->memb, s->nmemb * sizeof *s->memb);
    free(s->gstart);
    free(s->vectors);
    s->agg = NULL;
    s->tpl = NULL;
}

const ovl_session_kind ovl_session_aggregate = {
    .load = agg_load,
    .load_served = agg_load_served,
    .request = agg_request,
    .listen = agg_listen,
    .start = agg_start,
    .transcript = agg_transcript,
    .deliver = agg_deliver,
    .progress = show_progress,
    .result = agg_result,
    .peer_set = agg_peer_set,
    .clear = agg_clear,
};
