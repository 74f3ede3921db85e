/* overlap template hash|approve|verify: the canonical hash of an analysis
 * template, an owner's signed approval of it, and checking approvals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/guard.h"
#include "crypto/group.h"
#include "core/mem.h"
#include "policy/template.h"
#include "policy/verifier.h"

static const char help[] =
    "usage: overlap template hash FILE [--canonical]\n"
    "       overlap template approve FILE --identity KEY\n"
    "       overlap template verify FILE --key PUB [--key PUB ...] [--param NAME=VALUE ...]\n\n"
    "hash     parses the template and prints the SHA-256 of its canonical form (reformatting,\n"
    "         comments and keyword case do not change it; any change of meaning does).\n"
    "         --canonical also prints the canonical form.\n"
    "approve  signs the hash with your identity: writes FILE.NAME.sig, which travels with\n"
    "         the template. Add the hash to custom.templates in your policy too.\n"
    "verify   checks that every given key approved this exact template (exit 6 if one\n"
    "         did not), and optionally that parameter values fit their declarations.\n\n"
    "example:\n"
    "  overlap template hash attribution.sql\n"
    "  overlap template approve attribution.sql --identity retailer.key\n"
    "  overlap template verify attribution.sql --key retailer.pub --key advertiser.pub\n";

#define MAX_KEYS 8
#define MAX_PARAMS 64

typedef struct {
    const char *identity;
    const char *keys[MAX_KEYS];
    size_t nkeys;
    ovl_param_value params[MAX_PARAMS];
    char *param_buf[MAX_PARAMS];
    size_t nparams;
    bool canonical;
} tpl_opts;

static ovl_err parse_param(tpl_opts *o, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return ovl_err_set(OVL_ERR_USAGE, "--param expects NAME=VALUE, got '%s'", arg);
    if (o->nparams == MAX_PARAMS)
        return ovl_err_set(OVL_ERR_USAGE, "at most %d --param options", MAX_PARAMS);
    char *copy = strdup(arg);
    if (!copy)
        return ovl_err_set(OVL_ERR_NOMEM, "out of memory");
    copy[eq - arg] = '\0';
    o->param_buf[o->nparams] = copy;
    o->params[o->nparams++] = (ovl_param_value){copy, copy + (eq - arg) + 1};
    return OVL_OK;
}

static ovl_err parse_opts(tpl_opts *o, int argc, char **argv)
{
    bool seen_identity = false;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--canonical") == 0) {
            o->canonical = true;
            continue;
        }
        bool known = strcmp(argv[i], "--identity") == 0 || strcmp(argv[i], "--key") == 0 ||
                     strcmp(argv[i], "--param") == 0;
        if (!known)
            return ovl_err_set(OVL_ERR_USAGE, "template: unknown option '%s' (see overlap "
                               "template --help)", argv[i]);
        if (i + 1 >= argc)
            return ovl_err_set(OVL_ERR_USAGE, "template: %s needs a value (see overlap template "
                               "--help)", argv[i]);
        const char *v = argv[++i];
        if (strcmp(argv[i - 1], "--identity") == 0) {
            ovl_err rc = ovl_cli_once_named("template", "--identity", &seen_identity);
            if (rc != OVL_OK)
                return rc;
            o->identity = v;
        } else if (strcmp(argv[i - 1], "--key") == 0) {
            if (o->nkeys == MAX_KEYS)
                return ovl_err_set(OVL_ERR_USAGE, "at most %d --key options", MAX_KEYS);
            o->keys[o->nkeys++] = v;
        } else if (strcmp(argv[i - 1], "--param") == 0) {
            ovl_err rc = parse_param(o, v);
            if (rc != OVL_OK)
                return rc;
        } else {
            return ovl_err_set(OVL_ERR_USAGE, "template: unknown option '%s' (see overlap "
                               "template --help)", argv[i - 1]);
        }
    }
    return OVL_OK;
}

static ovl_err tpl_approve(const ovl_template *t, const tpl_opts *o)
{
    ovl_err rc = OVL_OK;
    ovl_identity *id = NULL;
    char path[4096], hex[2 * OVL_HASH_LEN + 1];
    OVL_ENSURE(o->identity, OVL_ERR_USAGE, "template approve: --identity KEY is required");
    OVL_TRY(ovl_identity_load(&id, o->identity));
    OVL_TRY(ovl_approval_write(t->label, id, t->hash, path, sizeof path));
    ovl_hex_encode(hex, t->hash, OVL_HASH_LEN);
    printf("wrote %s: %s approves template %s\n", path, ovl_identity_pub(id)->name, hex);
done:
    ovl_identity_free(id);
    return rc;
}

static ovl_err tpl_verify(const ovl_template *t, const tpl_opts *o)
{
    ovl_err rc = OVL_OK;
    ovl_pubkey keys[MAX_KEYS];
    ovl_approvals ap;
    OVL_ENSURE(o->nkeys > 0, OVL_ERR_USAGE, "template verify: give at least one --key PUB");
    for (size_t i = 0; i < o->nkeys; i++)
        OVL_TRY(ovl_pubkey_load(&keys[i], o->keys[i]));
    OVL_TRY(ovl_approvals_collect(&ap, t->label, t->hash, keys, o->nkeys));
    for (size_t i = 0; i < o->nkeys; i++) {
        char fpr[OVL_FPR_LEN];
        bool ok = false;
        ovl_fingerprint(fpr, keys[i].pk);
        for (size_t k = 0; k < ap.n; k++)
            ok = ok || strcmp(ap.fpr[k], fpr) == 0;
        OVL_ENSURE(ok, OVL_ERR_POLICY, "%s: no approval by %s (expected %s.%s.sig)", t->label,
                   keys[i].name, t->label, keys[i].name);
    }
    if (o->nparams)
        OVL_TRY(ovl_template_check_params(t, o->params, o->nparams));
    for (size_t i = 0; i < o->nkeys; i++)
        printf("approved by %s\n", keys[i].name);
    if (o->nparams)
        printf("parameters fit their declarations\n");
done:
    return rc;
}

int ovl_cmd_template(int argc, char **argv)
{
    ovl_err rc = OVL_OK;
    ovl_template *t = NULL;
    tpl_opts o;
    char hex[2 * OVL_HASH_LEN + 1];
    memset(&o, 0, sizeof o);
    if (argc < 3 || ovl_cli_wants_help(argc, argv)) {
        fputs(help, argc < 3 && !ovl_cli_wants_help(argc, argv) ? stderr : stdout);
        return argc < 3 && !ovl_cli_wants_help(argc, argv) ? 2 : 0;
    }
    const char *sub = argv[1];
    OVL_ENSURE(strcmp(sub, "hash") == 0 || strcmp(sub, "approve") == 0 ||
                   strcmp(sub, "verify") == 0,
               OVL_ERR_USAGE, "template: unknown subcommand '%s' (hash, approve or verify)", sub);
    OVL_TRY(parse_opts(&o, argc, argv));
    OVL_TRY(ovl_crypto_init());
    OVL_TRY(ovl_template_load(&t, argv[2]));
    if (strcmp(sub, "hash") == 0) {
        ovl_hex_encode(hex, t->hash, OVL_HASH_LEN);
        if (o.canonical)
            fputs(t->canonical, stdout);
        printf("%s\n", hex);
    } else if (strcmp(sub, "approve") == 0) {
        OVL_TRY(tpl_approve(t, &o));
    } else {
        OVL_TRY(tpl_verify(t, &o));
    }
done:
    for (size_t i = 0; i < o.nparams; i++)
        free(o.param_buf[i]);
    ovl_template_free(t);
    return rc == OVL_OK ? 0 : ovl_cli_fail(rc);
}
