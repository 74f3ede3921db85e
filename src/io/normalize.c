/* overlap: normalising join values and turning them into identifiers.
 *
 * Both parties must map the same person to the same bytes, so each
 * normaliser is strict and deterministic, and rejects what it cannot map
 * unambiguously instead of guessing. Error details say what is wrong, never
 * the value itself (it is personal data). */
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "io/table.h"

enum {
    EMAIL_MAX = 254,   /* RFC 5321 path limit less the angle brackets */
    PHONE_MIN_DIGITS = 8,
    PHONE_MAX_DIGITS = 15, /* ITU-T E.164 */
    /* kept characters before "00" becomes '+': "00" and 15 digits */
    PHONE_MAX_KEPT = 2 + PHONE_MAX_DIGITS,
};

static bool norm_space(uint8_t b)
{
    return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f';
}

static void norm_trim(const char **p, size_t *len)
{
    const uint8_t *s = (const uint8_t *)*p;
    size_t n = *len;
    while (n > 0 && norm_space(s[0])) {
        s++;
        n--;
    }
    while (n > 0 && norm_space(s[n - 1]))
        n--;
    *p = (const char *)s;
    *len = n;
}

static ovl_err norm_email(const char *in, size_t len, char *out, size_t *out_len)
{
    size_t at = 0, nat = 0;
    norm_trim(&in, &len);
    if (len == 0)
        return ovl_err_set(OVL_ERR_INPUT, "email: empty value");
    if (len > EMAIL_MAX)
        return ovl_err_set(OVL_ERR_INPUT, "email: longer than %d bytes", EMAIL_MAX);
    for (size_t i = 0; i < len; i++) {
        uint8_t b = (uint8_t)in[i];
        if (norm_space(b))
            return ovl_err_set(OVL_ERR_INPUT, "email: contains whitespace");
        if (b < 0x20 || b == 0x7f)
            return ovl_err_set(OVL_ERR_INPUT, "email: contains a control character");
        if (b == '@') {
            nat++;
            at = i;
        }
        /* ASCII only: non-ASCII bytes are kept, so UTF-8 addresses stay intact. */
        out[i] = (char)(b >= 'A' && b <= 'Z' ? b + ('a' - 'A') : b);
    }
    if (nat != 1)
        return ovl_err_set(OVL_ERR_INPUT, nat == 0 ? "email: no '@'" : "email: more than one '@'");
    if (at == 0)
        return ovl_err_set(OVL_ERR_INPUT, "email: nothing before the '@'");
    if (at == len - 1)
        return ovl_err_set(OVL_ERR_INPUT, "email: nothing after the '@'");
    *out_len = len;
    return OVL_OK;
}

static bool phone_separator(char ch)
{
    return ch == ' ' || ch == '.' || ch == '-' || ch == '(' || ch == ')';
}

/* Keeps a leading '+' and the digits, dropping separators. */
static ovl_err phone_compact(const char *in, size_t len, char *out, size_t *kept)
{
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = in[i];
        if (phone_separator(ch))
            continue;
        if (!(ch >= '0' && ch <= '9') && !(ch == '+' && k == 0))
            return ovl_err_set(OVL_ERR_INPUT, "phone: only digits, a leading '+', spaces, dots, "
                                              "dashes and parentheses are allowed");
        if (k == PHONE_MAX_KEPT)
            return ovl_err_set(OVL_ERR_INPUT, "phone: more than %d digits", PHONE_MAX_DIGITS);
        out[k++] = ch;
    }
    *kept = k;
    return OVL_OK;
}

/* E.164 only. A number must carry its country code ('+' or the "00"
 * international prefix): we never guess a country for a national number, nor
 * drop a trunk prefix such as the "(0)" in "+44 (0)20...", because a wrong
 * guess would silently match different people. */
static ovl_err norm_phone(const char *in, size_t len, char *out, size_t *out_len)
{
    ovl_err rc = OVL_OK;
    size_t k = 0;
    norm_trim(&in, &len);
    OVL_ENSURE(len > 0, OVL_ERR_INPUT, "phone: empty value");
    OVL_TRY(phone_compact(in, len, out, &k));
    if (k >= 2 && out[0] == '0' && out[1] == '0') {
        out[0] = '+';
        memmove(out + 1, out + 2, k - 2);
        k--;
    }
    OVL_ENSURE(k > 0 && out[0] == '+', OVL_ERR_INPUT,
               "phone: must start with '+' or 00 and the country code");
    OVL_ENSURE(k - 1 >= PHONE_MIN_DIGITS && k - 1 <= PHONE_MAX_DIGITS, OVL_ERR_INPUT,
               "phone: needs %d to %d digits after the '+'", PHONE_MIN_DIGITS, PHONE_MAX_DIGITS);
    OVL_ENSURE(out[1] != '0', OVL_ERR_INPUT, "phone: a country code never starts with 0");
    *out_len = k;
done:
    return rc;
}

static ovl_err norm_exact(const char *in, size_t len, char *out, size_t *out_len)
{
    if (len == 0)
        return ovl_err_set(OVL_ERR_INPUT, "empty value");
    if (len > OVL_NORM_MAX)
        return ovl_err_set(OVL_ERR_INPUT, "value longer than %d bytes", OVL_NORM_MAX);
    memcpy(out, in, len);
    *out_len = len;
    return OVL_OK;
}

ovl_err ovl_normalize(ovl_norm kind, const char *in, size_t len, char *out, size_t *out_len)
{
    ovl_err rc;
    switch (kind) {
    case OVL_NORM_NONE:
        rc = norm_exact(in, len, out, out_len);
        break;
    case OVL_NORM_EMAIL:
        rc = norm_email(in, len, out, out_len);
        break;
    case OVL_NORM_PHONE:
        rc = norm_phone(in, len, out, out_len);
        break;
    default:
        return ovl_err_set(OVL_ERR_USAGE, "unknown normaliser %d", (int)kind);
    }
    if (rc != OVL_OK) {
        sodium_memzero(out, OVL_NORM_MAX); /* a partly normalised value */
        *out_len = 0;
    }
    return rc;
}

static const char *const norm_names[] = {
    [OVL_NORM_NONE] = "none",
    [OVL_NORM_EMAIL] = "email",
    [OVL_NORM_PHONE] = "phone",
};

ovl_err ovl_norm_parse(ovl_norm *out, const char *name)
{
    for (size_t i = 0; i < sizeof norm_names / sizeof norm_names[0]; i++) {
        if (strcmp(name, norm_names[i]) == 0) {
            *out = (ovl_norm)i;
            return OVL_OK;
        }
    }
    return ovl_err_set(OVL_ERR_USAGE, "unknown normaliser \"%.32s\" (use email, phone or none)",
                       name);
}

const char *ovl_norm_name(ovl_norm n)
{
    if ((size_t)n >= sizeof norm_names / sizeof norm_names[0])
        return "invalid";
    return norm_names[n];
}

static ovl_err ident_prehashed(uint8_t id[OVL_ID_LEN], const char *in, size_t len)
{
    norm_trim(&in, &len);
    if (len == 0)
        return ovl_err_set(OVL_ERR_INPUT, "prehashed value: empty");
    if (len != 2 * OVL_ID_LEN || ovl_hex_decode(id, OVL_ID_LEN, in, len) != OVL_OK) {
        sodium_memzero(id, OVL_ID_LEN);
        return ovl_err_set(OVL_ERR_INPUT, "prehashed value: expected %d hex digits",
                           2 * OVL_ID_LEN);
    }
    return OVL_OK;
}

ovl_err ovl_ident(uint8_t id[OVL_ID_LEN], ovl_norm kind, bool prehashed, const char *in,
                  size_t len)
{
    ovl_err rc = OVL_OK;
    char norm[OVL_NORM_MAX];
    size_t n = 0;
    if (prehashed)
        return ident_prehashed(id, in, len);
    OVL_TRY(ovl_normalize(kind, in, len, norm, &n));
    crypto_hash_sha256(id, (const unsigned char *)norm, n);
    sodium_memzero(norm, n);
done:
    return rc;
}
