#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const ovl_command commands[] = {
    {"keygen", ovl_cmd_keygen, "create an identity key pair (NAME.key, NAME.pub)"},
    {"fingerprint", ovl_cmd_fingerprint, "print the fingerprint of a .pub or .key file"},
    {"run", ovl_cmd_run, "run one analysis with a peer (listen or connect)"},
    {"serve", ovl_cmd_serve, "answer the analyses a policy allows, one session per connection"},
    {"policy", ovl_cmd_policy, "write (init) or explain (check) a data owner's policy"},
    {"template", ovl_cmd_template, "hash, approve or verify an analysis template"},
    {"audit", ovl_cmd_audit, "verify or show an audit log"},
};

static void usage(FILE *f)
{
    fprintf(f, "overlap %s - a cryptographic data clean room\n\n"
               "Two parties compute what they agreed on (the identifiers they share, how\n"
               "many, or aggregates over them) without either seeing the other's rows.\n\n"
               "usage: overlap <command> [options]   (overlap <command> --help for details)\n\n"
               "commands:\n",
            OVL_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nexit status:\n"
               "  0  success\n"
               "  1  internal error\n"
               "  2  usage error: unknown or conflicting options, out-of-range values, a\n"
               "     missing or ill-typed --param\n"
               "  3  local input or file error (CSV, database, policy, template, key, audit\n"
               "     log path, output path; serve: the table does not fit its policy)\n"
               "  4  connection: a peer address that does not resolve or refuses, TLS\n"
               "     failure, wrong peer key, peer closed, timeout\n"
               "  5  the peer broke the protocol, or a limit was exceeded\n"
               "  6  refused: by this party's policy or the peer's, or the two parties'\n"
               "     settings disagree, or a party's audit log went back since the last run\n"
               "  7  audit verify or show: the log does not verify (edited, deleted,\n"
               "     reordered or cut off); serve: its audit log does not verify, or is\n"
               "     missing without --new-audit-log\n");
    fprintf(f, "\nexample (two terminals):\n"
               "  overlap keygen --name retailer\n"
               "  overlap keygen --name advertiser\n"
               "  overlap run --listen 127.0.0.1:7700 --identity retailer.key --peer advertiser.pub \\\n"
               "      --table purchases.csv --join email --normalize email --out matches.csv\n"
               "  overlap run --connect 127.0.0.1:7700 --identity advertiser.key --peer retailer.pub \\\n"
               "      --table impressions.csv --join email --normalize email --out matches.csv\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("overlap %s (protocol version 1, suites: ristretto255-SHA512)\n", OVL_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "overlap: error: unknown command '%s' (see overlap --help)\n", argv[1]);
    return 2;
}
