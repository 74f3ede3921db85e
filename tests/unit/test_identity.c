#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/identity.h"
#include "core/mem.h"
#include "test.h"

static char dir[] = "/tmp/ovl-test-identity-XXXXXX";

/* RFC 8032 section 7.1, TEST 1. */
#define RFC_SEED "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
#define RFC_PK "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
#define RFC_SIG                                                                                    \
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9" \
    "b46bd25bf5f0595bbe24655141438e7a100b"

static const char *path_of(char *out, size_t n, const char *file)
{
    snprintf(out, n, "%s/%s", dir, file);
    return out;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return;
    fwrite(text, 1, strlen(text), f);
    fclose(f);
    chmod(path, mode);
}

static void expect_detail(const char *needle)
{
    OVL_T_RECORD(strstr(ovl_err_detail(), needle) != NULL, "detail \"%s\" lacks \"%s\"",
                 ovl_err_detail(), needle);
}

static ovl_err parse_key(const char *text)
{
    ovl_identity *id = NULL;
    ovl_err e = ovl_identity_parse(&id, "t.key", text, strlen(text));
    ovl_identity_free(id);
    return e;
}

static ovl_err parse_pub(const char *text)
{
    ovl_pubkey pk;
    return ovl_pubkey_parse(&pk, "t.pub", text, strlen(text));
}

static void save_load_roundtrip(void)
{
    char kp[256], pp[256];
    ovl_identity *id = NULL, *back = NULL;
    ovl_pubkey pub;
    struct stat st;
    EXPECT_OK(ovl_identity_generate(&id, "retailer"));
    EXPECT_OK(ovl_identity_save(id, path_of(kp, sizeof kp, "retailer.key"),
                                path_of(pp, sizeof pp, "retailer.pub")));
    EXPECT_TRUE(stat(kp, &st) == 0 && (st.st_mode & 0777) == 0600);
    EXPECT_TRUE(stat(pp, &st) == 0 && (st.st_mode & 0777) == 0644);
    EXPECT_OK(ovl_identity_load(&back, kp));
    EXPECT_OK(ovl_pubkey_load(&pub, pp));
    if (back != NULL) {
        EXPECT_BYTES_EQ(ovl_identity_seed(back), ovl_identity_seed(id), 32);
        EXPECT_BYTES_EQ(ovl_identity_pub(back)->pk, ovl_identity_pub(id)->pk, OVL_PK_LEN);
        EXPECT_STR_EQ(ovl_identity_pub(back)->name, "retailer");
    }
    EXPECT_BYTES_EQ(pub.pk, ovl_identity_pub(id)->pk, OVL_PK_LEN);
    EXPECT_STR_EQ(pub.name, "retailer");
    ovl_identity_free(back);
    ovl_identity_free(id);
}

static void generated_keys_differ(void)
{
    ovl_identity *a = NULL, *b = NULL;
    EXPECT_OK(ovl_identity_generate(&a, "a"));
    EXPECT_OK(ovl_identity_generate(&b, "a"));
    if (a != NULL && b != NULL)
        EXPECT_TRUE(memcmp(ovl_identity_pub(a)->pk, ovl_identity_pub(b)->pk, OVL_PK_LEN) != 0);
    ovl_identity_free(a);
    ovl_identity_free(b);
}

static void generate_rejects_bad_names(void)
{
    ovl_identity *id = NULL;
    char longname[OVL_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    EXPECT_ERR(OVL_ERR_USAGE, ovl_identity_generate(&id, ""));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_identity_generate(&id, "has space"));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_identity_generate(&id, "a/b"));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_identity_generate(&id, longname));
    longname[OVL_NAME_MAX] = '\0';
    EXPECT_OK(ovl_identity_generate(&id, longname));
    ovl_identity_free(id);
}

static void load_refuses_open_permissions(void)
{
    char kp[256], pp[256];
    ovl_identity *id = NULL, *back = NULL;
    EXPECT_OK(ovl_identity_generate(&id, "perm"));
    EXPECT_OK(ovl_identity_save(id, path_of(kp, sizeof kp, "perm.key"),
                                path_of(pp, sizeof pp, "perm.pub")));
    chmod(kp, 0644);
    EXPECT_ERR(OVL_ERR_INPUT, ovl_identity_load(&back, kp));
    expect_detail("permissions 0644 are too open; run chmod 600 ");
    chmod(kp, 0640);
    EXPECT_ERR(OVL_ERR_INPUT, ovl_identity_load(&back, kp));
    chmod(kp, 0400);
    EXPECT_OK(ovl_identity_load(&back, kp));
    /* A .pub given where the .key belongs is named as such, not as too open. */
    EXPECT_ERR(OVL_ERR_INPUT, ovl_identity_load(&back, pp));
    expect_detail("this is a public key file");
    ovl_identity_free(back);
    ovl_identity_free(id);
}

static void save_refuses_overwrite(void)
{
    char kp[256], pp[256], kp2[256];
    ovl_identity *a = NULL, *b = NULL, *back = NULL;
    EXPECT_OK(ovl_identity_generate(&a, "ow"));
    EXPECT_OK(ovl_identity_generate(&b, "ow"));
    EXPECT_OK(ovl_identity_save(a, path_of(kp, sizeof kp, "ow.key"),
                                path_of(pp, sizeof pp, "ow.pub")));
    EXPECT_ERR(OVL_ERR_IO, ovl_identity_save(b, kp, pp));
    expect_detail("ow.key already exists; refusing to overwrite");
    EXPECT_OK(ovl_identity_load(&back, kp));
    if (back != NULL)
        EXPECT_BYTES_EQ(ovl_identity_pub(back)->pk, ovl_identity_pub(a)->pk, OVL_PK_LEN);
    /* An existing .pub alone also stops the pair, and no .key is left behind. */
    EXPECT_ERR(OVL_ERR_IO, ovl_identity_save(b, path_of(kp2, sizeof kp2, "ow2.key"), pp));
    expect_detail("ow.pub already exists; refusing to overwrite");
    EXPECT_TRUE(access(kp2, F_OK) != 0);
    ovl_identity_free(back);
    ovl_identity_free(a);
    ovl_identity_free(b);
}

static void load_detects_mismatched_pub(void)
{
    char kp[256], pp[256], kp2[256], pp2[256];
    ovl_identity *a = NULL, *b = NULL, *back = NULL;
    EXPECT_OK(ovl_identity_generate(&a, "mm"));
    EXPECT_OK(ovl_identity_generate(&b, "mm"));
    EXPECT_OK(ovl_identity_save(a, path_of(kp, sizeof kp, "mm.key"),
                                path_of(pp2, sizeof pp2, "mm-other.pub")));
    EXPECT_OK(ovl_identity_save(b, path_of(kp2, sizeof kp2, "mm-other.key"),
                                path_of(pp, sizeof pp, "mm.pub")));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_identity_load(&back, kp));
    expect_detail("do not hold the same key");
    unlink(pp);
    EXPECT_OK(ovl_identity_load(&back, kp));
    ovl_identity_free(back);
    ovl_identity_free(a);
    ovl_identity_free(b);
}

static void load_missing_file(void)
{
    char kp[256];
    ovl_identity *id = NULL;
    ovl_pubkey pk;
    EXPECT_ERR(OVL_ERR_IO, ovl_identity_load(&id, path_of(kp, sizeof kp, "absent.key")));
    expect_detail("absent.key");
    EXPECT_ERR(OVL_ERR_IO, ovl_pubkey_load(&pk, path_of(kp, sizeof kp, "absent.pub")));
}

static void load_refuses_oversized_file(void)
{
    char kp[256];
    char big[OVL_NAME_MAX * 80];
    ovl_pubkey pk;
    memset(big, '#', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    write_file(path_of(kp, sizeof kp, "big.pub"), big, 0644);
    EXPECT_ERR(OVL_ERR_INPUT, ovl_pubkey_load(&pk, kp));
    expect_detail("limit");
}

static void parse_accepts_comments_and_crlf(void)
{
    ovl_identity *id = NULL;
    const char *text = "# a comment\r\n\n   \n  # indented comment\n"
                       "overlap-key-v1 ed25519 " RFC_SEED " rfc\r\n\n";
    EXPECT_OK(ovl_identity_parse(&id, "t.key", text, strlen(text)));
    ovl_pubkey pk;
    EXPECT_OK(ovl_pubkey_parse(&pk, "t.pub", "overlap-pub-v1 ed25519 " RFC_PK " rfc",
                               strlen("overlap-pub-v1 ed25519 " RFC_PK " rfc")));
    if (id != NULL) {
        EXPECT_BYTES_EQ(ovl_identity_pub(id)->pk, pk.pk, OVL_PK_LEN);
        EXPECT_STR_EQ(ovl_identity_pub(id)->name, "rfc");
    }
    ovl_identity_free(id);
}

static void parse_rejects_bad_header(void)
{
    EXPECT_ERR(OVL_ERR_INPUT, parse_key("overlap-key-v2 ed25519 " RFC_SEED " rfc\n"));
    expect_detail("t.key:1: bad header");
    EXPECT_ERR(OVL_ERR_INPUT, parse_pub("\n\nopenssh-key ed25519 " RFC_PK " rfc\n"));
    expect_detail("t.pub:3: bad header");
}

static void parse_rejects_bad_hex(void)
{
    EXPECT_ERR(OVL_ERR_INPUT, parse_key("overlap-key-v1 ed25519 "
                                        "zz61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031c"
                                        "ae7f60 rfc\n"));
    expect_detail("bad key hex");
    OVL_T_RECORD(strstr(ovl_err_detail(), "zz61") == NULL, "secret echoed: %s", ovl_err_detail());
}

static void parse_rejects_short_hex(void)
{
    EXPECT_ERR(OVL_ERR_INPUT, parse_pub("overlap-pub-v1 ed25519 d75a98 rfc\n"));
    expect_detail("bad key hex");
}

static void parse_rejects_bad_name(void)
{
    EXPECT_ERR(OVL_ERR_INPUT, parse_pub("overlap-pub-v1 ed25519 " RFC_PK " r/fc\n"));
    expect_detail("bad name");
}

static void parse_rejects_missing_field(void)
{
    EXPECT_ERR(OVL_ERR_INPUT, parse_pub("overlap-pub-v1 ed25519 " RFC_PK "\n"));
    expect_detail("expected 4 fields");
}

static void parse_rejects_extra_field(void)
{
    EXPECT_ERR(OVL_ERR_INPUT, parse_pub("overlap-pub-v1 ed25519 " RFC_PK " rfc extra\n"));
    expect_detail("more than 4");
}

static void parse_rejects_other_algorithm(void)
{
    EXPECT_ERR(OVL_ERR_INPUT, parse_pub("overlap-pub-v1 x25519 " RFC_PK " rfc\n"));
    expect_detail("unsupported key algorithm");
}

static void parse_rejects_pub_as_key(void)
{
    EXPECT_ERR(OVL_ERR_INPUT, parse_key("overlap-pub-v1 ed25519 " RFC_PK " rfc\n"));
    expect_detail("this is a public key file");
}

static void parse_rejects_key_as_pub(void)
{
    EXPECT_ERR(OVL_ERR_INPUT, parse_pub("overlap-key-v1 ed25519 " RFC_SEED " rfc\n"));
    expect_detail("this is a secret key file");
    OVL_T_RECORD(strstr(ovl_err_detail(), RFC_SEED) == NULL, "secret echoed: %s",
                 ovl_err_detail());
}

static void parse_rejects_empty(void)
{
    EXPECT_ERR(OVL_ERR_INPUT, parse_pub(""));
    expect_detail("no key line");
    EXPECT_ERR(OVL_ERR_INPUT, parse_key("# only a comment\n"));
    expect_detail("no key line");
}

static void parse_rejects_two_keys(void)
{
    EXPECT_ERR(OVL_ERR_INPUT, parse_pub("overlap-pub-v1 ed25519 " RFC_PK " a\n"
                                        "overlap-pub-v1 ed25519 " RFC_PK " b\n"));
    expect_detail("t.pub:2: unexpected second key line");
}

static void parse_rejects_nul_byte(void)
{
    static const char text[] = "overlap-pub-v1 ed25519 " RFC_PK " rfc\0\n";
    ovl_pubkey pk;
    EXPECT_ERR(OVL_ERR_INPUT, ovl_pubkey_parse(&pk, "t.pub", text, sizeof text - 1));
    expect_detail("NUL");
}

static void parse_rejects_oversized_text(void)
{
    static char text[5000];
    memset(text, '#', sizeof text);
    ovl_pubkey pk;
    EXPECT_ERR(OVL_ERR_INPUT, ovl_pubkey_parse(&pk, "t.pub", text, sizeof text));
    expect_detail("limit");
}

static void parse_rejects_invalid_point(void)
{
    /* y = 2 is not on edwards25519. */
    EXPECT_ERR(OVL_ERR_INPUT,
               parse_pub("overlap-pub-v1 ed25519 "
                         "0200000000000000000000000000000000000000000000000000000000000000 x\n"));
    expect_detail("not a valid Ed25519 public key");
}

static void rfc8032_known_answer(void)
{
    ovl_identity *id = NULL;
    uint8_t pk[32], want[OVL_SIG_LEN], sig[OVL_SIG_LEN];
    static const char text[] = "overlap-key-v1 ed25519 " RFC_SEED " rfc";
    EXPECT_OK(ovl_identity_parse(&id, "t.key", text, sizeof text - 1));
    EXPECT_OK(ovl_hex_decode(pk, 32, RFC_PK, 64));
    EXPECT_OK(ovl_hex_decode(want, OVL_SIG_LEN, RFC_SIG, 128));
    if (id == NULL)
        return;
    EXPECT_BYTES_EQ(ovl_identity_pub(id)->pk, pk, 32);
    EXPECT_OK(ovl_identity_sign(id, sig, NULL, 0));
    EXPECT_BYTES_EQ(sig, want, OVL_SIG_LEN);
    ovl_identity_free(id);
}

static void sign_verify_and_tamper(void)
{
    ovl_identity *id = NULL, *other = NULL;
    uint8_t sig[OVL_SIG_LEN];
    static const uint8_t msg[] = "template sha256:abcd approved";
    EXPECT_OK(ovl_identity_generate(&id, "signer"));
    EXPECT_OK(ovl_identity_generate(&other, "other"));
    if (id == NULL || other == NULL)
        goto out;
    EXPECT_OK(ovl_identity_sign(id, sig, msg, sizeof msg));
    EXPECT_OK(ovl_pubkey_verify(ovl_identity_pub(id), sig, msg, sizeof msg));
    EXPECT_ERR(OVL_ERR_AUTH, ovl_pubkey_verify(ovl_identity_pub(other), sig, msg, sizeof msg));
    expect_detail("other");
    sig[10] ^= 1;
    EXPECT_ERR(OVL_ERR_AUTH, ovl_pubkey_verify(ovl_identity_pub(id), sig, msg, sizeof msg));
    sig[10] ^= 1;
    EXPECT_ERR(OVL_ERR_AUTH, ovl_pubkey_verify(ovl_identity_pub(id), sig, msg, sizeof msg - 1));
out:
    ovl_identity_free(id);
    ovl_identity_free(other);
}

static void fingerprint_format(void)
{
    uint8_t zero[OVL_PK_LEN] = {0};
    char f[OVL_FPR_LEN], g[OVL_FPR_LEN];
    ovl_fingerprint(f, zero);
    EXPECT_STR_EQ(f, "SHA256:66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925");
    EXPECT_EQ(strlen(f), OVL_FPR_LEN - 1);
    zero[31] = 1;
    ovl_fingerprint(g, zero);
    EXPECT_TRUE(strcmp(f, g) != 0);
}

static void cleanup_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

int main(void)
{
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    RUN(save_load_roundtrip);
    RUN(generated_keys_differ);
    RUN(generate_rejects_bad_names);
    RUN(load_refuses_open_permissions);
    RUN(save_refuses_overwrite);
    RUN(load_detects_mismatched_pub);
    RUN(load_missing_file);
    RUN(load_refuses_oversized_file);
    RUN(parse_accepts_comments_and_crlf);
    RUN(parse_rejects_bad_header);
    RUN(parse_rejects_bad_hex);
    RUN(parse_rejects_short_hex);
    RUN(parse_rejects_bad_name);
    RUN(parse_rejects_missing_field);
    RUN(parse_rejects_extra_field);
    RUN(parse_rejects_other_algorithm);
    RUN(parse_rejects_pub_as_key);
    RUN(parse_rejects_key_as_pub);
    RUN(parse_rejects_empty);
    RUN(parse_rejects_two_keys);
    RUN(parse_rejects_nul_byte);
    RUN(parse_rejects_oversized_text);
    RUN(parse_rejects_invalid_point);
    RUN(rfc8032_known_answer);
    RUN(sign_verify_and_tamper);
    RUN(fingerprint_format);
    cleanup_dir();
    return ovl_t_summary("test_identity");
}
