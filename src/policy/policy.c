/* Policy files: strict JSON parsing (schema in policy.h),
 * a deny-everything skeleton, and a plain-words explanation. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "core/mem.h"
#include "io/dbspec.h"
#include "policy/policy.h"

typedef struct {
    const char *label;
    const ovl_strlist *columns; /* NULL while the table columns are being read */
} pctx;

static ovl_err bad(const pctx *c, const char *path, const char *what)
{
    return ovl_err_set(OVL_ERR_INPUT, "%s: %s: %s", c->label, path, what);
}

/* Every key of obj must be in `known`; every key in `required` must be present. */
static ovl_err check_keys(const pctx *c, const char *path, json_t *obj,
                          const char *const *known, const char *const *required)
{
    const char *k;
    json_t *v;
    if (!json_is_object(obj))
        return bad(c, path, "must be an object");
    json_object_foreach (obj, k, v) {
        bool ok = false;
        for (size_t i = 0; known[i]; i++)
            ok = ok || strcmp(k, known[i]) == 0;
        if (!ok)
            return ovl_err_set(OVL_ERR_INPUT, "%s: %s%s%.64s: unknown key", c->label, path,
                               *path ? "." : "", k);
    }
    for (size_t i = 0; required[i]; i++)
        if (!json_object_get(obj, required[i]))
            return ovl_err_set(OVL_ERR_INPUT, "%s: %s%s%s: missing", c->label, path,
                               *path ? "." : "", required[i]);
    return OVL_OK;
}

static bool printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= OVL_POLICY_MAX_NAME && printable(s, n);
}

static ovl_err get_name(char **out, const pctx *c, const char *path, json_t *v)
{
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
        !name_ok(json_string_value(v)))
        return bad(c, path, "must be a string of 1 to 256 printable characters");
    *out = strdup(json_string_value(v));
    return *out ? OVL_OK : ovl_err_set(OVL_ERR_NOMEM, "out of memory");
}

/* A table spec: a CSV path or a database spec, which a policy file must
 * never hold a password in (libpq reads it from ~/.pgpass or PGPASSWORD). */
static ovl_err get_source(char **out, const pctx *c, const char *path, json_t *v)
{
    ovl_err rc = OVL_OK;
    char *shown = NULL;
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
        json_string_length(v) == 0 || json_string_length(v) >= OVL_SOURCE_SPEC_MAX ||
        !printable(json_string_value(v), json_string_length(v)))
        return bad(c, path, "must be a CSV path or a database spec of at most 4095 printable "
                            "characters");
    shown = ovl_spec_redact(json_string_value(v));
    OVL_ENSURE(shown != NULL, OVL_ERR_NOMEM, "out of memory");
    OVL_ENSURE(strcmp(shown, json_string_value(v)) == 0, OVL_ERR_INPUT,
               "%s: %s: holds a password; remove it and let libpq find it (~/.pgpass, "
               "PGPASSWORD or a service file)", c->label, path);
    *out = strdup(json_string_value(v));
    OVL_ENSURE(*out != NULL, OVL_ERR_NOMEM, "out of memory");
done:
    free(shown);
    return rc;
}

static ovl_err get_bool(bool *out, const pctx *c, const char *path, json_t *v)
{
    if (!json_is_boolean(v))
        return bad(c, path, "must be true or false");
    *out = json_is_true(v);
    return OVL_OK;
}

static ovl_err get_uint(uint64_t *out, const pctx *c, const char *path, json_t *v,
                        uint64_t lo, uint64_t hi)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (uint64_t)json_integer_value(v) < lo || (uint64_t)json_integer_value(v) > hi)
        return ovl_err_set(OVL_ERR_INPUT, "%s: %s: must be an integer from %llu to %llu",
                           c->label, path, (unsigned long long)lo, (unsigned long long)hi);
    *out = (uint64_t)json_integer_value(v);
    return OVL_OK;
}

static bool fpr_ok(const char *s)
{
    if (strlen(s) != OVL_FPR_LEN - 1 || strncmp(s, "SHA256:", 7) != 0)
        return false;
    for (size_t i = 7; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static void strlist_free(ovl_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

bool ovl_strlist_has(const ovl_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i], s) == 0)
            return true;
    return false;
}

/* kind: 'c' = column of the table, 'f' = fingerprint, 'n' = any name. */
static ovl_err get_strlist(ovl_strlist *out, const pctx *c, const char *path, json_t *v,
                           char kind)
{
    ovl_err rc = OVL_OK;
    char sub[128];
    size_t i;
    json_t *it;
    OVL_ENSURE(json_is_array(v), OVL_ERR_INPUT, "%s: %s: must be a list", c->label, path);
    OVL_ENSURE(json_array_size(v) <= OVL_POLICY_MAX_LIST, OVL_ERR_INPUT,
               "%s: %s: more than %u entries", c->label, path, OVL_POLICY_MAX_LIST);
    OVL_TRY(ovl_calloc((void **)&out->items, json_array_size(v) + 1, sizeof *out->items));
    json_array_foreach (v, i, it) {
        char *s = NULL;
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        OVL_TRY(get_name(&s, c, sub, it));
        out->items[out->n++] = s;
        if (kind == 'f')
            OVL_ENSURE(fpr_ok(s), OVL_ERR_INPUT,
                       "%s: %s: must be a key fingerprint \"SHA256:<64 lowercase hex>\" "
                       "(see overlap fingerprint)", c->label, sub);
        if (kind == 'c')
            OVL_ENSURE(ovl_strlist_has(c->columns, s), OVL_ERR_INPUT,
                       "%s: %s: '%.64s' is not a column of table.columns", c->label, sub, s);
        for (size_t j = 0; j + 1 < out->n; j++)
            OVL_ENSURE(strcmp(out->items[j], s) != 0, OVL_ERR_INPUT,
                       "%s: %s: '%.64s' is listed twice", c->label, sub, s);
    }
done:
    return rc;
}

static ovl_err parse_table(ovl_policy *p, pctx *c, json_t *t)
{
    ovl_err rc = OVL_OK;
    static const char *const known[] = {"name", "source", "file", "allow_query", "columns", NULL};
    static const char *const req[] = {"name", "columns", NULL};
    OVL_TRY(check_keys(c, "table", t, known, req));
    OVL_TRY(get_name(&p->table_name, c, "table.name", json_object_get(t, "name")));
    /* "file" is what table.source was called before databases could be named. */
    OVL_ENSURE(!(json_object_get(t, "source") && json_object_get(t, "file")), OVL_ERR_INPUT,
               "%s: table: give table.source or its old name table.file, not both", c->label);
    if (json_object_get(t, "source"))
        OVL_TRY(get_source(&p->table_source, c, "table.source", json_object_get(t, "source")));
    if (json_object_get(t, "file"))
        OVL_TRY(get_source(&p->table_source, c, "table.file", json_object_get(t, "file")));
    p->allow_query = true;
    if (json_object_get(t, "allow_query"))
        OVL_TRY(get_bool(&p->allow_query, c, "table.allow_query", json_object_get(t, "allow_query")));
    OVL_TRY(get_strlist(&p->columns, c, "table.columns", json_object_get(t, "columns"), 'n'));
    OVL_ENSURE(p->columns.n > 0, OVL_ERR_INPUT, "%s: table.columns: must list the table's columns",
               c->label);
    c->columns = &p->columns;
done:
    return rc;
}

static ovl_err parse_join(ovl_policy *p, const pctx *c, json_t *v)
{
    ovl_err rc = OVL_OK;
    static const char *const known[] = {"column", "normalize", "prehashed", NULL};
    static const char *const req[] = {"column", "normalize", NULL};
    char path[64];
    size_t i;
    json_t *it;
    OVL_ENSURE(json_is_array(v) && json_array_size(v) <= OVL_POLICY_MAX_LIST, OVL_ERR_INPUT,
               "%s: join: must be a list of at most %u join columns", c->label,
               OVL_POLICY_MAX_LIST);
    OVL_TRY(ovl_calloc((void **)&p->join, json_array_size(v) + 1, sizeof *p->join));
    json_array_foreach (v, i, it) {
        ovl_policy_join *j = &p->join[p->njoin++];
        snprintf(path, sizeof path, "join[%zu]", i);
        OVL_TRY(check_keys(c, path, it, known, req));
        snprintf(path, sizeof path, "join[%zu].column", i);
        OVL_TRY(get_name(&j->column, c, path, json_object_get(it, "column")));
        OVL_ENSURE(ovl_strlist_has(c->columns, j->column), OVL_ERR_INPUT,
                   "%s: %s: '%.64s' is not a column of table.columns", c->label, path, j->column);
        OVL_ENSURE(ovl_policy_join_find(p, j->column) == j, OVL_ERR_INPUT,
                   "%s: %s: '%.64s' is listed twice", c->label, path, j->column);
        snprintf(path, sizeof path, "join[%zu].normalize", i);
        json_t *n = json_object_get(it, "normalize");
        OVL_ENSURE(json_is_string(n) && ovl_norm_parse(&j->norm, json_string_value(n)) == OVL_OK,
                   OVL_ERR_INPUT, "%s: %s: must be \"email\", \"phone\" or \"none\"", c->label,
                   path);
        snprintf(path, sizeof path, "join[%zu].prehashed", i);
        if (json_object_get(it, "prehashed"))
            OVL_TRY(get_bool(&j->prehashed, c, path, json_object_get(it, "prehashed")));
    }
done:
    return rc;
}

static ovl_err parse_peers(ovl_policy *p, const pctx *c, json_t *v)
{
    ovl_err rc = OVL_OK;
    static const char *const known[] = {"name", "fingerprint", NULL};
    char path[64];
    size_t i;
    json_t *it;
    OVL_ENSURE(json_is_array(v) && json_array_size(v) <= OVL_POLICY_MAX_LIST, OVL_ERR_INPUT,
               "%s: peers: must be a list of at most %u peers", c->label, OVL_POLICY_MAX_LIST);
    OVL_TRY(ovl_calloc((void **)&p->peers, json_array_size(v) + 1, sizeof *p->peers));
    json_array_foreach (v, i, it) {
        ovl_policy_peer *pe = &p->peers[p->npeers++];
        snprintf(path, sizeof path, "peers[%zu]", i);
        OVL_TRY(check_keys(c, path, it, known, known));
        snprintf(path, sizeof path, "peers[%zu].name", i);
        OVL_TRY(get_name(&pe->name, c, path, json_object_get(it, "name")));
        snprintf(path, sizeof path, "peers[%zu].fingerprint", i);
        json_t *f = json_object_get(it, "fingerprint");
        OVL_ENSURE(json_is_string(f) && fpr_ok(json_string_value(f)), OVL_ERR_INPUT,
                   "%s: %s: must be a key fingerprint \"SHA256:<64 lowercase hex>\" "
                   "(see overlap fingerprint)", c->label, path);
        memcpy(pe->fpr, json_string_value(f), OVL_FPR_LEN);
        OVL_ENSURE(ovl_policy_peer_find(p, pe->fpr) == pe, OVL_ERR_INPUT,
                   "%s: %s: listed twice", c->label, path);
    }
done:
    return rc;
}

static ovl_err parse_list(ovl_policy *p, const pctx *c, json_t *v)
{
    ovl_err rc = OVL_OK;
    static const char *const known[] = {"allowed", "columns", "receivers", NULL};
    OVL_TRY(check_keys(c, "list", v, known, known));
    OVL_TRY(get_bool(&p->list.allowed, c, "list.allowed", json_object_get(v, "allowed")));
    OVL_TRY(get_strlist(&p->list.columns, c, "list.columns", json_object_get(v, "columns"), 'c'));
    OVL_TRY(get_strlist(&p->list.receivers, c, "list.receivers",
                        json_object_get(v, "receivers"), 'f'));
done:
    return rc;
}

static ovl_err parse_functions(ovl_policy *p, const pctx *c, json_t *v)
{
    ovl_err rc = OVL_OK;
    ovl_strlist l = {0};
    OVL_TRY(get_strlist(&l, c, "aggregation.functions", v, 'n'));
    for (size_t i = 0; i < l.n; i++) {
        const ovl_aggfn_kind *k = ovl_aggfn_by_keyword(l.items[i]);
        unsigned f = k ? (unsigned)k->fn : 0;
        OVL_ENSURE(f != 0, OVL_ERR_INPUT,
                   "%s: aggregation.functions[%zu]: must be COUNT, COUNT_DISTINCT, SUM or AVG",
                   c->label, i);
        p->aggregation.functions |= f;
    }
done:
    strlist_free(&l);
    return rc;
}

/* An optional integer key of obj: its default when absent. */
static ovl_err get_opt_u32(uint32_t *out, const pctx *c, const char *path, json_t *obj,
                           const char *key, uint32_t lo, uint32_t hi, uint32_t dflt)
{
    uint64_t v = dflt;
    json_t *j = json_object_get(obj, key);
    if (j) {
        ovl_err rc = get_uint(&v, c, path, j, lo, hi);
        if (rc != OVL_OK)
            return rc;
    }
    *out = (uint32_t)v;
    return OVL_OK;
}

unsigned ovl_count_bits_of(uint32_t max_rows_per_identifier)
{
    unsigned w = 0;
    for (uint32_t m = max_rows_per_identifier; m; m >>= 1)
        w++;
    return w ? w : 1;
}

unsigned ovl_policy_count_bits(const ovl_policy *p)
{
    return ovl_count_bits_of(p ? p->aggregation.max_rows_per_identifier
                               : OVL_MAX_ROWS_PER_ID_DEFAULT);
}

unsigned ovl_policy_value_bits(const ovl_policy *p)
{
    return p ? p->aggregation.value_bits : OVL_VALUE_BITS_DEFAULT;
}

uint32_t ovl_policy_max_cells(const ovl_policy *p)
{
    return p ? p->aggregation.max_cells : OVL_MAX_CELLS_DEFAULT;
}

static ovl_err parse_aggregation(ovl_policy *p, const pctx *c, json_t *v)
{
    ovl_err rc = OVL_OK;
    static const char *const known[] = {"adhoc", "functions", "dimensions", "aggregates",
                                        "min_rows", "receivers", "allow_cardinality",
                                        "join_conditions", "max_cells",
                                        "max_rows_per_identifier", "value_bits", NULL};
    /* Every key but the optional last four is required. */
    static const char *const required[] = {"adhoc", "functions", "dimensions", "aggregates",
                                           "min_rows", "receivers", "allow_cardinality", NULL};
    OVL_TRY(check_keys(c, "aggregation", v, known, required));
    OVL_TRY(get_bool(&p->aggregation.adhoc, c, "aggregation.adhoc", json_object_get(v, "adhoc")));
    OVL_TRY(parse_functions(p, c, json_object_get(v, "functions")));
    OVL_TRY(get_strlist(&p->aggregation.dimensions, c, "aggregation.dimensions",
                        json_object_get(v, "dimensions"), 'c'));
    OVL_TRY(get_strlist(&p->aggregation.aggregates, c, "aggregation.aggregates",
                        json_object_get(v, "aggregates"), 'c'));
    OVL_TRY(get_uint(&p->aggregation.min_rows, c, "aggregation.min_rows",
                     json_object_get(v, "min_rows"), OVL_MIN_ROWS_LO, OVL_MIN_ROWS_HI));
    OVL_TRY(get_strlist(&p->aggregation.receivers, c, "aggregation.receivers",
                        json_object_get(v, "receivers"), 'f'));
    OVL_TRY(get_bool(&p->aggregation.allow_cardinality, c, "aggregation.allow_cardinality",
                     json_object_get(v, "allow_cardinality")));
    if (json_object_get(v, "join_conditions"))
        OVL_TRY(get_strlist(&p->aggregation.join_conditions, c, "aggregation.join_conditions",
                            json_object_get(v, "join_conditions"), 'c'));
    OVL_TRY(get_opt_u32(&p->aggregation.max_cells, c, "aggregation.max_cells", v, "max_cells", 1,
                        OVL_MAX_CELLS_HI, OVL_MAX_CELLS_DEFAULT));
    OVL_TRY(get_opt_u32(&p->aggregation.max_rows_per_identifier, c,
                        "aggregation.max_rows_per_identifier", v, "max_rows_per_identifier", 1,
                        OVL_MAX_ROWS_PER_ID_HI, OVL_MAX_ROWS_PER_ID_DEFAULT));
    OVL_TRY(get_opt_u32(&p->aggregation.value_bits, c, "aggregation.value_bits", v, "value_bits",
                        OVL_VALUE_BITS_LO, OVL_VALUE_BITS_HI, OVL_VALUE_BITS_DEFAULT));
done:
    return rc;
}

static ovl_err parse_custom(ovl_policy *p, const pctx *c, json_t *v)
{
    ovl_err rc = OVL_OK;
    static const char *const known[] = {"templates", NULL};
    static const char *const tknown[] = {"name", "sha256", NULL};
    char path[64];
    size_t i;
    json_t *it, *arr;
    OVL_TRY(check_keys(c, "custom", v, known, known));
    arr = json_object_get(v, "templates");
    OVL_ENSURE(json_is_array(arr) && json_array_size(arr) <= OVL_POLICY_MAX_LIST, OVL_ERR_INPUT,
               "%s: custom.templates: must be a list of at most %u templates", c->label,
               OVL_POLICY_MAX_LIST);
    OVL_TRY(ovl_calloc((void **)&p->templates, json_array_size(arr) + 1, sizeof *p->templates));
    json_array_foreach (arr, i, it) {
        ovl_policy_template *t = &p->templates[p->ntemplates++];
        snprintf(path, sizeof path, "custom.templates[%zu]", i);
        OVL_TRY(check_keys(c, path, it, tknown, tknown));
        snprintf(path, sizeof path, "custom.templates[%zu].name", i);
        OVL_TRY(get_name(&t->name, c, path, json_object_get(it, "name")));
        snprintf(path, sizeof path, "custom.templates[%zu].sha256", i);
        json_t *h = json_object_get(it, "sha256");
        OVL_ENSURE(json_is_string(h) &&
                       ovl_hex_decode(t->hash, OVL_HASH_LEN, json_string_value(h),
                                      json_string_length(h)) == OVL_OK,
                   OVL_ERR_INPUT, "%s: %s: must be 64 hex digits (from overlap template hash)",
                   c->label, path);
    }
done:
    return rc;
}

static ovl_err parse_budget(ovl_policy *p, const pctx *c, json_t *v)
{
    ovl_err rc = OVL_OK;
    static const char *const known[] = {"runs_per_day", "runs_per_template_per_day", NULL};
    OVL_TRY(check_keys(c, "budget", v, known, known));
    OVL_TRY(get_uint(&p->runs_per_day, c, "budget.runs_per_day",
                     json_object_get(v, "runs_per_day"), 1, OVL_BUDGET_MAX));
    OVL_TRY(get_uint(&p->runs_per_template_per_day, c, "budget.runs_per_template_per_day",
                     json_object_get(v, "runs_per_template_per_day"), 1, OVL_BUDGET_MAX));
    p->has_budget = true;
done:
    return rc;
}

static ovl_err parse_root(ovl_policy *p, pctx *c, json_t *root)
{
    ovl_err rc = OVL_OK;
    static const char *const known[] = {"version", "table", "join", "peers", "list",
                                        "aggregation", "custom", "budget", "differencing",
                                        NULL};
    static const char *const req[] = {"version", "table", "join", "peers", "list",
                                      "aggregation", "custom", NULL};
    static const char *const dknown[] = {"refuse_small_differences", NULL};
    uint64_t version;
    OVL_ENSURE(json_is_object(root), OVL_ERR_INPUT, "%s: must be a JSON object", c->label);
    OVL_TRY(check_keys(c, "", root, known, req));
    OVL_TRY(get_uint(&version, c, "version", json_object_get(root, "version"), 1, 1));
    OVL_TRY(parse_table(p, c, json_object_get(root, "table")));
    OVL_TRY(parse_join(p, c, json_object_get(root, "join")));
    OVL_TRY(parse_peers(p, c, json_object_get(root, "peers")));
    OVL_TRY(parse_list(p, c, json_object_get(root, "list")));
    OVL_TRY(parse_aggregation(p, c, json_object_get(root, "aggregation")));
    OVL_TRY(parse_custom(p, c, json_object_get(root, "custom")));
    if (json_object_get(root, "budget"))
        OVL_TRY(parse_budget(p, c, json_object_get(root, "budget")));
    json_t *d = json_object_get(root, "differencing");
    if (d) {
        OVL_TRY(check_keys(c, "differencing", d, dknown, dknown));
        OVL_TRY(get_bool(&p->refuse_small_differences, c,
                         "differencing.refuse_small_differences",
                         json_object_get(d, "refuse_small_differences")));
    }
done:
    return rc;
}

ovl_err ovl_policy_parse(ovl_policy **out, const char *label, const char *text, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_policy *p = NULL;
    json_t *root = NULL;
    json_error_t jerr;
    pctx c = {label, NULL};
    *out = NULL;
    OVL_ENSURE(len <= OVL_POLICY_MAX_BYTES, OVL_ERR_INPUT, "%s: larger than %u bytes", label,
               OVL_POLICY_MAX_BYTES);
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    OVL_ENSURE(root != NULL, OVL_ERR_INPUT, "%s:%d:%d: %s", label, jerr.line, jerr.column,
               jerr.text);
    OVL_TRY(ovl_calloc((void **)&p, 1, sizeof *p));
    p->label = strdup(label);
    OVL_ENSURE(p->label != NULL, OVL_ERR_NOMEM, "out of memory");
    OVL_TRY(parse_root(p, &c, root));
    *out = p;
    p = NULL;
done:
    json_decref(root);
    ovl_policy_free(p);
    return rc;
}

ovl_err ovl_policy_load(ovl_policy **out, const char *path)
{
    ovl_err rc = OVL_OK;
    FILE *f = NULL;
    char *text = NULL;
    size_t n = 0;
    *out = NULL;
    f = fopen(path, "rb");
    OVL_ENSURE(f != NULL, OVL_ERR_INPUT, "%s: cannot open policy file", path);
    OVL_TRY(ovl_calloc((void **)&text, OVL_POLICY_MAX_BYTES + 1, 1));
    n = fread(text, 1, OVL_POLICY_MAX_BYTES + 1, f);
    OVL_ENSURE(!ferror(f), OVL_ERR_IO, "%s: read failed", path);
    OVL_ENSURE(n <= OVL_POLICY_MAX_BYTES, OVL_ERR_INPUT, "%s: larger than %u bytes", path,
               OVL_POLICY_MAX_BYTES);
    OVL_TRY(ovl_policy_parse(out, path, text, n));
    /* Refusals name the policy and reach the partner: the file's name, not
     * where it lives on this machine. */
    const char *base = strrchr(path, '/');
    if (base != NULL) {
        char *label = strdup(base + 1);
        OVL_ENSURE(label != NULL, OVL_ERR_NOMEM, "out of memory");
        free((*out)->label);
        (*out)->label = label;
    }
done:
    if (f)
        fclose(f);
    free(text);
    if (rc != OVL_OK) {
        ovl_policy_free(*out);
        *out = NULL;
    }
    return rc;
}

void ovl_policy_free(ovl_policy *p)
{
    if (!p)
        return;
    free(p->label);
    free(p->table_name);
    free(p->table_source);
    strlist_free(&p->columns);
    for (size_t i = 0; i < p->njoin; i++)
        free(p->join[i].column);
    free(p->join);
    for (size_t i = 0; i < p->npeers; i++)
        free(p->peers[i].name);
    free(p->peers);
    strlist_free(&p->list.columns);
    strlist_free(&p->list.receivers);
    strlist_free(&p->aggregation.dimensions);
    strlist_free(&p->aggregation.aggregates);
    strlist_free(&p->aggregation.receivers);
    strlist_free(&p->aggregation.join_conditions);
    for (size_t i = 0; i < p->ntemplates; i++)
        free(p->templates[i].name);
    free(p->templates);
    free(p);
}

const ovl_policy_peer *ovl_policy_peer_find(const ovl_policy *p, const char *fpr)
{
    for (size_t i = 0; i < p->npeers; i++)
        if (strcmp(p->peers[i].fpr, fpr) == 0)
            return &p->peers[i];
    return NULL;
}

const ovl_policy_join *ovl_policy_join_find(const ovl_policy *p, const char *column)
{
    for (size_t i = 0; i < p->njoin; i++)
        if (p->join[i].column && strcmp(p->join[i].column, column) == 0)
            return &p->join[i];
    return NULL;
}

const char *ovl_policy_template_find(const ovl_policy *p, const uint8_t hash[OVL_HASH_LEN])
{
    for (size_t i = 0; i < p->ntemplates; i++)
        if (memcmp(p->templates[i].hash, hash, OVL_HASH_LEN) == 0)
            return p->templates[i].name;
    return NULL;
}

/* ---- skeleton ---- */

static ovl_err dump(char **out, json_t *root)
{
    if (!root)
        return ovl_err_set(OVL_ERR_NOMEM, "out of memory");
    *out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return *out ? OVL_OK : ovl_err_set(OVL_ERR_NOMEM, "out of memory");
}

ovl_err ovl_policy_check_query(const ovl_policy *p, const char *query)
{
    if (query == NULL || p->allow_query)
        return OVL_OK;
    return ovl_err_set(OVL_ERR_POLICY, "%s: table.allow_query is false: rows must come from a "
                       "named table (?table=NAME), not --query", p->label);
}

ovl_err ovl_policy_skeleton(char **out, const char *table_name, const char *table_source,
                            const char *const *columns, size_t ncolumns)
{
    json_t *cols = json_array();
    for (size_t i = 0; cols && i < ncolumns; i++)
        json_array_append_new(cols, json_string(columns[i]));
    json_t *table = json_pack("{s:s}", "name", table_name);
    char *shown = table_source ? ovl_spec_redact(table_source) : NULL;
    if (table && shown)
        json_object_set_new(table, "source", json_string(shown));
    free(shown);
    if (table && cols)
        json_object_set_new(table, "columns", cols);
    json_t *root = json_pack(
        "{s:i, s:o, s:[], s:[], s:{s:b, s:[], s:[]}, "
        "s:{s:b, s:[], s:[], s:[], s:i, s:[], s:b, s:i, s:i, s:i}, s:{s:[]}, s:{s:i, s:i}, "
        "s:{s:b}}",
        "version", 1, "table", table, "join", "peers", "list", "allowed", 0, "columns",
        "receivers", "aggregation", "adhoc", 0, "functions", "dimensions", "aggregates",
        "min_rows", 100, "receivers", "allow_cardinality", 0, "max_cells",
        (int)OVL_MAX_CELLS_DEFAULT, "max_rows_per_identifier", (int)OVL_MAX_ROWS_PER_ID_DEFAULT,
        "value_bits", (int)OVL_VALUE_BITS_DEFAULT, "custom", "templates", "budget",
        "runs_per_day", 20, "runs_per_template_per_day", 5, "differencing",
        "refuse_small_differences", 1);
    return dump(out, root);
}

/* ---- explanation ---- */

typedef struct {
    char *p;
    size_t len, cap;
    bool oom;
} sbuf;

static void sb_add(sbuf *s, const char *fmt, ...) OVL_PRINTF(2, 3);
static void sb_add(sbuf *s, const char *fmt, ...)
{
    va_list ap;
    if (s->oom)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || s->len + (size_t)n + 1 > s->cap) {
        size_t cap = (s->cap + (size_t)(n < 0 ? 0 : n) + 1) * 2;
        char *q = n < 0 ? NULL : realloc(s->p, cap);
        if (!q) {
            s->oom = true;
            return;
        }
        s->p = q;
        s->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(s->p + s->len, s->cap - s->len, fmt, ap);
    va_end(ap);
    s->len += (size_t)n;
}

static void sb_list(sbuf *s, const ovl_strlist *l, const char *none)
{
    if (l->n == 0)
        sb_add(s, "%s", none);
    for (size_t i = 0; i < l->n; i++)
        sb_add(s, "%s%s", i ? ", " : "", l->items[i]);
}

static void sb_receivers(sbuf *s, const ovl_policy *p, const ovl_strlist *l)
{
    if (l->n == 0)
        sb_add(s, "no peer (only this owner)");
    for (size_t i = 0; i < l->n; i++) {
        const ovl_policy_peer *pe = ovl_policy_peer_find(p, l->items[i]);
        sb_add(s, "%s%s (%.15s...)", i ? ", " : "", pe ? pe->name : "unlisted peer",
               l->items[i]);
    }
}

static void explain_aggregation(sbuf *s, const ovl_policy *p)
{
    sb_add(s, "Aggregates (ad-hoc %s, or from approved templates):\n",
           p->aggregation.adhoc ? "allowed" : "refused");
    sb_add(s, "  functions: ");
    if (!p->aggregation.functions)
        sb_add(s, "none, so no aggregate can run");
    for (size_t i = 0, k = 0; i < ovl_naggfn_kinds; i++)
        if (p->aggregation.functions & (unsigned)ovl_aggfn_kinds[i].fn)
            sb_add(s, "%s%s", k++ ? ", " : "", ovl_aggfn_kinds[i].keyword);
    sb_add(s, "\n  group by / filter on: ");
    sb_list(s, &p->aggregation.dimensions, "no column");
    sb_add(s, "\n  sum / average over: ");
    sb_list(s, &p->aggregation.aggregates, "no column");
    sb_add(s, "\n  cells with fewer than %llu distinct identifiers are suppressed\n  results may go to: ",
           (unsigned long long)p->aggregation.min_rows);
    sb_receivers(s, p, &p->aggregation.receivers);
    sb_add(s, "\n  the number of shared identifiers may %sbe revealed\n",
           p->aggregation.allow_cardinality ? "" : "not ");
    sb_add(s, "  compared with the partner's columns on each joined row: ");
    sb_list(s, &p->aggregation.join_conditions, "no column");
    sb_add(s, "\n  at most %u cells (runner groups x contributor groups) per run; at most %u "
              "rows of one identifier in one group (count width %u bits); sums of one "
              "identifier in one group below 2^%u\n",
           (unsigned)p->aggregation.max_cells, (unsigned)p->aggregation.max_rows_per_identifier,
           ovl_policy_count_bits(p), (unsigned)p->aggregation.value_bits - 1);
}

static void explain_rest(sbuf *s, const ovl_policy *p)
{
    sb_add(s, "Approved templates:%s\n", p->ntemplates ? "" : " none");
    for (size_t i = 0; i < p->ntemplates; i++) {
        char hex[2 * OVL_HASH_LEN + 1];
        ovl_hex_encode(hex, p->templates[i].hash, OVL_HASH_LEN);
        sb_add(s, "  %s (%s)\n", p->templates[i].name, hex);
    }
    if (p->has_budget)
        sb_add(s, "Budget: each peer may run at most %llu analyses per 24 hours, at most %llu "
                  "of any one analysis.\n",
               (unsigned long long)p->runs_per_day,
               (unsigned long long)p->runs_per_template_per_day);
    else
        sb_add(s, "Budget: none (peers may run allowed analyses without limit).\n");
    sb_add(s, "Differencing: %s\n",
           p->refuse_small_differences
               ? "a run whose input set differs from an earlier run of the same analysis with "
                 "the same peer by fewer than min_rows identifiers is refused."
               : "not checked.");
}

ovl_err ovl_policy_explain(char **out, const ovl_policy *p)
{
    sbuf s = {0};
    sb_add(&s, "Policy %s for table %s%s%s%s.\n", p->label, p->table_name,
           p->table_source ? " (" : "", p->table_source ? p->table_source : "",
           p->table_source ? ")" : "");
    if (!p->allow_query)
        sb_add(&s, "Rows come from the named table only (--query is refused).\n");
    sb_add(&s, "Peers allowed to connect:%s\n", p->npeers ? "" : " none, so every session is refused");
    for (size_t i = 0; i < p->npeers; i++)
        sb_add(&s, "  %s %s\n", p->peers[i].name, p->peers[i].fpr);
    sb_add(&s, "Join keys:%s\n", p->njoin ? "" : " none, so nothing can be joined");
    for (size_t i = 0; i < p->njoin; i++)
        sb_add(&s, "  %s, normalised as %s%s\n", p->join[i].column, ovl_norm_name(p->join[i].norm),
               p->join[i].prehashed ? ", already hashed" : "");
    if (p->list.allowed) {
        sb_add(&s, "Intersection (row-level) runs: allowed; the partner's output may contain: ");
        sb_list(&s, &p->list.columns, "none of this table's columns");
        sb_add(&s, "; output may go to: ");
        sb_receivers(&s, p, &p->list.receivers);
        sb_add(&s, "\n");
    } else {
        sb_add(&s, "Intersection (row-level) runs: refused.\n");
    }
    explain_aggregation(&s, p);
    explain_rest(&s, p);
    if (s.oom) {
        free(s.p);
        return ovl_err_set(OVL_ERR_NOMEM, "out of memory");
    }
    *out = s.p;
    return OVL_OK;
}
