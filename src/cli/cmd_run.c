/* overlap run: one analysis with one peer, as listener or connector. */
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/guard.h"
#include "io/dbspec.h"
#include "crypto/group.h"
#include "crypto/r255x8.h"
#include "net/identity.h"
#include "net/transport.h"
#include "session/mpsi_run.h"
#include "session/session.h"

static const char help[] =
    "usage: overlap run (--listen HOST:PORT | --connect HOST:PORT) --identity KEY --peer PUB\n"
    "                   --table TABLE --join COLUMN [options]\n\n"
    "Runs one analysis with one peer over mutually authenticated TLS 1.3: a private set\n"
    "intersection (your rows the peer also has), its cardinality (how many), or a private\n"
    "aggregate (COUNT, SUM, AVG by group over the shared identifiers), ad hoc or from an\n"
    "approved template, and optionally under this party's policy with an audit log. Both\n"
    "parties must state the same --mode, --reveal and --normalize, or the run stops\n"
    "before any set element is sent.\n\n"
    "connection:\n"
    "  --listen HOST:PORT     wait for the peer here (e.g. 0.0.0.0:7700; port 0: any free)\n"
    "  --connect HOST:PORT    connect to a listening peer (run --listen or serve)\n"
    "  --identity FILE        your secret key (from overlap keygen)\n"
    "  --peer FILE            the peer's .pub file; only this key is accepted\n"
    "  --parties K            a run of K members (3-10; protocols/mpsi/SPEC.md): the\n"
    "                         listener gives one --peer per other member, each member\n"
    "                         connects with --peer LISTENER.pub; --mode intersection or\n"
    "                         cardinality, --reveal all (default) or listener\n"
    "  --timeout SECONDS      fail when the peer is silent this long (1-86400, default 60)\n"
    "  --wait SECONDS         how long to wait for the peer to connect or to start\n"
    "                         listening (default 600; 0 = forever)\n\n"
    "input:\n"
    "  --table TABLE          a CSV file with a header row (RFC 4180), sqlite:PATH?table=NAME\n"
    "                         or postgresql://[user@]host[:port]/db?...&table=NAME (every\n"
    "                         libpq parameter works; passwords come from ~/.pgpass or\n"
    "                         PGPASSWORD and never appear in output)\n"
    "  --query \"SELECT ...\"   with a database --table and no table=: read this query's\n"
    "                         result instead, in a read-only transaction\n"
    "  --join COLUMN          the column holding the identifier\n"
    "  --normalize KIND       email (trim, lower-case), phone (E.164: +digits) or none\n"
    "                         (exact bytes; default). Identifiers are SHA-256 of the result.\n"
    "  --prehashed            the column already holds 64-hex SHA-256 values; --normalize\n"
    "                         then states how they were made (it must match the peer's)\n\n"
    "analysis:\n"
    "  --mode MODE            intersection (default): write your rows whose identifier the\n"
    "                         peer also has; cardinality: write only how many identifiers\n"
    "                         you share; aggregate: see below\n"
    "  --reveal WHO           both (default), listener or connector: who receives output;\n"
    "                         the other party learns only the peer's set size (with\n"
    "                         --parties: all, the default, or listener)\n"
    "  --out FILE             where your output goes (written atomically, only on success):\n"
    "                         a CSV path, or sqlite:PATH?table=NAME or postgresql://...\n"
    "                         ?table=NAME, a new table created and filled in one transaction\n"
    "  --replace              with a database --out: replace an existing table\n"
    "  --max-peer-set N       refuse a peer announcing more identifiers (default 67108864)\n\n"
    "aggregate (--mode aggregate; protocols/aggregate/SPEC.md): COUNT(DISTINCT), COUNT(*),\n"
    "SUM and AVG per cell of both parties' groups; only cells with at least the threshold\n"
    "of distinct identifiers are released, to the party with --out (the runner); the other\n"
    "learns how many. Both parties state the same --group-by and --values:\n"
    "  --group-by ITEMS       dimensions, comma-separated: [runner:|contributor:]COLUMN\n"
    "                         (unqualified: the runner's) or day|week|month(...) around\n"
    "                         one (DATE_TRUNC by its owner; weeks start on Monday)\n"
    "  --values ITEMS         numeric columns [runner:|contributor:]COLUMN[:D], D decimal\n"
    "                         places (default 0; unqualified: the contributor's); each\n"
    "                         gives sum_COLUMN and avg_COLUMN\n"
    "  --min-rows N           release only cells with at least N distinct identifiers\n"
    "                         (2-4294967295, default 10; the largest of both parties'\n"
    "                         values and their policies' min_rows applies)\n\n"
    "policies, templates and audit (protocols/setup/SPEC.md):\n"
    "  --policy FILE          this party's policy: the request is checked against it\n"
    "                         before any data-derived byte is sent (implies --negotiate)\n"
    "  --audit FILE           append this run, refused or not, to this signed audit log\n"
    "                         (implies --negotiate)\n"
    "  --template FILE        run an approved analysis template (implies --mode aggregate\n"
    "                         and --negotiate); FILE.*.sig approvals travel with it\n"
    "  --param NAME=VALUE     a value for one of the template's parameters; every declared\n"
    "                         parameter exactly once (repeat the option)\n"
    "  --negotiate            state the analysis to the peer first (needed to query\n"
    "                         overlap serve, or a run --listen with --policy)\n"
    "  --peer-join COLUMN     the peer's join column when it is named differently\n"
    "                         (default: the same as --join)\n"
    "  --table-name NAME      this table's name in the template (default: the policy's\n"
    "                         table.name, else a database's table= or the file name\n"
    "                         without .csv)\n\n"
    "operation:\n"
    "  --threads N            worker threads (1-256, default: online cores)\n"
    "  --arith WHICH          ristretto255 arithmetic: auto (default; AVX-512 IFMA where\n"
    "                         the CPU and OS have it), ifma, or portable (libsodium);\n"
    "                         OVL_ARITH in the environment sets the default\n"
    "  --summary json|none    json: print one JSON object describing the run on stdout\n"
    "  --quiet                no progress display on stderr\n"
    "  --dump-frames FILE     also write every frame this party sends to FILE, to audit\n"
    "                         exactly what leaves the machine (written atomically, only\n"
    "                         when the run succeeds)\n"
    "  -h, --help             this text\n\n"
    "examples:\n"
    "  overlap run --listen 127.0.0.1:7700 --identity retailer.key --peer advertiser.pub \\\n"
    "      --table purchases.csv --join email --normalize email --mode intersection \\\n"
    "      --out matches.csv\n"
    "  overlap run --listen 0.0.0.0:7700 --identity retailer.key --peer advertiser.pub \\\n"
    "      --table purchases.csv --join email --normalize email --mode aggregate \\\n"
    "      --group-by campaign_id,contributor:product_category \\\n"
    "      --values contributor:purchase_amount:2 --min-rows 20\n"
    "  overlap run --connect HOST:7700 --identity advertiser.key --peer retailer.pub \\\n"
    "      --table impressions.csv --join email --normalize email --mode aggregate \\\n"
    "      --group-by campaign_id,contributor:product_category \\\n"
    "      --values contributor:purchase_amount:2 --min-rows 20 --out result.csv\n"
    "  overlap run --connect HOST:7700 --identity advertiser.key --peer retailer.pub \\\n"
    "      --table impressions.csv --join email --normalize email \\\n"
    "      --policy advertiser.policy.json --audit advertiser.audit \\\n"
    "      --template attribution.sql --param campaign_id=CAMP_2026_Q3 \\\n"
    "      --param start_date=2026-07-01 --param end_date=2026-09-30 --out attribution.csv\n"
    "\n"
    "exit status: 0 success, 2 usage, 3 local input, 4 connection, 5 protocol or limit,\n"
    "6 refused by a policy or the peer (overlap --help lists them all).\n";

typedef struct {
    const char *listen, *connect, *identity, *peer, *table, *join, *out, *dump;
    const char *group_by, *values;
    uint64_t min_rows;
    bool min_rows_given;
    bool reveal_given;
    ovl_norm norm;
    bool prehashed, quiet, summary;
    ovl_mode mode;
    ovl_reveal reveal;
    uint64_t timeout_s, wait_s, threads, max_peer;
    const char *policy, *audit, *peer_join, *table_name, *tpl;
    bool negotiate, replace;
    const char *query;
    ovl_param_value params[OVL_SESSION_MAX_PARAMS];
    size_t nparams;
    /* --parties K: every --peer, and --reveal as typed (all/listener) */
    uint64_t parties;
    const char *peers[OVL_SESSION_MAX_MEMBERS - 1];
    size_t npeers;
    const char *reveal_text;
} run_opts;

typedef struct {
    ovl_identity *self;
    ovl_pubkey peer;
    ovl_policy *policy;
    ovl_listener *listener;
    ovl_conn *conn;
    ovl_session *session;
    ovl_outfile *dump; /* --dump-frames, renamed into place only if the run succeeds */
} run_state;

/* The temporary output and frame-dump files, removed if a signal ends the run. */
static const char *volatile cleanup_path;
static const char *volatile cleanup_dump;

static void on_signal(int sig)
{
    if (cleanup_path)
        unlink(cleanup_path);
    if (cleanup_dump)
        unlink(cleanup_dump);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_signal_cleanup(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* Whether --out would replace the table being read: the same spec, or two
 * paths naming one existing file. */
static bool out_is_table(const char *table, const char *out)
{
    struct stat a, b;
    if (out == NULL)
        return false;
    if (strcmp(table, out) == 0)
        return true;
    return stat(table, &a) == 0 && stat(out, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

static ovl_err parse_opts(run_opts *o, int argc, char **argv, bool *help_only)
{
    ovl_err rc = OVL_OK;
    enum { O_LISTEN = 256, O_CONNECT, O_IDENTITY, O_PEER, O_TABLE, O_JOIN, O_NORMALIZE,
           O_PREHASHED, O_MODE, O_REVEAL, O_OUT, O_SUMMARY, O_TIMEOUT, O_WAIT, O_THREADS,
           O_MAXPEER, O_QUIET, O_DUMP, O_HELP, O_GROUPBY, O_VALUES, O_MINROWS, O_PBITS,
           O_POLICY, O_AUDIT, O_PEERJOIN, O_TABLENAME, O_TEMPLATE, O_PARAM, O_NEGOTIATE, O_QUERY,
           O_REPLACE, O_ARITH, O_PARTIES };
    static const struct option opts[] = {
        {"listen", required_argument, NULL, O_LISTEN},
        {"policy", required_argument, NULL, O_POLICY},
        {"negotiate", no_argument, NULL, O_NEGOTIATE},
        {"audit", required_argument, NULL, O_AUDIT},
        {"peer-join", required_argument, NULL, O_PEERJOIN},
        {"table-name", required_argument, NULL, O_TABLENAME},
        {"template", required_argument, NULL, O_TEMPLATE},
        {"param", required_argument, NULL, O_PARAM},
        {"connect", required_argument, NULL, O_CONNECT},
        {"identity", required_argument, NULL, O_IDENTITY},
        {"peer", required_argument, NULL, O_PEER},
        {"parties", required_argument, NULL, O_PARTIES},
        {"table", required_argument, NULL, O_TABLE},
        {"query", required_argument, NULL, O_QUERY},
        {"replace", no_argument, NULL, O_REPLACE},
        {"join", required_argument, NULL, O_JOIN},
        {"normalize", required_argument, NULL, O_NORMALIZE},
        {"prehashed", no_argument, NULL, O_PREHASHED},
        {"mode", required_argument, NULL, O_MODE},
        {"reveal", required_argument, NULL, O_REVEAL},
        {"out", required_argument, NULL, O_OUT},
        {"summary", required_argument, NULL, O_SUMMARY},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"wait", required_argument, NULL, O_WAIT},
        {"threads", required_argument, NULL, O_THREADS},
        {"arith", required_argument, NULL, O_ARITH},
        {"max-peer-set", required_argument, NULL, O_MAXPEER},
        {"quiet", no_argument, NULL, O_QUIET},
        {"dump-frames", required_argument, NULL, O_DUMP},
        {"help", no_argument, NULL, O_HELP},
        {"group-by", required_argument, NULL, O_GROUPBY},
        {"values", required_argument, NULL, O_VALUES},
        {"min-rows", required_argument, NULL, O_MINROWS},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->mode = OVL_MODE_INTERSECTION;
    o->reveal = OVL_REVEAL_BOTH;
    o->norm = OVL_NORM_NONE;
    o->timeout_s = 60;
    o->wait_s = 600;
    o->threads = ovl_cpu_count();
    o->max_peer = OVL_SESSION_DEFAULT_MAX_PEER_SET;
    o->min_rows = OVL_SESSION_DEFAULT_MIN_ROWS;
    *help_only = false;
    opterr = 0;
    optind = 1;
    bool seen[sizeof opts / sizeof opts[0]] = {false};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        /* --param and --peer (with --parties) repeat by design. */
        if (c != O_PARAM && c != O_PEER)
            OVL_TRY(ovl_cli_once("run", opts, c, seen));
        switch (c) {
        case O_LISTEN: o->listen = optarg; break;
        case O_POLICY: o->policy = optarg; break;
        case O_NEGOTIATE: o->negotiate = true; break;
        case O_AUDIT: o->audit = optarg; break;
        case O_PEERJOIN: o->peer_join = optarg; break;
        case O_TABLENAME: o->table_name = optarg; break;
        case O_TEMPLATE: o->tpl = optarg; break;
        case O_PARAM: {
            char *eq = strchr(optarg, '=');
            OVL_ENSURE(eq != NULL && eq != optarg, OVL_ERR_USAGE,
                       "--param expects NAME=VALUE, got '%s'", optarg);
            OVL_ENSURE(o->nparams < OVL_SESSION_MAX_PARAMS, OVL_ERR_USAGE, "too many --param");
            *eq = '\0';
            o->params[o->nparams].name = optarg;
            o->params[o->nparams++].value = eq + 1;
            break;
        }
        case O_CONNECT: o->connect = optarg; break;
        case O_IDENTITY: o->identity = optarg; break;
        case O_PEER:
            OVL_ENSURE(o->npeers < OVL_SESSION_MAX_MEMBERS - 1, OVL_ERR_USAGE,
                       "run: at most %u --peer options (a run has at most %u members)",
                       OVL_SESSION_MAX_MEMBERS - 1, OVL_SESSION_MAX_MEMBERS);
            o->peers[o->npeers++] = optarg;
            if (o->peer == NULL)
                o->peer = optarg;
            break;
        case O_PARTIES:
            OVL_TRY(ovl_cli_uint("--parties", optarg, 2, OVL_SESSION_MAX_MEMBERS, &o->parties));
            break;
        case O_TABLE: o->table = optarg; break;
        case O_QUERY: o->query = optarg; break;
        case O_REPLACE: o->replace = true; break;
        case O_JOIN: o->join = optarg; break;
        case O_NORMALIZE: OVL_TRY(ovl_norm_parse(&o->norm, optarg)); break;
        case O_PREHASHED: o->prehashed = true; break;
        case O_MODE: OVL_TRY(ovl_mode_parse(&o->mode, optarg)); break;
        case O_REVEAL:
            o->reveal_text = optarg;
            o->reveal_given = true;
            break;
        case O_GROUPBY: o->group_by = optarg; break;
        case O_VALUES: o->values = optarg; break;
        case O_MINROWS:
            /* A group of one would publish that person's own values (policies
             * refuse min_rows 1 for the same reason). */
            OVL_ENSURE(strcmp(optarg, "1") != 0, OVL_ERR_USAGE,
                       "run: --min-rows 1 would release a single person's values; give at "
                       "least %u", OVL_MIN_ROWS_LO);
            OVL_TRY(ovl_cli_uint("--min-rows", optarg, OVL_MIN_ROWS_LO, UINT32_MAX,
                                 &o->min_rows));
            o->min_rows_given = true;
            break;
        case O_OUT: o->out = optarg; break;
        case O_SUMMARY:
            OVL_ENSURE(strcmp(optarg, "json") == 0 || strcmp(optarg, "none") == 0, OVL_ERR_USAGE,
                       "--summary expects json or none, got '%s'", optarg);
            o->summary = strcmp(optarg, "json") == 0;
            break;
        case O_TIMEOUT: OVL_TRY(ovl_cli_uint("--timeout", optarg, 1, 86400, &o->timeout_s)); break;
        case O_WAIT: OVL_TRY(ovl_cli_uint("--wait", optarg, 0, 86400 * 7, &o->wait_s)); break;
        case O_THREADS: OVL_TRY(ovl_cli_uint("--threads", optarg, 1, 256, &o->threads)); break;
        case O_ARITH: OVL_TRY(ovl_cli_arith(optarg)); break;
        case O_MAXPEER:
            OVL_TRY(ovl_cli_uint("--max-peer-set", optarg, 0, UINT32_MAX, &o->max_peer));
            break;
        case O_QUIET: o->quiet = true; break;
        case O_DUMP: o->dump = optarg; break;
        case O_HELP:
        case 'h':
            *help_only = true;
            goto done;
        default:
            OVL_FAIL(ovl_err_set(OVL_ERR_USAGE,
                                 "run: unknown or incomplete option '%s' (see overlap run --help)",
                                 argv[optind - 1]));
        }
    }
    OVL_ENSURE(optind == argc, OVL_ERR_USAGE, "run: unexpected argument '%s'", argv[optind]);
    if (o->parties >= OVL_SESSION_MIN_MEMBERS)
        OVL_ENSURE(o->mode != OVL_MODE_AGGREGATE && !o->tpl && !o->group_by && !o->values,
                   OVL_ERR_USAGE, "run: --parties runs --mode intersection or cardinality "
                   "(aggregates with several members run between two parties)");
    if (o->parties >= OVL_SESSION_MIN_MEMBERS && o->reveal_text) {
        bool all = strcmp(o->reveal_text, "all") == 0;
        OVL_ENSURE(all || strcmp(o->reveal_text, "listener") == 0, OVL_ERR_USAGE,
                   "run: --parties takes --reveal all or listener, got '%s'", o->reveal_text);
        o->reveal = all ? OVL_REVEAL_BOTH : OVL_REVEAL_LISTENER;
    } else if (o->reveal_text) {
        OVL_TRY(ovl_reveal_parse(&o->reveal, o->reveal_text));
    }
    OVL_ENSURE(o->parties >= OVL_SESSION_MIN_MEMBERS || o->npeers <= 1, OVL_ERR_USAGE,
               "run: --peer given %zu times; a run of more than two members needs --parties K",
               o->npeers);
    OVL_ENSURE((o->listen != NULL) != (o->connect != NULL), OVL_ERR_USAGE,
               "run: give exactly one of --listen HOST:PORT or --connect HOST:PORT");
    OVL_ENSURE(o->identity, OVL_ERR_USAGE, "run: --identity KEY is required");
    OVL_ENSURE(o->peer, OVL_ERR_USAGE, "run: --peer PUB is required (the peer's key to pin)");
    OVL_ENSURE(o->table, OVL_ERR_USAGE, "run: --table TABLE is required");
    OVL_TRY(ovl_dbspec_check_options(o->table, o->query, o->out, o->replace));
    OVL_ENSURE(!out_is_table(o->table, o->out), OVL_ERR_USAGE,
               "run: --out names the input table itself; write the result elsewhere");
    OVL_ENSURE(o->join, OVL_ERR_USAGE, "run: --join COLUMN is required");
    OVL_ENSURE(!o->dump || ovl_dbspec_kind(o->dump) == OVL_DB_NONE, OVL_ERR_USAGE,
               "run: --dump-frames takes a file path, not a database");
    if (o->parties >= OVL_SESSION_MIN_MEMBERS) {
        OVL_ENSURE(!o->dump && !o->peer_join && !o->negotiate, OVL_ERR_USAGE,
                   "run: --dump-frames, --peer-join and --negotiate apply to two-party runs "
                   "(a --parties run always states its analysis in its setup)");
        goto done;
    }
    OVL_ENSURE(o->nparams == 0 || o->tpl, OVL_ERR_USAGE,
               "run: --param gives a template's parameters: add --template FILE");
    OVL_ENSURE(!o->peer_join || o->negotiate || o->policy || o->audit || o->tpl, OVL_ERR_USAGE,
               "run: --peer-join is stated in the negotiation: add --negotiate");
    if (o->tpl)
        o->mode = OVL_MODE_AGGREGATE;
    if (o->mode == OVL_MODE_AGGREGATE && o->tpl) {
        OVL_ENSURE(!o->group_by && !o->values && !o->reveal_given, OVL_ERR_USAGE,
                   "run: with --template, the template says what is grouped and aggregated "
                   "(drop --group-by, --values and --reveal)");
        goto done;
    }
    if (o->mode == OVL_MODE_AGGREGATE) {
        OVL_ENSURE(!o->reveal_given, OVL_ERR_USAGE,
                   "run: --reveal does not apply to --mode aggregate (the party with --out "
                   "receives the released cells)");
        goto done;
    }
    OVL_ENSURE(!o->group_by && !o->values, OVL_ERR_USAGE,
               "run: --group-by and --values need --mode aggregate");
    OVL_ENSURE(!o->tpl, OVL_ERR_USAGE, "run: --template runs an aggregate: add --mode aggregate");
    ovl_role role = o->listen ? OVL_ROLE_LISTENER : OVL_ROLE_CONNECTOR;
    OVL_ENSURE(!ovl_reveal_includes(o->reveal, role) || o->out != NULL, OVL_ERR_USAGE,
               "run: --out FILE is required: this party receives output under --reveal %s",
               ovl_reveal_name(o->reveal));
done:
    return rc;
}

static void set_cleanup(const char *temp_path)
{
    if (temp_path)
        install_signal_cleanup();
    cleanup_path = temp_path;
}

/* The options as a session configuration (src/session/session.h). */
static ovl_session_config session_config(const run_state *s, const run_opts *o)
{
    return (ovl_session_config){
        .role = o->listen ? OVL_ROLE_LISTENER : OVL_ROLE_CONNECTOR,
        .self = s->self,
        .peer = &s->peer,
        .policy = s->policy,
        .audit_path = o->audit,
        .table = o->table,
        .query = o->query,
        .join = o->join,
        .peer_join = o->peer_join,
        .table_name = o->table_name,
        .norm = o->norm,
        .prehashed = o->prehashed,
        .mode = o->mode,
        .reveal = o->reveal,
        .negotiate = o->negotiate || o->policy || o->audit || o->tpl,
        .template_path = o->tpl,
        .params = o->params,
        .nparams = o->nparams,
        .group_by = o->group_by,
        .values = o->values,
        .min_rows = o->min_rows,
        .min_rows_given = o->min_rows_given,
        .out = o->out,
        .replace = o->replace,
        .writing = set_cleanup,
        .timeout_s = o->timeout_s,
        .threads = o->threads,
        .max_peer = o->max_peer,
        .progress = !o->quiet,
        .name_peer = true,
    };
}

/* An aggregate's public shape, named as the cost formula's inputs (SPEC §11,
 * aggregate/cost.h), so that a benchmark can recompute the formula. */
static json_t *plan_shape(const ovl_agg2_cost_in *c)
{
    json_t *j = json_object();
    const struct {
        const char *key;
        uint64_t v;
    } f[] = {
        {"n", c->n},
        {"m", c->m},
        {"groups_r", c->groups_r},
        {"groups_c", c->groups_c},
        {"words_r", c->words_r},
        {"words_c", c->words_c},
        {"star", c->star},
        {"bits_r", c->bits_r},
        {"bits_c", c->bits_c},
        {"released", c->released},
        {"helper_groups", c->helper_groups},
        {"runner_receives", c->runner_receives},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        json_object_set_new(j, f[i].key, json_integer((json_int_t)f[i].v));
    return j;
}

static void print_summary(const ovl_session_result *r, const run_state *s, const run_opts *o,
                          double seconds)
{
    json_t *j = json_object();
    bool agg = o->mode == OVL_MODE_AGGREGATE;
    json_object_set_new(j, "mode", json_string(ovl_mode_name(o->mode)));
    json_object_set_new(j, "protocol", r->protocol ? json_string(r->protocol) : json_null());
    json_object_set_new(j, "role", json_string(o->listen ? "listener" : "connector"));
    if (agg) {
        json_object_set_new(j, "aggregate_role",
                            json_string(r->runner ? "runner" : "contributor"));
        json_object_set_new(j, "receiver", json_boolean(r->receives));
    }
    else
        json_object_set_new(j, "reveal", json_string(ovl_reveal_name(o->reveal)));
    json_object_set_new(j, "suite", json_string(ovl_group_default()->name));
    json_object_set_new(j, "arith", json_string(ovl_arith_name()));
    json_object_set_new(j, "local_rows", json_integer((json_int_t)r->local_rows));
    json_object_set_new(j, "distinct_local_identifiers", json_integer((json_int_t)r->local_ids));
    json_object_set_new(j, "skipped_rows", json_integer((json_int_t)r->skipped));
    json_object_set_new(j, "peer_set_size", json_integer((json_int_t)r->peer_set));
    if (r->have_intersection)
        json_object_set_new(j, "intersection_size", json_integer((json_int_t)r->intersection));
    else
        json_object_set_new(j, "intersection_size", json_null());
    if (agg) {
        /* The helper learns the released count only (SPEC §10.1). */
        json_object_set_new(j, "min_rows", json_integer((json_int_t)r->threshold));
        json_object_set_new(j, "groups_released", json_integer((json_int_t)r->released));
        json_object_set_new(j, "groups_suppressed",
                            r->receives ? json_integer((json_int_t)(r->cells - r->released))
                                        : json_null());
        json_object_set_new(j, "inconsistent",
                            r->receives ? json_integer((json_int_t)r->inconsistent) : json_null());
        json_object_set_new(j, "plan_shape", r->have_cost ? plan_shape(&r->cost_in) : json_null());
        json_object_set_new(j, "cost_formula_bytes",
                            r->have_cost ? json_integer((json_int_t)r->cost_bytes) : json_null());
        json_object_set_new(j, "protocol_bytes_sent",
                            json_integer((json_int_t)r->protocol_bytes_sent));
        /* this owner's own identifiers over the cap (CONDITIONS.md §3.2) */
        json_object_set_new(j, "capped_identifiers",
                            r->has_capped ? json_integer((json_int_t)r->capped) : json_null());
    }
    json_object_set_new(j, "tag_bytes", json_integer((json_int_t)r->tag_len));
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

/* What this party received, on stderr. */
static void print_outcome(const ovl_session_result *r, const run_opts *o)
{
    /* --out may be a database spec with a password in it. */
    char *shown = o->out ? ovl_spec_redact(o->out) : NULL;
    const char *out = shown ? shown : o->out ? "--out" : NULL;
    if (o->mode == OVL_MODE_AGGREGATE && r->receives) {
        fprintf(stderr, "overlap: done: %zu of %llu cells released (at least %llu distinct "
                        "identifiers each), written to %s\n",
                r->released, (unsigned long long)r->cells, (unsigned long long)r->threshold, out);
    } else if (o->mode == OVL_MODE_AGGREGATE) {
        fprintf(stderr, "overlap: done: %zu cells released to the peer; this party receives "
                        "no output\n", r->released);
    } else if (!r->receives) {
        if (out)
            fprintf(stderr, "overlap: this party receives no output under --reveal %s; "
                            "%s was not written\n",
                    ovl_reveal_name(o->reveal), out);
    } else if (r->have_intersection) {
        fprintf(stderr, "overlap: done: %llu shared identifiers%s%s\n",
                (unsigned long long)r->intersection, out ? ", written to " : "", out ? out : "");
    }
    free(shown);
}

static ovl_err execute(run_state *s, const run_opts *o)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_crypto_init());
    OVL_TRY(ovl_identity_load(&s->self, o->identity));
    OVL_TRY(ovl_pubkey_load(&s->peer, o->peer));
    if (o->policy)
        OVL_TRY(ovl_policy_load(&s->policy, o->policy));
    if (s->policy)
        OVL_TRY(ovl_policy_check_query(s->policy, o->query));
    ovl_session_config cfg = session_config(s, o);
    OVL_TRY(ovl_session_new(&s->session, &cfg));
    if (o->dump) {
        OVL_TRY(ovl_outfile_open(&s->dump, o->dump));
        install_signal_cleanup();
        cleanup_dump = ovl_outfile_temp_path(s->dump);
        ovl_session_set_dump(s->session, ovl_outfile_stream(s->dump));
    }
    OVL_TRY(ovl_cli_open_connection(&s->listener, &s->conn, o->listen, o->connect, s->self,
                                    &s->peer, o->wait_s, o->timeout_s));
    OVL_TRY(ovl_session_run(s->session, s->conn));
    if (s->dump) {
        /* Like every output, the dump appears whole and only for a run that succeeded. */
        cleanup_dump = NULL;
        rc = ovl_outfile_commit(s->dump);
        s->dump = NULL;
    }
done:
    return rc;
}

int ovl_cmd_run(int argc, char **argv)
{
    run_opts o;
    run_state s;
    bool help_only;
    ovl_session_result r;
    memset(&s, 0, sizeof s);
    double t0 = ovl_cli_now();
    ovl_err rc = parse_opts(&o, argc, argv, &help_only);
    if (rc == OVL_OK && help_only) {
        fputs(help, stdout);
        return 0;
    }
    if (rc == OVL_OK && o.parties >= OVL_SESSION_MIN_MEMBERS) {
        ovl_parties_opts p = {
            .parties = (unsigned)o.parties, .listen = o.listen, .connect = o.connect,
            .identity = o.identity, .peers = o.peers, .npeers = o.npeers, .table = o.table,
            .query = o.query, .join = o.join, .out = o.out, .policy = o.policy,
            .audit = o.audit, .norm = o.norm, .prehashed = o.prehashed, .replace = o.replace,
            .quiet = o.quiet, .summary = o.summary, .mode = o.mode, .reveal = o.reveal,
            .timeout_s = o.timeout_s, .wait_s = o.wait_s, .threads = o.threads,
            .writing = set_cleanup,
        };
        rc = ovl_cli_parties_check(&p);
        return rc == OVL_OK ? ovl_run_parties(&p) : ovl_cli_fail(rc);
    }
    if (rc == OVL_OK)
        rc = execute(&s, &o);
    if (s.session)
        ovl_session_result_get(s.session, &r);
    if (rc == OVL_OK && o.summary)
        print_summary(&r, &s, &o, ovl_cli_now() - t0);
    if (rc == OVL_OK && !o.quiet)
        print_outcome(&r, &o);
    cleanup_path = NULL;
    cleanup_dump = NULL;
    ovl_outfile_abort(s.dump);
    ovl_session_free(s.session);
    ovl_policy_free(s.policy);
    ovl_conn_close(s.conn);
    ovl_listener_close(s.listener);
    ovl_identity_free(s.self);
    return rc == OVL_OK ? 0 : ovl_cli_fail(rc);
}
