/* What the circuit-PSI unit tests (test_cpsi, test_cpsi_bits) share: a
 * party's identifiers with their payload words and bit counts, the runner
 * and the contributor engines run against each other through the two-engine
 * harness, and the look-up the ideal functionality needs. Each test keeps
 * its own identifiers, payloads and configurations. */
#ifndef OVL_CPSI_FIXTURE_H
#define OVL_CPSI_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpsi/cpsi.h"
#include "psi_harness.h"
#include "test.h"

typedef struct {
    size_t n;
    uint8_t **ids;
    size_t *len;
    uint64_t *payload; /* n × words */
    uint16_t *counts;  /* n × groups; NULL without a bit payload */
} cf_set;

/* Room for n identifiers, with `words` payload slots and `groups` count
 * slots (none: NULL counts) each; one spare entry so that n = 0 allocates. */
static inline void cf_set_alloc(cf_set *s, size_t n, size_t words, size_t groups)
{
    s->n = n;
    s->ids = calloc(n + 1, sizeof *s->ids);
    s->len = calloc(n + 1, sizeof *s->len);
    s->payload = calloc((n + 1) * words, sizeof *s->payload);
    s->counts = groups ? calloc((n + 1) * groups, sizeof *s->counts) : NULL;
}

/* Identifier i is "<prefix><k>". */
static inline void cf_set_id(cf_set *s, size_t i, const char *prefix, size_t k)
{
    char buf[32];
    int l = snprintf(buf, sizeof buf, "%s%zu", prefix, k);
    s->ids[i] = malloc((size_t)l);
    memcpy(s->ids[i], buf, (size_t)l);
    s->len[i] = (size_t)l;
}

static inline void cf_set_free(cf_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->ids[i]);
    free(s->ids);
    free(s->len);
    free(s->payload);
    free(s->counts);
}

/* Index of an identifier in the set, or -1. */
static inline long cf_set_find(const cf_set *s, const uint8_t *id, size_t len)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->len[i] == len && memcmp(s->ids[i], id, len) == 0)
            return (long)i;
    return -1;
}

typedef struct {
    ovl_cpsi *r, *c;
    hx_side side[2]; /* side 0: the listener */
} cf_run;

/* The runner's engine from `a`, the contributor's from `b`, the runner on the
 * listener side unless r_connects, run through the harness with the tamper
 * hook t. True when both completed. */
static inline bool cf_run_configs(cf_run *x, const ovl_cpsi_config *a, const ovl_cpsi_config *b,
                                  bool r_connects, hx_tamper t, void *arg)
{
    memset(x, 0, sizeof *x);
    EXPECT_OK(ovl_cpsi_new(&x->r, a));
    EXPECT_OK(ovl_cpsi_new(&x->c, b));
    if (x->r == NULL || x->c == NULL)
        return false;
    hx_init(&x->side[r_connects ? 1 : 0], &ovl_cpsi_ops, x->r);
    hx_init(&x->side[r_connects ? 0 : 1], &ovl_cpsi_ops, x->c);
    hx_run(&x->side[0], &x->side[1], t, arg);
    return x->side[0].rc == OVL_OK && x->side[1].rc == OVL_OK && ovl_cpsi_ops.done(x->r) &&
           ovl_cpsi_ops.done(x->c);
}

static inline void cf_run_free(cf_run *x)
{
    ovl_cpsi_free(x->r);
    ovl_cpsi_free(x->c);
    hx_free(&x->side[0]);
    hx_free(&x->side[1]);
}

#endif
