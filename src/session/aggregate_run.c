/* The aggregate kind of session, version 2 (protocols/aggregate/SPEC.md).
 *
 * Roles. The receiver is the party asking with --out (§1), and it is also
 * the runner, whose identifiers are cuckoo-hashed (§6): so the request's
 * one role bit (ovl_nego.runner_is_listener: which side groups and
 * receives) says both, and a served table, which never receives output, is
 * always the contributor. The other party, the helper, learns only how many
 * cells were released and writes nothing.
 *
 * Before connecting each owner loads its own columns of the agreed plan,
 * forms its groups and labels and checks its widths (session/agg2_prep.h);
 * after the engine, the receiver writes the released rows (aggregate/
 * result.h) atomically. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/result.h"
#include "core/guard.h"
#include "core/mem.h"
#include "io/dbspec.h"
#include "policy/adhoc.h"
#include "session/agg2_plan.h"
#include "session/state.h"

/* What --summary json and the audit name the protocol. */
#define PROTOCOL_NAME "agg2/2"

/* This owner's public widths and group-space cap (SPEC §2, §4.1). */
static void own_shape(const ovl_session *s, uint32_t *count_bits, uint32_t *value_bits,
                      uint32_t *max_cells)
{
    const ovl_policy *p = s->cfg.policy;
    *count_bits = p ? ovl_policy_count_bits(p) : ovl_count_bits_of(OVL_MAX_ROWS_PER_ID_DEFAULT);
    *value_bits = p ? p->aggregation.value_bits : OVL_VALUE_BITS_DEFAULT;
    *max_cells = p ? p->aggregation.max_cells : OVL_MAX_CELLS_DEFAULT;
}


/* ---- the ad-hoc analysis (--group-by, --values; policy/adhoc.h) ----
 * Negotiated, both parties compile the plan from the request itself (its
 * items, with the connector's --min-rows as HAVING), so their plan bytes
 * agree; a plain run compiles the options, each owner's --min-rows
 * travelling in its HELLO instead. */
static ovl_err adhoc_request(ovl_nego *n, const char *group_by, const char *values,
                             uint64_t min_rows)
{
    ovl_err rc = OVL_OK;
    ovl_adhoc_items g = {0}, v = {0};
    OVL_TRY(ovl_adhoc_split(&g, group_by, "--group-by"));
    OVL_TRY(ovl_adhoc_split(&v, values, "--values"));
    n->threshold = min_rows;
    OVL_TRY(ovl_calloc((void **)&n->group_by, g.n + 1, sizeof *n->group_by));
    for (size_t i = 0; i < g.n; i++) {
        n->group_by[i] = g.items[i];
        g.items[i] = NULL;
        n->ngroup_by++;
    }
    OVL_TRY(ovl_calloc((void **)&n->values, 2 * v.n + 1, sizeof *n->values));
    OVL_TRY(ovl_calloc((void **)&n->decimals, 2 * v.n + 1, sizeof *n->decimals));
    for (size_t i = 0; i < 2 * v.n; i++) {
        ovl_adhoc_col c;
        char name[OVL_ADHOC_MAX_NAME + 16];
        OVL_TRY(ovl_adhoc_col_parse(&c, v.items[i / 2], true));
        /* the request's spelling: the side explicit, the decimals apart */
        snprintf(name, sizeof name, "%s%s",
                 c.side == OVL_ADHOC_SIDE_RUNNER ? "runner:" : "contributor:", c.column);
        OVL_ENSURE((n->values[i].column = strdup(name)) != NULL, OVL_ERR_NOMEM,
                   "out of memory");
        n->values[i].fn = i % 2 ? OVL_FN_AVG : OVL_FN_SUM;
        n->decimals[i] = c.decimals;
        n->nvalues++;
    }
done:
    ovl_adhoc_items_free(&g);
    ovl_adhoc_items_free(&v);
    return rc;
}

static ovl_err adhoc_plan_of(ovl_agg2_plan *plan, const ovl_nego *n)
{
    ovl_err rc = OVL_OK;
    const char **vals = NULL;
    ovl_aggfn *fns = NULL;
    OVL_TRY(ovl_calloc((void **)&vals, n->nvalues + 1, sizeof *vals));
    OVL_TRY(ovl_calloc((void **)&fns, n->nvalues + 1, sizeof *fns));
    for (size_t i = 0; i < n->nvalues; i++) {
        vals[i] = n->values[i].column;
        fns[i] = n->values[i].fn;
    }
    ovl_agg2_adhoc a = {.group_by = (const char *const *)n->group_by, .ngroup_by = n->ngroup_by,
                        .values = vals, .fns = fns, .decimals = n->decimals,
                        .nvalues = n->nvalues, .having = n->threshold,
                        .receiver = OVL_ADHOC_SIDE_RUNNER};
    OVL_TRY(ovl_agg2_plan_from_adhoc(plan, &a));
done:
    free(vals);
    free(fns);
    return rc;
}

/* ---- this owner's input ---- */

/* Conditions across parties (CONDITIONS.md §3): the columns compared and the
 * cap's ordering column are read as text in the loader's one pass (`in->text`,
 * asked for by pair_text_spec), so each row's text belongs to the row its
 * identifier and values came from whatever order a database returns rows in;
 * then the rows dropped by the NULL rule and the cap (kept[r]: data row r
 * remains), and how many of its own identifiers this owner capped, told to
 * this owner only (its stderr, summary and audit entry). */
static void pair_text_spec(const ovl_session *s, ovl_load_spec *want,
                           const char *cols[static OVL_PAIR_TEXT_COLS])
{
    if (s->plan.pairs.nconds == 0)
        return;
    want->text_cols = cols;
    want->ntext_cols =
        ovl_pair_text_cols(cols, &s->plan, s->runner ? OVL_AGG2_SIDE_R : OVL_AGG2_SIDE_C);
}

static ovl_err load_pair_rows(ovl_session *s, const ovl_table_input *in, uint8_t *kept,
                              uint32_t value_bits)
{
    ovl_err rc = OVL_OK;
    unsigned side = s->runner ? OVL_AGG2_SIDE_R : OVL_AGG2_SIDE_C;
    OVL_ENSURE(s->prep.nrows == in->ids.nrows, OVL_ERR_INTERNAL,
               "%s: the groups and the rows disagree (%zu rows, then %zu)", ovl_session_table_shown(s),
               in->ids.nrows, s->prep.nrows);
    OVL_TRY(ovl_pair_rows_build(&s->pair_rows, kept, &s->plan, side, in, &in->text,
                                s->prep.row_group, value_bits));
    s->a.has_capped = true;
    s->a.capped = s->pair_rows.capped;
    fprintf(stderr, "overlap: capped identifiers: %u of %zu (at most %u rows each)",
            s->pair_rows.capped, in->ids.nids, s->plan.pairs.cap_rows);
    if (s->pair_rows.dropped)
        fprintf(stderr, "; %zu rows without a value to compare left out", s->pair_rows.dropped);
    fputc('\n', stderr);
done:
    return rc;
}

/* With conditions across parties the cap comes first: the widths
 * (aggregation.max_rows_per_identifier, value_bits) bind the rows it keeps,
 * the only rows encoded, so a row it drops can make no run fail; value_bits
 * binds each kept row's value too, as rows are encoded one by one. */
static ovl_err prep_capped(ovl_session *s, const ovl_table_input *in, uint32_t w, uint32_t v,
                           uint32_t cells)
{
    ovl_err rc = OVL_OK;
    uint8_t *kept = NULL;
    OVL_TRY(ovl_agg2_prep_groups(&s->prep, in, ovl_session_table_shown(s)));
    OVL_TRY(ovl_calloc((void **)&kept, in->ids.nrows + 1, 1));
    OVL_TRY(load_pair_rows(s, in, kept, v));
    rc = ovl_agg2_prep_ident(&s->prep, in, kept, w, v, cells, ovl_session_table_shown(s));
    if (rc == OVL_ERR_INPUT)
        rc = ovl_err_set(rc, "%s (counted over the rows kept by -- cap rows %u)",
                         ovl_err_detail(), s->plan.pairs.cap_rows);
done:
    free(kept);
    return rc;
}

static ovl_err load_own(ovl_session *s, const char *query, const char *join, ovl_norm norm,
                        bool prehashed)
{
    ovl_err rc = OVL_OK;
    ovl_table_input in;
    uint32_t w, v, cells;
    memset(&in, 0, sizeof in);
    own_shape(s, &w, &v, &cells);
    OVL_TRY(ovl_agg2_prep_columns(&s->prep, &s->plan, s->runner ? OVL_AGG2_SIDE_R
                                                                : OVL_AGG2_SIDE_C));
    ovl_load_spec want = {.query = query, .join = join, .norm = norm, .prehashed = prehashed,
                          .filter = ovl_tpl_rowfilter_ops(&s->filter)};
    const char *text_cols[OVL_PAIR_TEXT_COLS];
    ovl_agg2_prep_load_spec(&s->prep, &want);
    pair_text_spec(s, &want, text_cols);
    OVL_TRY(ovl_table_load(&in, s->cfg.table, &want));
    if (s->plan.pairs.nconds > 0)
        rc = prep_capped(s, &in, w, v, cells);
    else
        rc = ovl_agg2_prep_build(&s->prep, &in, w, v, cells, ovl_session_table_shown(s));
    s->ids = in.ids;
    memset(&in.ids, 0, sizeof in.ids);
    OVL_TRY(rc);
    /* the engine's checks on this owner's data alone, before any peer (§5.1) */
    OVL_TRY(ovl_agg2_prep_check(&s->prep, &s->plan, s->runner, ovl_session_table_shown(s)));
    OVL_TRY(ovl_calloc((void **)&s->cpsi_ids, s->ids.nids + 1, sizeof *s->cpsi_ids));
    OVL_TRY(ovl_calloc((void **)&s->cpsi_lens, s->ids.nids + 1, sizeof *s->cpsi_lens));
    for (size_t i = 0; i < s->ids.nids; i++) {
        s->cpsi_ids[i] = s->ids.ids[i];
        s->cpsi_lens[i] = OVL_ID_LEN;
    }
done:
    ovl_table_input_free(&in);
    return rc;
}

/* ---- run: the analysis this party typed ---- */

/* With a template, this party's table, join column and filters come from
 * it; the runner is the connector's table. */
static ovl_err template_plan(ovl_session *s, const ovl_session_config *o)
{
    ovl_err rc = OVL_OK;
    const char *table_name = ovl_session_table_name(s);
    OVL_TRY(ovl_template_load(&s->tpl, o->template_path));
    OVL_TRY(ovl_template_check_params(s->tpl, o->params, o->nparams));
    s->party = ovl_template_party(s->tpl, table_name);
    OVL_ENSURE(s->party >= 0, OVL_ERR_USAGE,
               "%s reads tables %s and %s; this party's table is named %s (set --table-name)",
               o->template_path, s->tpl->table[0], s->tpl->table[1], table_name);
    s->join = s->tpl->join_column[s->party];
    int runner_party = s->runner ? s->party : 1 - s->party;
    OVL_TRY(ovl_agg2_plan_from_template(&s->plan, s->tpl, runner_party, runner_party));
    OVL_TRY(ovl_tpl_rowfilter_init(&s->filter, s->tpl, s->party, o->params, o->nparams));
done:
    return rc;
}

static ovl_err typed_plan(ovl_session *s, const ovl_session_config *o)
{
    ovl_err rc = OVL_OK;
    ovl_nego n;
    memset(&n, 0, sizeof n);
    s->receiver = o->out != NULL;
    s->runner = s->receiver;
    s->join = o->join;
    s->party = -1;
    if (o->template_path)
        return template_plan(s, o);
    if (!o->negotiate)
        return ovl_agg2_plan_from_options(&s->plan, o->group_by, o->values, 0,
                                          OVL_ADHOC_SIDE_RUNNER);
    OVL_TRY(adhoc_request(&n, o->group_by, o->values, o->min_rows));
    OVL_TRY(adhoc_plan_of(&s->plan, &n));
done:
    ovl_nego_clear(&n);
    return rc;
}

static ovl_err agg_load(ovl_session *s)
{
    ovl_err rc = OVL_OK;
    const ovl_session_config *o = &s->cfg;
    /* A group of one would publish that person's own values, whoever asks. */
    OVL_ENSURE(o->min_rows >= OVL_MIN_ROWS_LO, OVL_ERR_USAGE,
               "the minimum group size must be at least %u (got %llu)", OVL_MIN_ROWS_LO,
               (unsigned long long)o->min_rows);
    OVL_TRY(typed_plan(s, o));
    OVL_TRY(load_own(s, o->query, s->join, o->norm, o->prehashed));
    /* A database --out is checked now (reachable, table absent unless
     * --replace), before the peer is contacted; a CSV path is opened and
     * dropped, so an unwritable one fails here too. */
    if (s->receiver) {
        ovl_outfile *probe = NULL;
        OVL_TRY(ovl_output_open(&probe, o->out, o->replace));
        ovl_outfile_abort(probe);
    }
done:
    return rc;
}

/* ---- serve: the peer's request ---- */

static ovl_err agg_load_served(ovl_session *s)
{
    ovl_err rc = OVL_OK;
    const ovl_analysis *a = &s->a;
    const char *join = a->tpl ? a->tpl->join_column[a->party] : a->nego.join[0];
    const ovl_policy_join *j = ovl_policy_join_find(s->cfg.policy, join);
    /* The request makes the listener the runner and receiver: a served
     * table's owner never receives output. */
    if (a->nego.runner_is_listener)
        return ovl_err_set(OVL_ERR_POLICY, "a served table never receives output: it "
                           "contributes values");
    s->runner = false;
    s->receiver = false;
    s->join = join;
    s->party = a->party;
    if (a->tpl) {
        OVL_TRY(ovl_tpl_rowfilter_init(&s->filter, a->tpl, a->party, a->params,
                                       a->nego.nparams));
        OVL_TRY(ovl_agg2_plan_from_template(&s->plan, a->tpl, 1 - a->party, 1 - a->party));
    } else {
        OVL_TRY(adhoc_plan_of(&s->plan, &a->nego));
    }
    rc = load_own(s, s->cfg.query, join, a->nego.norm, j ? j->prehashed : false);
    if (rc != OVL_OK && rc != OVL_ERR_POLICY)
        rc = ovl_err_set(OVL_ERR_INPUT, "%s", ovl_err_detail());
done:
    return rc;
}

/* ---- the request (protocols/setup/SPEC.md §3.2) ---- */

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

static ovl_err nego_template(ovl_nego *n, const ovl_session_config *o)
{
    ovl_err rc = OVL_OK;
    char label[256];
    const char *slash = strrchr(o->template_path, '/');
    snprintf(label, sizeof label, "%s", slash ? slash + 1 : o->template_path);
    n->tpl_label = strdup(label);
    OVL_ENSURE(n->tpl_label != NULL, OVL_ERR_NOMEM, "out of memory");
    OVL_TRY(read_text(&n->tpl_text, &n->tpl_len, o->template_path));
    OVL_TRY(ovl_calloc((void **)&n->params, o->nparams + 1, sizeof *n->params));
    for (size_t i = 0; i < o->nparams; i++) {
        n->params[i].name = strdup(o->params[i].name);
        n->params[i].value = strdup(o->params[i].value);
        OVL_ENSURE(n->params[i].name && n->params[i].value, OVL_ERR_NOMEM, "out of memory");
        n->nparams++;
    }
done:
    return rc;
}

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
    ovl_fingerprint(fpr, s->receiver ? ovl_identity_pub(o->self)->pk : o->peer->pk);
    memcpy(n->receivers[0], fpr, OVL_FPR_LEN);
    n->nreceivers = 1;
    if (o->template_path)
        rc = nego_template(n, o);
    else
        rc = adhoc_request(n, o->group_by, o->values, o->min_rows);
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

/* ---- the engine ---- */

static ovl_err agg_start(ovl_session *s, const ovl_proto_ops **ops, void **engine)
{
    ovl_err rc = OVL_OK;
    uint32_t w, v, cells;
    ovl_norm norm = s->negotiated ? s->a.nego.norm : s->cfg.norm;
    own_shape(s, &w, &v, &cells);
    snprintf(s->domain, sizeof s->domain, "id=sha256 normalize=%s", ovl_norm_name(norm));
    ovl_agg2_config cfg = {
        .role = s->cfg.role,
        .runner = s->runner,
        .plan = &s->plan,
        .domain = s->domain,
        .ids = s->cpsi_ids,
        .id_len = s->cpsi_lens,
        .nids = s->ids.nids,
        .own = &s->prep.ident,
        .labels = (const uint8_t *const *)s->prep.labels,
        .label_len = s->prep.label_len,
        .min_rows = s->cfg.min_rows,
        .max_cells = cells,
        .max_peer_set = s->cfg.max_peer,
        .pair_rows = s->plan.pairs.nconds > 0 ? &s->pair_rows.v : NULL,
    };
    /* This owner states the largest of its --min-rows, its policy's min_rows
     * and, negotiated, the agreed threshold (HAVING raised by every owner's
     * min_rows): an agreement never lowers what this owner asked for. */
    const ovl_policy *pol = s->cfg.policy;
    if (s->negotiated && (s->cfg.serving || s->a.tpl) && !s->cfg.min_rows_given)
        cfg.min_rows = OVL_MIN_ROWS_LO; /* the default --min-rows does not bind a template */
    if (pol != NULL && pol->aggregation.min_rows > cfg.min_rows)
        cfg.min_rows = pol->aggregation.min_rows;
    if (s->negotiated) {
        uint64_t agreed = s->a.agreement.threshold >= OVL_MIN_ROWS_LO ? s->a.agreement.threshold
                                                                      : OVL_MIN_ROWS_LO;
        if (agreed > cfg.min_rows)
            cfg.min_rows = agreed;
    }
    if (s->negotiated) {
        cfg.agreement = s->a.agreement.encoding;
        cfg.agreement_len = (uint32_t)s->a.agreement.encoding_len;
        cfg.expect_peer_set = true;
        cfg.peer_set_expected = s->a.peer_set;
    }
    OVL_TRY(ovl_agg2_new(&s->agg2, &cfg));
    *ops = &ovl_agg2_ops;
    *engine = s->agg2;
done:
    return rc;
}

static const uint8_t *agg_transcript(const ovl_session *s) { return ovl_agg2_transcript(s->agg2); }

static void show_progress(void *arg)
{
    ovl_session *s = arg;
    fprintf(stderr, "\roverlap: aggregating, %.1f MB sent, %.0f s   ",
            (double)ovl_agg2_bytes_sent(s->agg2) / 1e6, ovl_session_now() - s->started);
    s->progress_shown = true;
}

/* ---- output ---- */

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

static ovl_err put_row(ovl_outfile *out, const ovl_agg2_result *r, const char *const *fields)
{
    ovl_err rc = OVL_OK;
    for (size_t c = 0; c < r->ncols; c++)
        OVL_TRY(put_field(out, fields[c], c == 0));
    OVL_TRY(ovl_outfile_write(out, "\n", 1));
done:
    return rc;
}

static ovl_err put_rows(ovl_outfile *out, void *arg)
{
    const ovl_agg2_result *r = arg;
    ovl_err rc = OVL_OK;
    OVL_TRY(put_row(out, r, (const char *const *)r->header));
    for (size_t i = 0; i < r->nrows; i++)
        OVL_TRY(put_row(out, r, (const char *const *)&r->fields[i * r->ncols]));
done:
    return rc;
}

/* The released rows (SPEC §8.4), written atomically. */
static ovl_err write_result(ovl_session *s, const ovl_session_config *o)
{
    ovl_err rc = OVL_OK;
    const ovl_agg2_cell *cells;
    size_t n;
    ovl_agg2_result res;
    memset(&res, 0, sizeof res);
    OVL_TRY(ovl_agg2_released(s->agg2, &cells, &n));
    OVL_TRY(ovl_agg2_result_build(&res, &s->plan, cells, n));
    OVL_TRY(ovl_output_write_with(o->out, o->replace, o->writing, put_rows, &res));
done:
    ovl_agg2_result_free(&res);
    return rc;
}

static uint64_t cells_total(const ovl_session *s)
{
    return (uint64_t)s->prep.ngroups * ovl_agg2_peer_groups(s->agg2);
}

static ovl_err agg_deliver(ovl_session *s)
{
    uint64_t r = ovl_agg2_released_count(s->agg2);
    s->a.groups_released = r;
    s->a.groups_suppressed = cells_total(s) - r;
    if (!s->receiver)
        return OVL_OK;
    /* SPEC §8.3: printed, and recorded in this owner's audit entry */
    s->a.inconsistent = ovl_agg2_inconsistent(s->agg2);
    if (s->a.inconsistent > 0)
        fprintf(stderr, "overlap: warning: %llu released records were inconsistent (only a "
                        "modified peer causes that) and were left out\n",
                (unsigned long long)s->a.inconsistent);
    return write_result(s, &s->cfg);
}

/* The plan and shapes this run really used, and the SPEC's bytes for them:
 * the benchmark compares the wire with these instead of guessing the plan. */
static void agg_cost(const ovl_session *s, ovl_session_result *r)
{
    ovl_agg2_cost c;
    r->have_cost = s->finished && ovl_agg2_cost_inputs(&r->cost_in, s->agg2) == OVL_OK &&
                   ovl_agg2_cost_eval(&c, &r->cost_in) == OVL_OK;
    r->cost_bytes = r->have_cost ? c.total : 0;
}

static void agg_result(const ovl_session *s, ovl_session_result *r)
{
    r->protocol = PROTOCOL_NAME;
    r->runner = s->runner;
    r->receives = s->receiver;
    r->groups = s->prep.ngroups;
    if (s->agg2) {
        r->peer_set = ovl_agg2_peer_set_size(s->agg2);
        r->threshold = ovl_agg2_threshold(s->agg2);
        r->cells = cells_total(s);
        r->released = s->finished ? ovl_agg2_released_count(s->agg2) : 0;
        r->inconsistent = s->receiver && s->finished ? ovl_agg2_inconsistent(s->agg2) : 0;
        r->protocol_bytes_sent = ovl_agg2_bytes_sent(s->agg2);
        agg_cost(s, r);
    }
    snprintf(r->summary, sizeof r->summary, "aggregate%s, %zu identifiers contributed, "
             "threshold %llu, %zu cells released, completed", s->a.tpl ? " (template)" : "",
             s->ids.nids, (unsigned long long)r->threshold, r->released);
    /* this owner's own capped count (CONDITIONS.md §3.2): its log only, never sent */
    r->has_capped = s->a.has_capped;
    r->capped = s->a.capped;
    size_t at = strlen(r->summary);
    if (s->plan.pairs.nconds > 0 && at < sizeof r->summary)
        snprintf(r->summary + at, sizeof r->summary - at, ", %u identifiers capped at %u rows",
                 s->pair_rows.capped, s->plan.pairs.cap_rows);
}

static uint64_t agg_peer_set(const ovl_session *s) { return s->a.peer_set; }

static void agg_clear(ovl_session *s)
{
    ovl_agg2_free(s->agg2);
    ovl_template_free(s->tpl);
    ovl_agg2_prep_free(&s->prep);
    ovl_pc_owner_rows_free(&s->pair_rows);
    ovl_agg2_plan_free(&s->plan);
    free(s->cpsi_ids);
    free(s->cpsi_lens);
    s->agg2 = NULL;
    s->tpl = NULL;
    s->cpsi_ids = NULL;
    s->cpsi_lens = NULL;
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
