/* overlap: the tables of analysis kinds (kinds.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/kinds.h"

#define OVL_COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

const ovl_role_kind ovl_role_kinds[] = {
    {OVL_ROLE_LISTENER, "listener"},
    {OVL_ROLE_CONNECTOR, "connector"},
};

const ovl_mode_kind ovl_mode_kinds[] = {
    {OVL_MODE_INTERSECTION, "intersection", "list", false, false},
    {OVL_MODE_CARDINALITY, "cardinality", "aggregation", true, false},
    {OVL_MODE_AGGREGATE, "aggregate", "aggregation", false, true},
};

const ovl_reveal_kind ovl_reveal_kinds[] = {
    {OVL_REVEAL_BOTH, "both", true, true},
    {OVL_REVEAL_LISTENER, "listener", true, false},
    {OVL_REVEAL_CONNECTOR, "connector", false, true},
};

const ovl_aggfn_kind ovl_aggfn_kinds[] = {
    {OVL_FN_COUNT, "COUNT", "COUNT", OVL_AGG_ARG_STAR, "count", OVL_REDUCE_ROWS},
    {OVL_FN_COUNT_DISTINCT, "COUNT_DISTINCT", "COUNT", OVL_AGG_ARG_DISTINCT, "count_distinct",
     OVL_REDUCE_IDENTIFIERS},
    {OVL_FN_SUM, "SUM", "SUM", OVL_AGG_ARG_VALUE, "sum", OVL_REDUCE_SUM},
    {OVL_FN_AVG, "AVG", "AVG", OVL_AGG_ARG_VALUE, "avg", OVL_REDUCE_MEAN},
};

const size_t ovl_nrole_kinds = OVL_COUNT_OF(ovl_role_kinds);
const size_t ovl_nmode_kinds = OVL_COUNT_OF(ovl_mode_kinds);
const size_t ovl_nreveal_kinds = OVL_COUNT_OF(ovl_reveal_kinds);
const size_t ovl_naggfn_kinds = OVL_COUNT_OF(ovl_aggfn_kinds);

const ovl_mode_kind *ovl_mode_kind_of(unsigned mode)
{
    for (size_t i = 0; i < ovl_nmode_kinds; i++)
        if ((unsigned)ovl_mode_kinds[i].mode == mode)
            return &ovl_mode_kinds[i];
    return NULL;
}

const ovl_reveal_kind *ovl_reveal_kind_of(unsigned reveal)
{
    for (size_t i = 0; i < ovl_nreveal_kinds; i++)
        if ((unsigned)ovl_reveal_kinds[i].reveal == reveal)
            return &ovl_reveal_kinds[i];
    return NULL;
}

const ovl_aggfn_kind *ovl_aggfn_kind_of(unsigned fn)
{
    for (size_t i = 0; i < ovl_naggfn_kinds; i++)
        if ((unsigned)ovl_aggfn_kinds[i].fn == fn)
            return &ovl_aggfn_kinds[i];
    return NULL;
}

const ovl_aggfn_kind *ovl_aggfn_by_call(const char *call)
{
    for (size_t i = 0; i < ovl_naggfn_kinds; i++)
        if (strcasecmp(ovl_aggfn_kinds[i].call, call) == 0)
            return &ovl_aggfn_kinds[i];
    return NULL;
}

const ovl_aggfn_kind *ovl_aggfn_by_keyword(const char *keyword)
{
    for (size_t i = 0; i < ovl_naggfn_kinds; i++)
        if (strcmp(ovl_aggfn_kinds[i].keyword, keyword) == 0)
            return &ovl_aggfn_kinds[i];
    return NULL;
}

const char *ovl_role_name(ovl_role r)
{
    for (size_t i = 0; i < ovl_nrole_kinds; i++)
        if (ovl_role_kinds[i].role == r)
            return ovl_role_kinds[i].name;
    return "unknown";
}

const char *ovl_mode_name(ovl_mode m)
{
    const ovl_mode_kind *k = ovl_mode_kind_of((unsigned)m);
    return k ? k->name : "unknown";
}

const char *ovl_reveal_name(ovl_reveal r)
{
    const ovl_reveal_kind *k = ovl_reveal_kind_of((unsigned)r);
    return k ? k->name : "unknown";
}

const char *ovl_aggfn_name(ovl_aggfn f)
{
    const ovl_aggfn_kind *k = ovl_aggfn_kind_of((unsigned)f);
    return k ? k->keyword : "?";
}

/* "a, b or c" of a table's names, for usage errors. */
static void kinds_list(char *out, size_t cap, const char *const *names, size_t n)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && o < cap; i++) {
        const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
        int w = snprintf(out + o, cap - o, "%s%s", sep, names[i]);
        o += w > 0 ? (size_t)w : 0;
    }
}

ovl_err ovl_mode_parse(ovl_mode *out, const char *s)
{
    const char *names[8];
    char list[128];
    for (size_t i = 0; i < ovl_nmode_kinds; i++) {
        if (strcmp(s, ovl_mode_kinds[i].name) == 0) {
            *out = ovl_mode_kinds[i].mode;
            return OVL_OK;
        }
        names[i] = ovl_mode_kinds[i].name;
    }
    kinds_list(list, sizeof list, names, ovl_nmode_kinds);
    return ovl_err_set(OVL_ERR_USAGE, "unknown --mode '%s' (expected %s)", s, list);
}

ovl_err ovl_reveal_parse(ovl_reveal *out, const char *s)
{
    const char *names[8];
    char list[128];
    for (size_t i = 0; i < ovl_nreveal_kinds; i++) {
        if (strcmp(s, ovl_reveal_kinds[i].name) == 0) {
            *out = ovl_reveal_kinds[i].reveal;
            return OVL_OK;
        }
        names[i] = ovl_reveal_kinds[i].name;
    }
    kinds_list(list, sizeof list, names, ovl_nreveal_kinds);
    return ovl_err_set(OVL_ERR_USAGE, "unknown --reveal '%s' (expected %s)", s, list);
}

bool ovl_reveal_includes(ovl_reveal reveal, ovl_role role)
{
    const ovl_reveal_kind *k = ovl_reveal_kind_of((unsigned)reveal);
    if (k == NULL)
        return false;
    if (role == OVL_ROLE_LISTENER)
        return k->to_listener;
    return role == OVL_ROLE_CONNECTOR && k->to_connector;
}

bool ovl_mode_reveals_size(ovl_mode m)
{
    const ovl_mode_kind *k = ovl_mode_kind_of((unsigned)m);
    return k != NULL && k->reveals_size;
}

bool ovl_mode_aggregates(ovl_mode m)
{
    const ovl_mode_kind *k = ovl_mode_kind_of((unsigned)m);
    return k != NULL && k->aggregates;
}

bool ovl_aggfn_reads_values(ovl_aggfn f)
{
    const ovl_aggfn_kind *k = ovl_aggfn_kind_of((unsigned)f);
    return k != NULL && k->arg == OVL_AGG_ARG_VALUE;
}
