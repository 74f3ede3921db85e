/* Fuzz target: database specs (io/dbspec.h) and their redaction over
 * arbitrary text, checking what every message relies on: no password item
 * and no URI password survives redaction, and a parsed spec's connection
 * string has lost overlap's table= parameter. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "io/dbspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool boundary(const char *s, size_t i)
{
    return i == 0 || s[i - 1] == '?' || s[i - 1] == '&' || s[i - 1] == ' ' || s[i - 1] == '\t';
}

/* A password= item anywhere, or user:password@ in a URI's authority. */
static bool shows_password(const char *s)
{
    for (size_t i = 0; s[i] != '\0'; i++)
        if (boundary(s, i) && strncasecmp(s + i, "password=", 9) == 0)
            return true;
    size_t pre = strncmp(s, "postgresql://", 13) == 0 ? 13 : strncmp(s, "postgres://", 11) == 0 ? 11 : 0;
    if (pre == 0)
        return false;
    size_t n = strcspn(s + pre, "@/");
    return s[pre + n] == '@' && memchr(s + pre, ':', n) != NULL;
}

static bool has_table_item(const char *s)
{
    const char *q = strchr(s, '?');
    for (const char *p = q; p != NULL; p = strchr(p + 1, '&'))
        if (strncmp(p + 1, "table=", 6) == 0)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *shown = ovl_spec_redact(text);
    if (shown == NULL || strlen(shown) > strlen(text) || shows_password(shown))
        abort();
    for (int with_query = 0; with_query < 2; with_query++) {
        ovl_dbspec s;
        if (ovl_dbspec_parse(&s, text, with_query) != OVL_OK)
            continue;
        if (strcmp(s.shown, shown) != 0 || shows_password(s.shown) ||
            (s.conninfo != NULL && has_table_item(s.conninfo)) ||
            (with_query ? s.table != NULL : s.table == NULL))
            abort();
        ovl_dbspec_free(&s);
    }
    char name[64];
    ovl_spec_table_name(name, sizeof name, text);
    free(shown);
    free(text);
    return 0;
}
