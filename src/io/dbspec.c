/* overlap: database specs and their redaction (dbspec.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/guard.h"
#include "core/mem.h"
#include "io/dbspec.h"

static const char SQLITE_PREFIX[] = "sqlite:";
static const char *const PG_PREFIXES[] = {"postgresql://", "postgres://"};

static bool has_prefix(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

ovl_db_kind ovl_dbspec_kind(const char *spec)
{
    if (has_prefix(spec, SQLITE_PREFIX))
        return OVL_DB_SQLITE;
    for (size_t i = 0; i < sizeof PG_PREFIXES / sizeof PG_PREFIXES[0]; i++)
        if (has_prefix(spec, PG_PREFIXES[i]))
            return OVL_DB_POSTGRES;
    return OVL_DB_NONE;
}

/* ---- redaction ---- */

static size_t pg_prefix_len(const char *s)
{
    for (size_t i = 0; i < sizeof PG_PREFIXES / sizeof PG_PREFIXES[0]; i++)
        if (has_prefix(s, PG_PREFIXES[i]))
            return strlen(PG_PREFIXES[i]);
    return 0;
}

/* Where a password=... item starts at s[i] (at the start or after '?', '&'
 * or whitespace, any case), or false. libpq percent-decodes a URI's keywords
 * before looking them up, so "%70assword=" names the password too. */
static bool password_item_at(const char *s, size_t i)
{
    static const char key[] = "password";
    if (i > 0 && s[i - 1] != '?' && s[i - 1] != '&' && s[i - 1] != ' ' && s[i - 1] != '\t')
        return false;
    for (size_t k = 0; k < sizeof key - 1; k++) {
        int c = (unsigned char)s[i];
        if (c == '%' && s[i + 1] != '\0' && ovl_hex_digit(s[i + 1]) >= 0 &&
            ovl_hex_digit(s[i + 2]) >= 0) {
            c = ovl_hex_digit(s[i + 1]) << 4 | ovl_hex_digit(s[i + 2]);
            i += 3;
        } else if (c != '\0') {
            i++;
        }
        if (tolower(c) != key[k])
            return false;
    }
    return s[i] == '=';
}

/* Copies s to out, leaving out every password=VALUE item (up to the next
 * '&' or whitespace) together with the separators that follow it. */
static void drop_password_items(char *out, const char *s)
{
    size_t o = 0;
    for (size_t i = 0; s[i] != '\0';) {
        if (!password_item_at(s, i)) {
            out[o++] = s[i++];
            continue;
        }
        while (s[i] != '\0' && s[i] != '&' && s[i] != ' ' && s[i] != '\t')
            i++;
        if (s[i] == '&')
            i++;
        while (s[i] == ' ' || s[i] == '\t')
            i++;
    }
    while (o > 0 && (out[o - 1] == '&' || out[o - 1] == '?'))
        o--; /* "...?password=x" or "...&password=x" at the end */
    out[o] = '\0';
}

/* Removes ":password" from the user information of a URI: like libpq, the
 * part before the first '@' ahead of the first '/'. */
static void drop_userinfo_password(char *u)
{
    size_t pre = pg_prefix_len(u);
    if (pre == 0)
        return;
    char *auth = u + pre;
    size_t auth_len = strcspn(auth, "@/");
    if (auth[auth_len] != '@')
        return;
    char *colon = memchr(auth, ':', auth_len);
    if (colon != NULL)
        memmove(colon, auth + auth_len, strlen(auth + auth_len) + 1);
}

char *ovl_spec_redact(const char *spec)
{
    char *out = malloc(strlen(spec) + 1);
    if (out == NULL)
        return NULL;
    drop_password_items(out, spec);
    drop_userinfo_password(out);
    return out;
}

/* ---- parsing ---- */

/* Percent-decodes s[0..n) into a new string; a malformed escape or a decoded
 * NUL is an error. */
static ovl_err pct_decode(char **out, const char *s, size_t n, const char *shown)
{
    ovl_err rc = OVL_OK;
    char *d = NULL;
    size_t o = 0;
    OVL_TRY(ovl_calloc((void **)&d, n + 1, 1));
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            d[o++] = s[i];
            continue;
        }
        int hi = i + 2 < n ? ovl_hex_digit(s[i + 1]) : -1;
        int lo = hi >= 0 ? ovl_hex_digit(s[i + 2]) : -1;
        OVL_ENSURE(hi >= 0 && lo >= 0 && (hi | lo) != 0, OVL_ERR_USAGE,
                   "%s: bad percent escape in table=", shown);
        d[o++] = (char)(hi << 4 | lo);
        i += 2;
    }
    *out = d;
    d = NULL;
done:
    free(d);
    return rc;
}

static ovl_err check_table(const ovl_dbspec *s)
{
    size_t n = strlen(s->table), schema;
    if (n == 0 || n > OVL_DB_IDENT_MAX)
        return ovl_err_set(OVL_ERR_USAGE, "%s: table= needs a name of 1 to %u bytes", s->shown,
                           OVL_DB_IDENT_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s->table[i] < 0x20)
            return ovl_err_set(OVL_ERR_USAGE, "%s: control character in table=", s->shown);
    ovl_db_ident_split(s->table, &schema);
    if (s->table[0] == '.' || s->table[n - 1] == '.' || strchr(s->table + schema + 1, '.'))
        return ovl_err_set(OVL_ERR_USAGE, "%s: table= '%s' is neither NAME nor SCHEMA.NAME",
                           s->shown, s->table);
    return OVL_OK;
}

/* Takes every table=VALUE item out of the query string q (in place), keeping
 * the others in order; decodes the value into s->table. */
static ovl_err take_table(ovl_dbspec *s, char *q)
{
    ovl_err rc = OVL_OK;
    char *w = q;
    for (char *item = q; *item != '\0';) {
        size_t n = strcspn(item, "&");
        char *next = item + n + (item[n] == '&');
        if (n > 6 && strncmp(item, "table=", 6) == 0) {
            OVL_ENSURE(s->table == NULL, OVL_ERR_USAGE, "%s: table= given twice", s->shown);
            OVL_TRY(pct_decode(&s->table, item + 6, n - 6, s->shown));
        } else if (n == 6 && strncmp(item, "table=", 6) == 0) {
            OVL_FAIL(ovl_err_set(OVL_ERR_USAGE, "%s: table= is empty", s->shown));
        } else if (n > 0) {
            if (w != q)
                *w++ = '&';
            memmove(w, item, n);
            w += n;
        }
        item = next;
    }
    *w = '\0';
done:
    return rc;
}

static ovl_err check_table_need(const ovl_dbspec *s, bool with_query)
{
    if (with_query && s->table != NULL)
        return ovl_err_set(OVL_ERR_USAGE, "%s: give either table= or --query, not both", s->shown);
    if (!with_query && s->table == NULL)
        return ovl_err_set(OVL_ERR_USAGE, "%s: name the table with ?table=NAME (or give --query)",
                           s->shown);
    return s->table != NULL ? check_table(s) : OVL_OK;
}

static ovl_err parse_sqlite(ovl_dbspec *s, const char *spec, bool with_query)
{
    ovl_err rc = OVL_OK;
    const char *body = spec + strlen(SQLITE_PREFIX);
    const char *qm = strchr(body, '?');
    size_t plen = qm ? (size_t)(qm - body) : strlen(body);
    char *q = NULL;
    OVL_ENSURE(plen > 0, OVL_ERR_USAGE, "%s: no database file after 'sqlite:'", s->shown);
    OVL_TRY(ovl_calloc((void **)&s->path, plen + 1, 1));
    memcpy(s->path, body, plen);
    if (qm != NULL) {
        q = strdup(qm + 1);
        OVL_ENSURE(q != NULL, OVL_ERR_NOMEM, "out of memory");
        OVL_TRY(take_table(s, q));
        OVL_ENSURE(*q == '\0', OVL_ERR_USAGE,
                   "%s: unknown parameter '%.*s' (SQLite specs take only table=)", s->shown,
                   (int)strcspn(q, "=&"), q);
    }
    OVL_TRY(check_table_need(s, with_query));
done:
    free(q);
    return rc;
}

static ovl_err parse_pg(ovl_dbspec *s, const char *spec, bool with_query)
{
    ovl_err rc = OVL_OK;
    char *qm;
    s->conninfo = strdup(spec);
    OVL_ENSURE(s->conninfo != NULL, OVL_ERR_NOMEM, "out of memory");
    qm = strchr(s->conninfo, '?');
    if (qm != NULL) {
        OVL_TRY(take_table(s, qm + 1));
        if (qm[1] == '\0')
            *qm = '\0';
    }
    OVL_TRY(check_table_need(s, with_query));
done:
    return rc;
}

ovl_err ovl_dbspec_parse(ovl_dbspec *s, const char *spec, bool with_query)
{
    ovl_err rc = OVL_OK;
    memset(s, 0, sizeof *s);
    s->kind = ovl_dbspec_kind(spec);
    s->shown = ovl_spec_redact(spec);
    OVL_ENSURE(s->shown != NULL, OVL_ERR_NOMEM, "out of memory");
    OVL_ENSURE(strlen(spec) < OVL_SOURCE_SPEC_MAX, OVL_ERR_USAGE, "%.64s...: longer than %u bytes",
               s->shown, OVL_SOURCE_SPEC_MAX - 1);
    switch (s->kind) {
    case OVL_DB_SQLITE:
        OVL_TRY(parse_sqlite(s, spec, with_query));
        break;
    case OVL_DB_POSTGRES:
        OVL_TRY(parse_pg(s, spec, with_query));
        break;
    default:
        OVL_FAIL(ovl_err_set(OVL_ERR_USAGE, "%s: not a database spec (sqlite:PATH?table=NAME or "
                             "postgresql://...?table=NAME)", s->shown));
    }
done:
    if (rc != OVL_OK)
        ovl_dbspec_free(s);
    return rc;
}

void ovl_dbspec_free(ovl_dbspec *s)
{
    free(s->path);
    if (s->conninfo != NULL) /* it may hold a password */
        ovl_free_secret(s->conninfo, strlen(s->conninfo));
    free(s->table);
    free(s->shown);
    memset(s, 0, sizeof *s);
}

void ovl_db_ident_split(const char *name, size_t *schema_len)
{
    const char *dot = strchr(name, '.');
    *schema_len = dot != NULL ? (size_t)(dot - name) : 0;
}

void ovl_spec_table_name(char *out, size_t cap, const char *spec)
{
    ovl_dbspec s;
    if (ovl_dbspec_kind(spec) != OVL_DB_NONE) {
        if (ovl_dbspec_parse(&s, spec, false) == OVL_OK) {
            size_t schema;
            ovl_db_ident_split(s.table, &schema);
            snprintf(out, cap, "%s", s.table + (schema ? schema + 1 : 0));
            ovl_dbspec_free(&s);
        } else {
            ovl_err_clear();
            snprintf(out, cap, "query");
        }
        return;
    }
    const char *slash = strrchr(spec, '/');
    const char *b = slash ? slash + 1 : spec;
    const char *dot = strrchr(b, '.');
    snprintf(out, cap, "%.*s", dot && dot != b ? (int)(dot - b) : (int)strlen(b), b);
}

ovl_err ovl_dbspec_check_options(const char *table, const char *query, const char *out,
                                 bool replace)
{
    ovl_err rc = OVL_OK;
    ovl_dbspec s = {0};
    if (ovl_dbspec_kind(table) != OVL_DB_NONE) {
        OVL_TRY(ovl_dbspec_parse(&s, table, query != NULL));
        ovl_dbspec_free(&s);
    } else {
        OVL_ENSURE(query == NULL, OVL_ERR_USAGE, "--query needs a database --table "
                   "(sqlite:PATH or postgresql://...), not a CSV file");
    }
    OVL_ENSURE(query == NULL || (*query != '\0' && strlen(query) < OVL_SOURCE_QUERY_MAX),
               OVL_ERR_USAGE, "--query must hold 1 to %u bytes", OVL_SOURCE_QUERY_MAX - 1);
    if (out != NULL && ovl_dbspec_kind(out) != OVL_DB_NONE) {
        OVL_TRY(ovl_dbspec_parse(&s, out, false));
        ovl_dbspec_free(&s);
    } else {
        OVL_ENSURE(!replace, OVL_ERR_USAGE, "--replace applies to a database --out "
                   "(sqlite:PATH?table=NAME or postgresql://...?table=NAME); a CSV --out is "
                   "always replaced atomically");
    }
done:
    return rc;
}
