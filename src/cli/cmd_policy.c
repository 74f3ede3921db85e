/* overlap policy init|check: write a deny-everything policy for a table, and
 * explain a policy in plain words. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/guard.h"
#include "core/mem.h"
#include "policy/policy.h"
#include "io/dbspec.h"
#include "io/source.h"

static const char help[] =
    "usage: overlap policy init --table TABLE [--name NAME]\n"
    "       overlap policy check FILE\n\n"
    "init prints a policy (JSON) for the table that allows nothing until edited: no peers,\n"
    "no join keys, no intersection, no aggregates, no templates. It lists the table's\n"
    "columns; copy the ones you allow into the rules.\n"
    "check validates a policy and explains in plain words what it allows, or prints\n"
    "one line saying what is wrong and where (exit status 3).\n\n"
    "  --table TABLE  the table the policy is for (only its header is read): a CSV path,\n"
    "                 sqlite:PATH?table=NAME or postgresql://...?table=NAME\n"
    "  --name NAME    the table's name in templates (default: the file name without .csv,\n"
    "                 or the database table's name)\n\n"
    "example:\n"
    "  overlap policy init --table purchases.csv > retail.policy.json\n"
    "  overlap policy check retail.policy.json\n";

static ovl_err policy_init(const char *table, const char *name)
{
    ovl_err rc = OVL_OK;
    ovl_source *src = NULL;
    const char **cols = NULL;
    char *json = NULL, *copy = NULL, tname[OVL_POLICY_MAX_NAME + 1];
    OVL_TRY(ovl_source_open(&src, table, NULL));
    OVL_TRY(ovl_calloc((void **)&cols, ovl_source_ncols(src) + 1, sizeof *cols));
    for (size_t i = 0; i < ovl_source_ncols(src); i++)
        cols[i] = ovl_source_colname(src, i);
    if (!name && ovl_dbspec_kind(table) != OVL_DB_NONE) {
        ovl_spec_table_name(tname, sizeof tname, table);
        name = tname;
    }
    if (!name) {
        copy = strdup(table);
        OVL_ENSURE(copy != NULL, OVL_ERR_NOMEM, "out of memory");
        snprintf(tname, sizeof tname, "%s", basename(copy));
        size_t n = strlen(tname);
        if (n > 4 && strcmp(tname + n - 4, ".csv") == 0)
            tname[n - 4] = '\0';
        name = tname;
    }
    OVL_TRY(ovl_policy_skeleton(&json, name, table, cols, ovl_source_ncols(src)));
    printf("%s\n", json);
done:
    free(json);
    free(copy);
    free(cols);
    ovl_source_close(src);
    return rc;
}

static ovl_err policy_check(const char *path)
{
    ovl_err rc = OVL_OK;
    ovl_policy *p = NULL;
    char *text = NULL;
    OVL_TRY(ovl_policy_load(&p, path));
    OVL_TRY(ovl_policy_explain(&text, p));
    fputs(text, stdout);
done:
    free(text);
    ovl_policy_free(p);
    return rc;
}

int ovl_cmd_policy(int argc, char **argv)
{
    ovl_err rc = OVL_OK;
    const char *table = NULL, *name = NULL;
    if (argc < 2 || ovl_cli_wants_help(argc, argv)) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "check") == 0) {
        OVL_ENSURE(argc == 3, OVL_ERR_USAGE, "policy check: expects one FILE (see overlap policy --help)");
        OVL_TRY(policy_check(argv[2]));
    } else if (strcmp(argv[1], "init") == 0) {
        bool seen_table = false, seen_name = false;
        for (int i = 2; i < argc; i++) {
            OVL_ENSURE(i + 1 < argc, OVL_ERR_USAGE, "policy init: %s needs a value", argv[i]);
            if (strcmp(argv[i], "--table") == 0) {
                OVL_TRY(ovl_cli_once_named("policy init", "--table", &seen_table));
                table = argv[++i];
            } else if (strcmp(argv[i], "--name") == 0) {
                OVL_TRY(ovl_cli_once_named("policy init", "--name", &seen_name));
                name = argv[++i];
            } else
                OVL_FAIL(ovl_err_set(OVL_ERR_USAGE, "policy init: unknown option '%s' (see "
                                     "overlap policy --help)", argv[i]));
        }
        OVL_ENSURE(table != NULL, OVL_ERR_USAGE, "policy init: --table CSV is required");
        OVL_TRY(policy_init(table, name));
    } else {
        OVL_FAIL(ovl_err_set(OVL_ERR_USAGE, "policy: unknown subcommand '%s' (init or check)",
                             argv[1]));
    }
done:
    return rc == OVL_OK ? 0 : ovl_cli_fail(rc);
}
