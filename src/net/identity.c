/* Long-term Ed25519 identity keys: generation, key files, signatures.
 * File formats are described in identity.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/buf.h"
#include "net/identity.h"
#include "core/mem.h"

/* Key files are one short line; anything bigger is not ours. */
#define OVL_KEYFILE_MAX 4096
#define OVL_SEED_LEN 32

#define PUB_MAGIC "overlap-pub-v1"
#define KEY_MAGIC "overlap-key-v1"
#define KEY_ALG "ed25519"

/* Allocated whole with sodium_malloc: the seed and expanded secret key sit in
 * guarded memory that sodium_free wipes. */
struct ovl_identity {
    ovl_pubkey pub;
    uint8_t seed[OVL_SEED_LEN];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
};

/* What a parsed key line must look like: its magic, and the other file kind's
 * magic so a swapped file gets a helpful message. */
typedef struct {
    const char *magic;
    const char *other_magic;
    const char *other_hint;
} keyfile_kind;

static const keyfile_kind pub_kind = {
    PUB_MAGIC, KEY_MAGIC,
    "this is a secret key file (" KEY_MAGIC "); give the matching .pub file instead"};
static const keyfile_kind key_kind = {
    KEY_MAGIC, PUB_MAGIC,
    "this is a public key file (" PUB_MAGIC "); give the secret .key file instead"};

static ovl_err sodium_ready(void)
{
    if (sodium_init() < 0)
        return ovl_err_set(OVL_ERR_CRYPTO, "libsodium failed to initialise");
    return OVL_OK;
}

static bool name_char_ok(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

static bool name_ok(const char *s, size_t len)
{
    if (len == 0 || len > OVL_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!name_char_ok(s[i]))
            return false;
    return true;
}

void ovl_fingerprint(char out[OVL_FPR_LEN], const uint8_t pk[OVL_PK_LEN])
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, pk, OVL_PK_LEN);
    memcpy(out, "SHA256:", 7);
    ovl_hex_encode(out + 7, h, sizeof h);
}

/* ---- parsing ---------------------------------------------------------- */

/* Next line (without '\n' and a trailing '\r') as a child reader. */
static ovl_err next_line(ovl_buf *r, ovl_buf *line)
{
    const uint8_t *start = ovl_buf_rptr(r);
    size_t left = ovl_buf_remaining(r);
    const uint8_t *nl = memchr(start, '\n', left);
    size_t len = nl ? (size_t)(nl - start) : left;
    ovl_err rc = ovl_buf_get_sub(r, len, line);
    if (rc == OVL_OK && nl != NULL)
        rc = ovl_buf_skip(r, 1);
    if (rc == OVL_OK && len > 0 && start[len - 1] == '\r')
        line->wpos--;
    return rc;
}

static bool is_blank(uint8_t c) { return c == ' ' || c == '\t'; }

/* Next run of non-blank bytes; *len is 0 at the end of the line. */
static void next_token(ovl_buf *line, const char **tok, size_t *len)
{
    while (ovl_buf_remaining(line) > 0 && is_blank(*ovl_buf_rptr(line)))
        line->rpos++;
    *tok = (const char *)ovl_buf_rptr(line);
    *len = 0;
    while (*len < ovl_buf_remaining(line) && !is_blank((*tok)[*len]))
        (*len)++;
    line->rpos += *len;
}

static bool token_is(const char *tok, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(tok, want, len) == 0;
}

/* Blank lines and lines whose first non-blank byte is '#'. */
static bool line_is_skippable(const ovl_buf *line)
{
    for (size_t i = line->rpos; i < line->wpos; i++)
        if (!is_blank(line->data[i]))
            return line->data[i] == '#';
    return true;
}

/* Parses "<magic> ed25519 <64 hex> <name>" into key32 and name. The key bytes
 * are decoded straight into the caller's memory (secure memory for seeds), and
 * no error message quotes file contents, which may be secret. */
static ovl_err parse_key_line(ovl_buf *line, const keyfile_kind *kind, const char *label,
                              size_t lineno, uint8_t key32[32], char name[OVL_NAME_MAX + 1])
{
    ovl_err rc = OVL_OK;
    const char *tok[5];
    size_t len[5];
    size_t nfields = 0;
    for (nfields = 0; nfields < 5; nfields++) {
        next_token(line, &tok[nfields], &len[nfields]);
        if (len[nfields] == 0)
            break;
    }
    OVL_ENSURE(nfields == 0 || !token_is(tok[0], len[0], kind->other_magic), OVL_ERR_INPUT,
               "%s: %s", label, kind->other_hint);
    OVL_ENSURE(nfields > 0 && token_is(tok[0], len[0], kind->magic), OVL_ERR_INPUT,
               "%s:%zu: bad header: expected a line starting with \"%s\"", label, lineno,
               kind->magic);
    OVL_ENSURE(nfields == 4, OVL_ERR_INPUT,
               "%s:%zu: expected 4 fields \"%s " KEY_ALG " <64 hex digits> <name>\", found %s%zu",
               label, lineno, kind->magic, nfields == 5 ? "more than " : "",
               nfields == 5 ? 4 : nfields);
    OVL_ENSURE(token_is(tok[1], len[1], KEY_ALG), OVL_ERR_INPUT,
               "%s:%zu: unsupported key algorithm (only " KEY_ALG " is supported)", label, lineno);
    if (ovl_hex_decode(key32, 32, tok[2], len[2]) != OVL_OK)
        OVL_FAIL(ovl_err_wrap(OVL_ERR_INPUT, "%s:%zu: bad key hex: ", label, lineno));
    OVL_ENSURE(name_ok(tok[3], len[3]), OVL_ERR_INPUT,
               "%s:%zu: bad name: use 1 to %d characters of A-Z a-z 0-9 . _ -", label, lineno,
               OVL_NAME_MAX);
    memcpy(name, tok[3], len[3]);
    name[len[3]] = '\0';
done:
    return rc;
}

/* Walks the file: '#' comments and blank lines, exactly one key line. */
static ovl_err parse_keyfile(const keyfile_kind *kind, const char *label, const char *text,
                             size_t len, uint8_t key32[32], char name[OVL_NAME_MAX + 1])
{
    ovl_err rc = OVL_OK;
    ovl_buf r, line;
    size_t lineno = 0;
    bool found = false;
    OVL_ENSURE(len <= OVL_KEYFILE_MAX, OVL_ERR_INPUT,
               "%s: %zu bytes is larger than the %d-byte limit for key files", label, len,
               OVL_KEYFILE_MAX);
    OVL_ENSURE(memchr(text, '\0', len) == NULL, OVL_ERR_INPUT,
               "%s: contains a NUL byte; not a key file", label);
    ovl_buf_reader(&r, (const uint8_t *)text, len);
    while (ovl_buf_remaining(&r) > 0) {
        OVL_TRY(next_line(&r, &line));
        lineno++;
        if (line_is_skippable(&line))
            continue;
        OVL_ENSURE(!found, OVL_ERR_INPUT, "%s:%zu: unexpected second key line", label, lineno);
        OVL_TRY(parse_key_line(&line, kind, label, lineno, key32, name));
        found = true;
    }
    OVL_ENSURE(found, OVL_ERR_INPUT, "%s: no key line found (empty or only comments)", label);
done:
    return rc;
}

ovl_err ovl_pubkey_parse(ovl_pubkey *out, const char *label, const char *text, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_pubkey pk;
    memset(&pk, 0, sizeof pk);
    OVL_TRY(sodium_ready());
    OVL_TRY(parse_keyfile(&pub_kind, label, text, len, pk.pk, pk.name));
    OVL_ENSURE(crypto_core_ed25519_is_valid_point(pk.pk) == 1, OVL_ERR_INPUT,
               "%s: the key is not a valid Ed25519 public key", label);
    *out = pk;
done:
    return rc;
}

static ovl_err identity_alloc(ovl_identity **out)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(sodium_ready());
    ovl_identity *id = sodium_malloc(sizeof *id);
    OVL_ENSURE(id != NULL, OVL_ERR_NOMEM, "out of memory allocating an identity key");
    memset(id, 0, sizeof *id);
    *out = id;
done:
    return rc;
}

/* Derives the key pair from id->seed. */
static ovl_err identity_expand(ovl_identity *id)
{
    if (crypto_sign_seed_keypair(id->pub.pk, id->sk, id->seed) != 0)
        return ovl_err_set(OVL_ERR_CRYPTO, "Ed25519 key derivation failed");
    return OVL_OK;
}

ovl_err ovl_identity_parse(ovl_identity **out, const char *label, const char *text, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_identity *id = NULL;
    OVL_TRY(identity_alloc(&id));
    OVL_TRY(parse_keyfile(&key_kind, label, text, len, id->seed, id->pub.name));
    OVL_TRY(identity_expand(id));
    *out = id;
    id = NULL;
done:
    ovl_identity_free(id);
    return rc;
}

/* ---- files ------------------------------------------------------------ */

static ovl_err io_error(const char *what, const char *path)
{
    return ovl_err_set(OVL_ERR_IO, "%s %s: %s", what, path, strerror(errno));
}

/* Reads a whole small file into b (capped) and reports its permission bits. */
static ovl_err read_small_file(ovl_buf *b, const char *path, mode_t *mode)
{
    ovl_err rc = OVL_OK;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        OVL_FAIL(io_error("cannot open", path));
    if (fstat(fd, &st) != 0)
        OVL_FAIL(io_error("cannot stat", path));
    OVL_ENSURE(S_ISREG(st.st_mode), OVL_ERR_INPUT, "%s: not a regular file", path);
    *mode = st.st_mode & 07777;
    /* One byte over the cap so a growing or oversized file is noticed. */
    OVL_TRY(ovl_buf_ensure(b, OVL_KEYFILE_MAX + 1));
    for (;;) {
        size_t room = b->cap - b->wpos;
        ssize_t n = read(fd, b->data + b->wpos, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            OVL_FAIL(io_error("cannot read", path));
        b->wpos += (size_t)n;
        if (n == 0 || b->wpos == b->cap)
            break;
    }
    OVL_ENSURE(b->wpos <= OVL_KEYFILE_MAX, OVL_ERR_INPUT,
               "%s: larger than the %d-byte limit for key files", path, OVL_KEYFILE_MAX);
done:
    if (fd >= 0)
        close(fd);
    return rc;
}

ovl_err ovl_pubkey_load(ovl_pubkey *out, const char *path)
{
    ovl_err rc = OVL_OK;
    ovl_buf b = {0};
    mode_t mode;
    OVL_TRY(ovl_buf_alloc(&b, OVL_KEYFILE_MAX + 1, OVL_KEYFILE_MAX + 1));
    OVL_TRY(read_small_file(&b, path, &mode));
    OVL_TRY(ovl_pubkey_parse(out, path, (const char *)b.data, b.wpos));
done:
    ovl_buf_free(&b);
    return rc;
}

/* When NAME.key has a NAME.pub beside it, the two must hold the same key:
 * a stale .pub handed to the peer would otherwise fail only at connect time. */
static ovl_err check_sibling_pub(const ovl_identity *id, const char *key_path)
{
    ovl_err rc = OVL_OK;
    char pub_path[4096];
    struct stat st;
    ovl_pubkey pk;
    size_t n = strlen(key_path);
    if (n < 4 || strcmp(key_path + n - 4, ".key") != 0 || n >= sizeof pub_path)
        return OVL_OK;
    memcpy(pub_path, key_path, n - 4);
    memcpy(pub_path + n - 4, ".pub", 5);
    if (stat(pub_path, &st) != 0)
        return OVL_OK;
    OVL_TRY(ovl_pubkey_load(&pk, pub_path));
    OVL_ENSURE(memcmp(pk.pk, id->pub.pk, OVL_PK_LEN) == 0 && strcmp(pk.name, id->pub.name) == 0,
               OVL_ERR_INPUT,
               "%s and %s do not hold the same key and name; restore the matching pair or "
               "run keygen again",
               key_path, pub_path);
done:
    return rc;
}

ovl_err ovl_identity_load(ovl_identity **out, const char *path)
{
    ovl_err rc = OVL_OK;
    ovl_buf b = {0};
    ovl_identity *id = NULL;
    mode_t mode;
    OVL_TRY(ovl_buf_alloc_secret(&b, OVL_KEYFILE_MAX + 1, OVL_KEYFILE_MAX + 1));
    OVL_TRY(read_small_file(&b, path, &mode));
    /* Parsed first so a .pub given by mistake is named as such. */
    OVL_TRY(ovl_identity_parse(&id, path, (const char *)b.data, b.wpos));
    OVL_ENSURE((mode & 077) == 0, OVL_ERR_INPUT,
               "%s: permissions %04o are too open; run chmod 600 %s", path, (unsigned)mode, path);
    OVL_TRY(check_sibling_pub(id, path));
    *out = id;
    id = NULL;
done:
    ovl_identity_free(id);
    ovl_buf_free(&b);
    return rc;
}

#define MKSTEMP_RANDOM 6u

static ovl_err write_all(int fd, const uint8_t *p, size_t len, const char *path)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return io_error("cannot write", path);
        p += n;
        len -= (size_t)n;
    }
    return OVL_OK;
}

/* Writes a new file atomically: a temporary file in the same directory,
 * then link(2), which (unlike rename) fails when the target exists. */
static ovl_err write_new_file(const char *path, const ovl_buf *content, mode_t mode)
{
    ovl_err rc = OVL_OK;
    char tmp[4096];
    int fd = -1;
    int n = snprintf(tmp, sizeof tmp, "%s.tmp-", path);
    OVL_ENSURE(n > 0 && (size_t)n + MKSTEMP_RANDOM < sizeof tmp, OVL_ERR_USAGE,
               "%s: path too long", path);
    /* mkstemp's template: the name ends in MKSTEMP_RANDOM 'X' it replaces */
    memset(tmp + n, 'X', MKSTEMP_RANDOM);
    tmp[(size_t)n + MKSTEMP_RANDOM] = '\0';
    fd = mkstemp(tmp);
    if (fd < 0) {
        tmp[0] = '\0';
        OVL_FAIL(io_error("cannot create a temporary file next to", path));
    }
    if (fchmod(fd, mode) != 0)
        OVL_FAIL(io_error("cannot set permissions of", tmp));
    OVL_TRY(write_all(fd, content->data, content->wpos, tmp));
    if (fsync(fd) != 0)
        OVL_FAIL(io_error("cannot sync", tmp));
    if (link(tmp, path) != 0) {
        OVL_ENSURE(errno != EEXIST, OVL_ERR_IO, "%s already exists; refusing to overwrite", path);
        OVL_FAIL(io_error("cannot create", path));
    }
done:
    if (fd >= 0)
        close(fd);
    if (tmp[0] != '\0' && fd >= 0)
        unlink(tmp);
    return rc;
}

static ovl_err refuse_existing(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0)
        return ovl_err_set(OVL_ERR_IO, "%s already exists; refusing to overwrite", path);
    if (errno != ENOENT)
        return io_error("cannot check", path);
    return OVL_OK;
}

static ovl_err format_key_line(ovl_buf *b, const char *comment, const char *magic,
                               const uint8_t key32[32], const char *name)
{
    ovl_err rc = OVL_OK;
    char hex[65];
    ovl_hex_encode(hex, key32, 32);
    OVL_TRY(ovl_buf_put_bytes(b, comment, strlen(comment)));
    OVL_TRY(ovl_buf_put_bytes(b, magic, strlen(magic)));
    OVL_TRY(ovl_buf_put_bytes(b, " " KEY_ALG " ", strlen(KEY_ALG) + 2));
    OVL_TRY(ovl_buf_put_bytes(b, hex, 64));
    OVL_TRY(ovl_buf_put_u8(b, ' '));
    OVL_TRY(ovl_buf_put_bytes(b, name, strlen(name)));
    OVL_TRY(ovl_buf_put_u8(b, '\n'));
done:
    sodium_memzero(hex, sizeof hex);
    return rc;
}

ovl_err ovl_identity_save(const ovl_identity *id, const char *key_path, const char *pub_path)
{
    ovl_err rc = OVL_OK;
    ovl_buf key = {0}, pub = {0};
    char fpr[OVL_FPR_LEN];
    char comment[256];
    bool key_written = false;
    OVL_TRY(refuse_existing(key_path));
    OVL_TRY(refuse_existing(pub_path));
    OVL_TRY(ovl_buf_alloc_secret(&key, 256, OVL_KEYFILE_MAX));
    OVL_TRY(ovl_buf_alloc(&pub, 256, OVL_KEYFILE_MAX));
    ovl_fingerprint(fpr, id->pub.pk);
    snprintf(comment, sizeof comment, "# overlap secret key of %s; keep it private (mode 0600)\n",
             id->pub.name);
    OVL_TRY(format_key_line(&key, comment, KEY_MAGIC, id->seed, id->pub.name));
    snprintf(comment, sizeof comment, "# overlap public key of %s, %s\n", id->pub.name, fpr);
    OVL_TRY(format_key_line(&pub, comment, PUB_MAGIC, id->pub.pk, id->pub.name));
    OVL_TRY(write_new_file(key_path, &key, 0600));
    key_written = true;
    OVL_TRY(write_new_file(pub_path, &pub, 0644));
    key_written = false;
done:
    /* Never leave a .key without its .pub: the pair is written together or not at all. */
    if (key_written)
        unlink(key_path);
    ovl_buf_free(&key);
    ovl_buf_free(&pub);
    return rc;
}

/* ---- keys and signatures ---------------------------------------------- */

ovl_err ovl_identity_generate(ovl_identity **out, const char *name)
{
    ovl_err rc = OVL_OK;
    ovl_identity *id = NULL;
    OVL_ENSURE(name != NULL && name_ok(name, strlen(name)), OVL_ERR_USAGE,
               "invalid key name: use 1 to %d characters of A-Z a-z 0-9 . _ -", OVL_NAME_MAX);
    OVL_TRY(identity_alloc(&id));
    randombytes_buf(id->seed, sizeof id->seed);
    OVL_TRY(identity_expand(id));
    memcpy(id->pub.name, name, strlen(name) + 1);
    *out = id;
    id = NULL;
done:
    ovl_identity_free(id);
    return rc;
}

void ovl_identity_free(ovl_identity *id)
{
    /* sodium_free wipes the whole allocation before unmapping it. */
    sodium_free(id);
}

const ovl_pubkey *ovl_identity_pub(const ovl_identity *id) { return &id->pub; }

const uint8_t *ovl_identity_seed(const ovl_identity *id) { return id->seed; }

ovl_err ovl_identity_sign(const ovl_identity *id, uint8_t sig[OVL_SIG_LEN], const uint8_t *msg,
                          size_t len)
{
    if (crypto_sign_detached(sig, NULL, msg, len, id->sk) != 0)
        return ovl_err_set(OVL_ERR_CRYPTO, "Ed25519 signing failed");
    return OVL_OK;
}

ovl_err ovl_pubkey_verify(const ovl_pubkey *pk, const uint8_t sig[OVL_SIG_LEN],
                          const uint8_t *msg, size_t len)
{
    char fpr[OVL_FPR_LEN];
    if (sodium_ready() != OVL_OK)
        return OVL_ERR_CRYPTO;
    if (crypto_sign_verify_detached(sig, msg, len, pk->pk) == 0)
        return OVL_OK;
    ovl_fingerprint(fpr, pk->pk);
    return ovl_err_set(OVL_ERR_AUTH, "signature does not verify under the key of %s (%s)",
                       pk->name, fpr);
}
