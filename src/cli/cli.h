/* The overlap command line: one file per subcommand, dispatched from main.c. */
#ifndef OVL_CLI_H
#define OVL_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "core/pool.h"
#include "core/kinds.h"
#include "io/table.h"
#include "policy/template.h"
#include "net/transport.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} ovl_command;

int ovl_cmd_keygen(int argc, char **argv);
int ovl_cmd_run(int argc, char **argv);
int ovl_cmd_fingerprint(int argc, char **argv);
int ovl_cmd_policy(int argc, char **argv);
int ovl_cmd_template(int argc, char **argv);
int ovl_cmd_audit(int argc, char **argv);
int ovl_cmd_serve(int argc, char **argv);

/* overlap audit verify|show: the log does not verify (README "Exit status"). */
#define OVL_EXIT_AUDIT 7

/* Prints "overlap: error: <detail>" (one line) and returns the exit status
 * for the error's category (README "Exit status"). */
int ovl_cli_fail(ovl_err e);
int ovl_cli_exit_code(ovl_err e);
/* Parses a decimal integer option in [min, max]. */
/* --arith WHICH: auto, portable or ifma, selected at once (ovl_arith_select). */
ovl_err ovl_cli_arith(const char *s) OVL_MUST_USE;
ovl_err ovl_cli_uint(const char *opt, const char *s, uint64_t min, uint64_t max,
                     uint64_t *out) OVL_MUST_USE;
/* Monotonic seconds, for durations. */
double ovl_cli_now(void);
/* Listens (printing the bound port) and accepts the pinned peer, or connects
 * to it, waiting up to wait_s for it. */
ovl_err ovl_cli_open_connection(ovl_listener **l, ovl_conn **c, const char *listen,
                                const char *connect, const ovl_identity *self,
                                const ovl_pubkey *peer, uint64_t wait_s,
                                uint64_t timeout_s) OVL_MUST_USE;
/* overlap run --parties K (cmd_run_parties.c): the options that apply. */
typedef struct {
    unsigned parties;
    const char *listen, *connect, *identity;
    const char *const *peers;
    size_t npeers;
    const char *table, *query, *join, *out, *policy, *audit;
    ovl_norm norm;
    bool prehashed, replace, quiet, summary;
    ovl_mode mode;
    ovl_reveal reveal; /* OVL_REVEAL_BOTH (--reveal all) or OVL_REVEAL_LISTENER */
    uint64_t timeout_s, wait_s, threads;
    void (*writing)(const char *temp_path);
} ovl_parties_opts;

/* Usage errors of a --parties run, before anything is loaded. */
ovl_err ovl_cli_parties_check(const ovl_parties_opts *o) OVL_MUST_USE;
/* Runs it; returns the exit status. */
int ovl_run_parties(const ovl_parties_opts *o);

/* True if argv holds -h or --help. */
bool ovl_cli_wants_help(int argc, char **argv);

#endif
