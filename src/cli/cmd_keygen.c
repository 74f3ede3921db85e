#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/guard.h"
#include "crypto/group.h"
#include "net/identity.h"

static const char help[] =
    "usage: overlap keygen --name NAME [--dir DIR]\n\n"
    "Creates an Ed25519 identity: DIR/NAME.key (secret, mode 0600) and DIR/NAME.pub\n"
    "(give it to your partners: they pin it with --peer). Prints the key's fingerprint.\n"
    "Existing files are never overwritten.\n\n"
    "  --name NAME   1-64 characters of A-Z a-z 0-9 . _ -\n"
    "  --dir DIR     where to write the files (default: the current directory)\n\n"
    "example:\n  overlap keygen --name retailer\n";

int ovl_cmd_keygen(int argc, char **argv)
{
    ovl_err rc = OVL_OK;
    ovl_identity *id = NULL;
    const char *name = NULL, *dir = ".";
    char key_path[4096], pub_path[4096], fpr[OVL_FPR_LEN];
    static const struct option opts[] = {
        {"name", required_argument, NULL, 'n'},
        {"dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool seen[sizeof opts / sizeof opts[0]] = {false};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        OVL_TRY(ovl_cli_once("keygen", opts, c, seen));
        switch (c) {
        case 'n':
            name = optarg;
            break;
        case 'd':
            dir = optarg;
            break;
        case 'h':
            fputs(help, stdout);
            return 0;
        default:
            OVL_FAIL(ovl_err_set(OVL_ERR_USAGE, "keygen: unknown or incomplete option '%s' "
                                                "(see overlap keygen --help)",
                                 argv[optind - 1]));
        }
    }
    OVL_ENSURE(optind == argc, OVL_ERR_USAGE, "keygen: unexpected argument '%s'", argv[optind]);
    OVL_ENSURE(name != NULL, OVL_ERR_USAGE, "keygen: --name is required (see overlap keygen --help)");
    OVL_TRY(ovl_crypto_init());
    OVL_TRY(ovl_identity_generate(&id, name));
    OVL_ENSURE(snprintf(key_path, sizeof key_path, "%s/%s.key", dir, name) < (int)sizeof key_path &&
                   snprintf(pub_path, sizeof pub_path, "%s/%s.pub", dir, name) <
                       (int)sizeof pub_path,
               OVL_ERR_USAGE, "keygen: --dir is too long");
    OVL_TRY(ovl_identity_save(id, key_path, pub_path));
    ovl_fingerprint(fpr, ovl_identity_pub(id)->pk);
    printf("wrote %s (secret, keep it) and %s (give it to your partners)\n", key_path, pub_path);
    printf("fingerprint %s\n", fpr);
done:
    ovl_identity_free(id);
    return rc == OVL_OK ? 0 : ovl_cli_fail(rc);
}

static const char fpr_help[] =
    "usage: overlap fingerprint FILE\n\n"
    "Prints the fingerprint (SHA256:<hex> of the public key) of a .pub or .key file,\n"
    "to compare with what a partner reads out from theirs.\n\n"
    "example:\n  overlap fingerprint advertiser.pub\n";

int ovl_cmd_fingerprint(int argc, char **argv)
{
    ovl_err rc = OVL_OK;
    ovl_pubkey pk;
    ovl_identity *id = NULL;
    char fpr[OVL_FPR_LEN];
    if (ovl_cli_wants_help(argc, argv)) {
        fputs(fpr_help, stdout);
        return 0;
    }
    OVL_ENSURE(argc == 2, OVL_ERR_USAGE, "fingerprint: expects one file (see overlap fingerprint --help)");
    OVL_TRY(ovl_crypto_init());
    size_t len = strlen(argv[1]);
    if (len > 4 && strcmp(argv[1] + len - 4, ".key") == 0) {
        OVL_TRY(ovl_identity_load(&id, argv[1]));
        pk = *ovl_identity_pub(id);
    } else {
        OVL_TRY(ovl_pubkey_load(&pk, argv[1]));
    }
    ovl_fingerprint(fpr, pk.pk);
    printf("%s %s\n", fpr, pk.name);
done:
    ovl_identity_free(id);
    return rc == OVL_OK ? 0 : ovl_cli_fail(rc);
}
