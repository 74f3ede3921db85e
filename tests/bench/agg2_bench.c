/* Aggregates version 2 benchmark (protocols/aggregate/SPEC.md §11, issue
 * 14 item 7): both engines in one process, one thread per party (each runs
 * its own engine's jobs), frames handed over through one locked buffer per
 * direction. Data: 2^k distinct identifiers per party, half in common, 1–4
 * rows per identifier spread over the party's groups; the attribution
 * template's plan (runner: SUM(impressions), SUM(spend), k_R = 4;
 * contributor: COUNT(purchase_id), SUM(amount), AVG(amount), k_C = 3; and
 * COUNT(DISTINCT id): six aggregates), w = 3 count bits, the runner
 * receiving. Prints one JSON line: wall, CPU per party, bytes per party and
 * per runner identifier, ovl_agg2_cost_eval's bytes and measured/formula,
 * peak RSS, the ECDH-PSI bound of the same calibration as cpsi_bench, and
 * the load average (the machine may be shared), and the post-PSI core's wall
 * and CPU per party (from the first AGG_OT frame a party receives) with the
 * time each waited for the peer's frames.
 *   agg2_bench [log2 n (default 16)] [G_R (default 8)] [G_C (default 4)] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <sodium.h>

#include "aggregate/agg2.h"
#include "aggregate/cost.h"
#include "core/frame.h"
#include "ecdh_bound.h"

enum { COLS = 2, COUNT_BITS = 3, VALUE_BITS = 40 };
#define PULL_HIGH ((size_t)1 << 20) /* src/session/drive.c's OUT_HIGH */

/* One direction of the wire: frames appended by one thread, taken by the other. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ovl_buf buf;
} chan;

typedef struct {
    ovl_agg2 *e;
    chan *out, *in;
    ovl_buf local_out, local_in;
    double cpu_s;
    uint64_t jobs;
    size_t max_frame; /* the largest frame payload this party received, and its type */
    uint8_t max_type;
    bool ok;
    volatile bool *abort_all;
    /* the core (after circuit PSI, from the first AGG_OT frame received):
     * its start (wall and this thread's CPU) and this party's end */
    bool core_seen;
    double core_t0, core_cpu0, core_cpu_s, t_end;
    double core_idle_s; /* waiting for the peer's frames, in the core */
} party;

static bool chan_init(chan *c)
{
    return pthread_mutex_init(&c->mu, NULL) == 0 && pthread_cond_init(&c->cv, NULL) == 0 &&
           ovl_buf_alloc(&c->buf, 1 << 16, (size_t)1 << 31) == OVL_OK;
}

static void chan_free(chan *c)
{
    ovl_buf_free(&c->buf);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
}

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Runs the engine's jobs, pulls its frames and hands them to the peer. */
static bool party_send(party *p, bool *moved)
{
    ovl_job *j;
    while (ovl_agg2_ops.job_take(p->e, &j) == OVL_OK && j != NULL) {
        j->run(j);
        p->jobs++;
        if (ovl_agg2_ops.job_finish(p->e, j) != OVL_OK)
            return false;
        *moved = true;
    }
    /* hands over at PULL_HIGH, as the session's driver writes at its
     * OUT_HIGH: a peer waiting on the first frame need not wait for the rest */
    for (bool have = true; have && ovl_buf_remaining(&p->local_out) < PULL_HIGH;) {
        if (ovl_agg2_ops.pull(p->e, &p->local_out, &have) != OVL_OK)
            return false;
        *moved |= have;
    }
    if (ovl_buf_remaining(&p->local_out) > 0) {
        pthread_mutex_lock(&p->out->mu);
        bool put = ovl_buf_put_bytes(&p->out->buf, ovl_buf_rptr(&p->local_out),
                                     ovl_buf_remaining(&p->local_out)) == OVL_OK;
        pthread_cond_signal(&p->out->cv);
        pthread_mutex_unlock(&p->out->mu);
        if (!put)
            return false;
        ovl_buf_clear(&p->local_out);
    }
    return true;
}

/* Takes what the peer sent (waiting a little when idle) and feeds whole frames. */
static bool party_receive(party *p, bool *moved, bool idle)
{
    pthread_mutex_lock(&p->in->mu);
    if (idle && ovl_buf_remaining(&p->in->buf) == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L)
            ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        double w0 = bench_now();
        pthread_cond_timedwait(&p->in->cv, &p->in->mu, &ts);
        if (p->core_seen)
            p->core_idle_s += bench_now() - w0;
    }
    bool put = true;
    if (ovl_buf_remaining(&p->in->buf) > 0) {
        ovl_buf_compact(&p->local_in);
        put = ovl_buf_put_bytes(&p->local_in, ovl_buf_rptr(&p->in->buf),
                                ovl_buf_remaining(&p->in->buf)) == OVL_OK;
        ovl_buf_clear(&p->in->buf);
    }
    pthread_mutex_unlock(&p->in->mu);
    if (!put)
        return false;
    while (ovl_agg2_ops.wants_input(p->e)) {
        uint8_t type;
        ovl_buf payload;
        bool complete;
        if (ovl_frame_parse(&p->local_in, OVL_FRAME_MAX_PAYLOAD, &type, &payload, &complete) !=
                OVL_OK ||
            !complete)
            break;
        if (ovl_buf_remaining(&payload) > p->max_frame)
            p->max_frame = ovl_buf_remaining(&payload), p->max_type = type;
        if (type == OVL_AGG2_OT && !p->core_seen)
            p->core_seen = true, p->core_t0 = bench_now(), p->core_cpu0 = thread_cpu();
        if (ovl_agg2_ops.feed(p->e, type, ovl_buf_rptr(&payload),
                              ovl_buf_remaining(&payload)) != OVL_OK)
            return false;
        *moved = true;
    }
    return true;
}

static void *party_main(void *arg)
{
    party *p = arg;
    double t0 = thread_cpu();
    bool idle = false;
    p->ok = true;
    while (!*p->abort_all && !ovl_agg2_ops.done(p->e)) {
        bool moved = false;
        if (!party_send(p, &moved) || !party_receive(p, &moved, idle)) {
            fprintf(stderr, "agg2_bench: a party failed: %s\n", ovl_err_detail());
            p->ok = false;
            *p->abort_all = true;
            break;
        }
        idle = !moved;
    }
    bool moved = false;
    if (p->ok && !party_send(p, &moved))
        p->ok = false;
    p->cpu_s = thread_cpu() - t0;
    p->core_cpu_s = p->core_seen ? thread_cpu() - p->core_cpu0 : 0;
    p->t_end = bench_now();
    return NULL;
}

/* One party's data: identifiers base .. base+n-1 (as uint64 v, hashed to 32
 * bytes), identifier v with 1 + v % 4 rows, row k in group (v·a + k·b) % G
 * with values (v % 1000 + k, v % 7) and every 5th row's second value NULL. */
typedef struct {
    uint8_t (*raw)[32];
    const uint8_t **ids;
    size_t *id_len;
    ovl_agg_ident t;
    uint8_t (*labbuf)[8];
    const uint8_t **labels;
    uint16_t *label_len;
} data;

static bool data_make(data *d, size_t n, uint64_t base, uint32_t groups, uint32_t a, uint32_t b,
                      bool runner)
{
    memset(d, 0, sizeof *d);
    d->raw = calloc(n, 32);
    d->ids = calloc(n, sizeof *d->ids);
    d->id_len = calloc(n, sizeof *d->id_len);
    d->labbuf = calloc(groups, 8);
    d->labels = calloc(groups, sizeof *d->labels);
    d->label_len = calloc(groups, sizeof *d->label_len);
    size_t maxrows = 4 * n;
    uint32_t *id = calloc(maxrows, sizeof *id), *group = calloc(maxrows, sizeof *group);
    int64_t *value = calloc(maxrows * COLS, sizeof *value);
    uint8_t *null = calloc(maxrows * COLS, 1);
    bool ok = d->raw && d->ids && d->id_len && d->labbuf && d->labels && d->label_len && id &&
              group && value && null;
    size_t rows = 0;
    for (size_t i = 0; ok && i < n; i++) {
        uint64_t v = base + i;
        crypto_hash_sha256(d->raw[i], (const uint8_t *)&v, sizeof v);
        d->ids[i] = d->raw[i];
        d->id_len[i] = 32;
        for (uint32_t k = 0; k < 1 + v % 4; k++, rows++) {
            id[rows] = (uint32_t)i;
            group[rows] = (uint32_t)((v * a + (uint64_t)k * b) % groups);
            value[rows * COLS] = (int64_t)(v % 1000 + k);
            value[rows * COLS + 1] = (int64_t)(v % 7);
            null[rows * COLS + 1] = (rows % 5) == 4;
        }
    }
    for (uint32_t g = 0; ok && g < groups; g++) {
        /* label: u16 length || 'r' or 'c' || three digits: sorted by bytes as g grows */
        int len = snprintf((char *)d->labbuf[g] + 2, 6, "%c%03u", runner ? 'r' : 'c', g);
        d->labbuf[g][0] = 0;
        d->labbuf[g][1] = (uint8_t)len;
        d->labels[g] = d->labbuf[g];
        d->label_len[g] = (uint16_t)(len + 2);
    }
    if (ok) {
        ovl_agg_ident_shape sh = {(uint32_t)n, groups, COLS, COUNT_BITS, VALUE_BITS,
                                  OVL_AGG2_MAX_CELLS};
        ovl_agg_rows r = {id, group, value, null, rows};
        ok = ovl_agg_ident_build(&d->t, &sh, &r) == OVL_OK;
    }
    free(id), free(group), free(value), free(null);
    return ok;
}

static void data_free(data *d)
{
    ovl_agg_ident_free(&d->t);
    free(d->raw), free(d->ids), free(d->id_len);
    free(d->labbuf), free(d->labels), free(d->label_len);
}

static void add_output(ovl_agg2_plan *pl, const char *name, uint8_t op, uint8_t arg)
{
    ovl_agg2_output *o = &pl->outputs[pl->noutputs++];
    snprintf(o->name, sizeof o->name, "%s", name);
    o->ntok = 1;
    o->tok[0] = (ovl_agg2_token){.op = op, .arg = arg};
}

/* The attribution template (templates/attribution): a dimension per party
 * when it has more than one group, the runner receiving. */
static void plan_make(ovl_agg2_plan *pl, uint32_t gr, uint32_t gc)
{
    memset(pl, 0, sizeof *pl);
    pl->receiver = 0;
    if (gr > 1)
        pl->dims[pl->ndims++] = (ovl_agg2_dim){.side = 0, .trunc = 0, .name = "campaign"};
    if (gc > 1)
        pl->dims[pl->ndims++] = (ovl_agg2_dim){.side = 1, .trunc = 2, .name = "week"};
    const char *names[4] = {"impressions", "spend", "purchase_id", "amount"};
    for (uint8_t i = 0; i < 4; i++) {
        pl->cols[i].side = i >= 2;
        pl->cols[i].decimals = i == 1 || i == 3 ? 2 : 0;
        snprintf(pl->cols[i].name, sizeof pl->cols[i].name, "%s", names[i]);
    }
    pl->ncols = 4;
    add_output(pl, "customers", OVL_AGG2_OP_COUNT_DISTINCT, 0);
    add_output(pl, "impressions", OVL_AGG2_OP_SUM, 0);
    add_output(pl, "spend", OVL_AGG2_OP_SUM, 1);
    add_output(pl, "purchases", OVL_AGG2_OP_COUNT, 2);
    add_output(pl, "revenue", OVL_AGG2_OP_SUM, 3);
    add_output(pl, "avg_order", OVL_AGG2_OP_AVG, 3);
}

static double vm_hwm_mib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = strtod(line + 6, NULL);
    if (f)
        fclose(f);
    return kib / 1024.0;
}

int main(int argc, char **argv)
{
    unsigned lg = argc > 1 ? (unsigned)atoi(argv[1]) : 16;
    uint32_t gr = argc > 2 ? (uint32_t)atoi(argv[2]) : 8;
    uint32_t gc = argc > 3 ? (uint32_t)atoi(argv[3]) : 4;
    if (lg < 4 || lg > 22 || gr < 1 || gc < 1 || gr > 1000 || gc > 1000 ||
        (uint64_t)gr * gc > OVL_AGG2_MAX_CELLS || ovl_crypto_init() != OVL_OK) {
        fprintf(stderr, "usage: agg2_bench [log2 n 4..22] [G_R] [G_C] (G_R·G_C <= 65536)\n");
        return 2;
    }
    size_t n = (size_t)1 << lg;
    double t_hash, t_mult;
    bench_ecdh_calibrate(&t_hash, &t_mult);
    ovl_agg2_plan plan;
    plan_make(&plan, gr, gc);
    data dr, dc;
    double rss_inputs0 = vm_hwm_mib();
    if (!data_make(&dr, n, 0, gr, 7, 3, true) || !data_make(&dc, n, n / 2, gc, 5, 11, false)) {
        fprintf(stderr, "agg2_bench: inputs: %s\n", ovl_err_detail());
        return 1;
    }
    size_t rows_r = 0, rows_c = 0;
    for (size_t i = 0; i < n; i++)
        rows_r += 1 + i % 4, rows_c += 1 + (i + n / 2) % 4;
    ovl_agg2_config base = {
        .plan = &plan,
        .domain = "id=sha256 normalize=none",
        .nids = n,
        .min_rows = 10,
        .max_cells = OVL_AGG2_MAX_CELLS,
    };
    ovl_agg2_config rc = base, cc = base;
    rc.role = OVL_ROLE_CONNECTOR, rc.runner = true;
    rc.ids = dr.ids, rc.id_len = dr.id_len, rc.own = &dr.t;
    rc.labels = dr.labels, rc.label_len = dr.label_len;
    cc.role = OVL_ROLE_LISTENER, cc.runner = false;
    cc.ids = dc.ids, cc.id_len = dc.id_len, cc.own = &dc.t;
    cc.labels = dc.labels, cc.label_len = dc.label_len;
    double rss_inputs = vm_hwm_mib() - rss_inputs0;
    chan ch[2];
    party p[2];
    volatile bool abort_all = false;
    memset(p, 0, sizeof p);
    if (!chan_init(&ch[0]) || !chan_init(&ch[1]) || ovl_agg2_new(&p[0].e, &rc) != OVL_OK ||
        ovl_agg2_new(&p[1].e, &cc) != OVL_OK)
        return 1;
    for (int i = 0; i < 2; i++) {
        p[i].out = &ch[i];
        p[i].in = &ch[1 - i];
        p[i].abort_all = &abort_all;
        if (ovl_buf_alloc(&p[i].local_out, 1 << 16, (size_t)1 << 31) != OVL_OK ||
            ovl_buf_alloc(&p[i].local_in, 1 << 16, (size_t)1 << 31) != OVL_OK)
            return 1;
    }
    double load[3] = {0, 0, 0};
    getloadavg(load, 3);
    double t0 = bench_now(), cpu0 = bench_cpu_now();
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        if (pthread_create(&th[i], NULL, party_main, &p[i]) != 0)
            return 1;
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    double wall = bench_now() - t0, cpu = bench_cpu_now() - cpu0;
    /* the post-PSI phase: from the first party's first AGG_OT to the last's end */
    double core_t0 = p[0].core_t0 < p[1].core_t0 ? p[0].core_t0 : p[1].core_t0;
    double core_wall = (p[0].t_end > p[1].t_end ? p[0].t_end : p[1].t_end) - core_t0;
    bool ok = p[0].ok && p[1].ok && ovl_agg2_ops.done(p[0].e) && ovl_agg2_ops.done(p[1].e);
    const ovl_agg2_cell *cells = NULL;
    size_t ncells = 0;
    if (ok && ovl_agg2_released(p[0].e, &cells, &ncells) != OVL_OK)
        ok = false;
    uint64_t br = ovl_agg2_bytes_sent(p[0].e), bc = ovl_agg2_bytes_sent(p[1].e);
    ovl_agg2_cost_in in = {
        .n = n, .m = n, .groups_r = gr, .groups_c = gc,
        .words_r = ovl_agg2_plan_k_r(&plan), .words_c = ovl_agg2_plan_k_c(&plan),
        .star = ovl_agg2_plan_star(&plan), .bits_r = COUNT_BITS, .bits_c = COUNT_BITS,
        .released = (uint32_t)ovl_agg2_released_count(p[0].e), .helper_groups = gc,
        .runner_receives = plan.receiver == 0,
    };
    ovl_agg2_cost cost;
    if (ovl_agg2_cost_eval(&cost, &in) != OVL_OK)
        ok = false;
    double load_after[3] = {0, 0, 0};
    getloadavg(load_after, 3);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double bound1 = bench_ecdh_bound_1core(n, t_hash, t_mult);
    double rss = (double)ru.ru_maxrss / 1024.0;
    /* the target: 1 KiB per row + 64 MiB per party, both parties in this process */
    double rss_target = (double)(rows_r + rows_c) / 1024.0 + 128.0;
    printf("{\"log2_n\":%u,\"cells\":%u,\"g_r\":%u,\"g_c\":%u,\"k_r\":%u,\"k_c\":%u,\"ok\":%s,"
           "\"released\":%zu,\"rows_r\":%zu,\"rows_c\":%zu,"
           "\"wall_s\":%.2f,\"ecdh_bound_1core_s\":%.2f,\"ecdh_bound_2core_s\":%.2f,"
           "\"ratio_wall_to_2core_bound\":%.2f,\"cpu_s\":%.2f,\"cpu_runner_s\":%.2f,"
           "\"cpu_contributor_s\":%.2f,\"ratio_cpu_to_1core_bound\":%.2f,"
           "\"jobs_runner\":%llu,\"jobs_contributor\":%llu,"
           "\"largest_frame_to_runner\":[%u,%zu],\"largest_frame_to_contributor\":[%u,%zu],"
           "\"t_hash_us\":%.1f,\"t_mult_us\":%.1f,"
           "\"bytes_runner\":%llu,\"bytes_contributor\":%llu,\"bytes_per_runner_id\":%.0f,"
           "\"formula_bytes\":%llu,\"ratio_measured_to_formula\":%.3f,"
           "\"peak_rss_mib_both\":%.1f,\"vm_hwm_mib\":%.1f,\"inputs_mib\":%.1f,"
           "\"rss_target_mib_both\":%.1f,\"loadavg_before\":%.2f,\"loadavg_after\":%.2f,"
           "\"core_wall_s\":%.2f,\"core_cpu_runner_s\":%.2f,\"core_cpu_contributor_s\":%.2f,"
           "\"core_idle_runner_s\":%.2f,\"core_idle_contributor_s\":%.2f}\n",
           lg, gr * gc, gr, gc, in.words_r, in.words_c, ok ? "true" : "false", ncells, rows_r,
           rows_c, wall, bound1, bound1 / 2, wall / (bound1 / 2), cpu, p[0].cpu_s, p[1].cpu_s,
           cpu / bound1, (unsigned long long)p[0].jobs, (unsigned long long)p[1].jobs,
           p[0].max_type, p[0].max_frame, p[1].max_type, p[1].max_frame,
           1e6 * t_hash, 1e6 * t_mult, (unsigned long long)br, (unsigned long long)bc,
           (double)(br + bc) / (double)n, (unsigned long long)cost.total,
           (double)(br + bc) / (double)cost.total, rss, vm_hwm_mib(), rss_inputs, rss_target,
           load[0], load_after[0], core_wall, p[0].core_cpu_s,
           p[1].core_cpu_s, p[0].core_idle_s, p[1].core_idle_s);
    for (int i = 0; i < 2; i++) {
        ovl_buf_free(&p[i].local_out);
        ovl_buf_free(&p[i].local_in);
        ovl_agg2_free(p[i].e);
        chan_free(&ch[i]);
    }
    data_free(&dr);
    data_free(&dc);
    return ok ? 0 : 1;
}
