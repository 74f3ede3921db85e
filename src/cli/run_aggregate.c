/* overlap run --mode aggregate: the runner (group-by columns, receives the
 * result) or the contributor (value columns, receives nothing); see
 * protocols/aggregate/SPEC.md. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aggregate/aggregate.h"
#include "cli/cli.h"
#include "core/guard.h"
#include "overlap/columns.h"
#include "overlap/drive.h"
#include "overlap/identity.h"
#include "overlap/mem.h"
#include "overlap/pool.h"
#include "overlap/transport.h"

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
} agg_run;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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
            (unsigned long long)pr.peer_total, now_s() - s->started);
    s->progress_shown = true;
}

static ovl_err open_connection(agg_run *s, const ovl_agg_cli *o)
{
    ovl_err rc = OVL_OK;
    int wait_ms = (int)(o->wait_s * 1000);
    if (o->listen) {
        OVL_TRY(ovl_listen(&s->listener, o->listen));
        const char *colon = strrchr(o->listen, ':');
        int hostlen = colon ? (int)(colon - o->listen) : 0;
        fprintf(stderr, "overlap: listening on %.*s:%u for %s\n", hostlen, o->listen,
                ovl_listener_port(s->listener), s->peer.name);
        OVL_TRY(ovl_accept(&s->conn, s->listener, s->self, &s->peer, 1, wait_ms,
                           (int)(o->timeout_s * 1000)));
    } else {
        OVL_TRY(ovl_connect(&s->conn, o->connect, s->self, &s->peer, wait_ms));
    }
done:
    return rc;
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

static ovl_err put_header(agg_run *s, ovl_outfile *out)
{
    ovl_err rc = OVL_OK;
    char name[OVL_COL_NAME_MAX + 8];
    bool first = true;
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
        if (released)
            OVL_TRY(put_group(s, out, g, matched, sums));
    }
    rc = ovl_outfile_commit(out);
    out = NULL;
done:
    ovl_outfile_abort(out);
    return rc;
}

static ovl_err load_inputs(agg_run *s, const ovl_agg_cli *o)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_crypto_init());
    OVL_TRY(ovl_paillier_init());
    OVL_TRY(ovl_identity_load(&s->self, o->identity));
    OVL_TRY(ovl_pubkey_load(&s->peer, o->peer));
    OVL_TRY(ovl_idtable_load(&s->table, o->table, o->join, o->norm, o->prehashed));
    if (o->values != NULL) {
        OVL_TRY(ovl_value_cols_parse(&s->vcols, &s->nvcols, o->values));
        OVL_TRY(contributor_vectors(s, o));
    } else {
        OVL_TRY(ovl_col_names_parse(&s->group_cols, &s->ngroup_cols,
                                    o->group_by ? o->group_by : ""));
        OVL_TRY(runner_memberships(s, o));
    }
done:
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
    snprintf(domain, sizeof domain, "id=sha256 normalize=%s", ovl_norm_name(o->norm));
    ovl_agg_config cfg = {
        .role = o->listen ? OVL_ROLE_LISTENER : OVL_ROLE_CONNECTOR,
        .contributor = o->values != NULL,
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
    OVL_TRY(ovl_pool_new(&s->pool, (size_t)o->threads));
    OVL_TRY(ovl_agg_new(&s->agg, &cfg));
    OVL_TRY(open_connection(s, o));
    s->started = now_s();
    ovl_drive_opts d = {
        .timeout_ms = (int)(o->timeout_s * 1000),
        .pool = s->pool,
        .dump_frames = s->dump,
        .tick = (!o->quiet && isatty(STDERR_FILENO)) ? show_progress : NULL,
        .tick_arg = s,
    };
    rc = ovl_drive(s->conn, &ovl_agg_ops, s->agg, &d);
    if (s->progress_shown)
        fputc('\n', stderr);
    if (rc != OVL_OK)
        OVL_FAIL(ovl_cli_peer_error(rc, ovl_conn_label(s->conn)));
    if (o->values == NULL)
        OVL_TRY(write_result(s, o));
    else if (o->out && !o->quiet)
        fprintf(stderr, "overlap: the contributor receives no output; %s was not written\n",
                o->out);
    s->finished = true;
done:
    return rc;
}

static void print_summary(const agg_run *s, const ovl_agg_cli *o, double seconds)
{
    bool runner = o->values == NULL;
    size_t released = runner ? ovl_agg_groups_released(s->agg) : 0;
    json_t *j = json_object();
    json_object_set_new(j, "mode", json_string("aggregate"));
    json_object_set_new(j, "role", json_string(o->listen ? "listener" : "connector"));
    json_object_set_new(j, "aggregate_role", json_string(runner ? "runner" : "contributor"));
    json_object_set_new(j, "suite", json_string(ovl_group_default()->name));
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
    double t0 = now_s();
    ovl_err rc = execute(&s, o);
    if (rc == OVL_OK && o->summary)
        print_summary(&s, o, now_s() - t0);
    if (rc == OVL_OK && !o->quiet && o->values == NULL) {
        size_t released = ovl_agg_groups_released(s.agg);
        fprintf(stderr, "overlap: done: %zu groups released, %zu suppressed (min-rows %llu), "
                        "written to %s\n",
                released, s.groups.ngroups - released,
                (unsigned long long)ovl_agg_threshold(s.agg), o->out);
    }
    cleanup(&s);
    return rc == OVL_OK ? 0 : ovl_cli_fail(rc);
}
