/* Both parties of src/mpc/ot.h in one process: base OTs and COT batches
 * passed between two ovl_ot objects through ovl_buf messages, with an
 * optional tamper hook on each message. Shared by the OT and share tests,
 * the vector generator and the benchmark. */
#ifndef OVL_OT_HARNESS_H
#define OVL_OT_HARNESS_H

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "mpc/ot.h"

typedef struct {
    ovl_rng rng[2];
    ovl_tweak_space sp[2];
    ovl_ot *ot[2];
} ot_pair;

/* Called with each message before delivery; may rewrite it (a buffer of at
 * most 2 MiB). step names it: "base0", "base1", "u", "chal", "proof". */
typedef void (*ot_tamper)(void *arg, const char *step, ovl_buf *msg);

static inline ovl_err ot_msg_new(ovl_buf *b) { return ovl_buf_alloc(b, 256, 2u << 20); }

/* Delivers msg (tampered first) to a reader and calls fn on it. */
#define OT_DELIVER(msg, step, tamper, arg)                                                         \
    do {                                                                                           \
        if (tamper)                                                                                \
            tamper(arg, step, &msg);                                                               \
    } while (0)

/* seed NULL: system randomness. delta0/delta1 may be NULL. */
static inline ovl_err ot_pair_new(ot_pair *p, const uint8_t *seed, const ovl_block *delta0,
                                  const ovl_block *delta1, ot_tamper tamper, void *arg)
{
    ovl_err rc = OVL_OK;
    ovl_buf m[2] = {{0}, {0}};
    memset(p, 0, sizeof *p);
    for (int i = 0; i < 2; i++) {
        if (seed != NULL)
            ovl_rng_init_seeded(&p->rng[i], seed, i == 0 ? "ot party 0" : "ot party 1");
        else
            ovl_rng_init_system(&p->rng[i]);
        ovl_tweak_space_init(&p->sp[i], NULL);
    }
    if ((rc = ovl_ot_new(&p->ot[0], 0, delta0, &p->rng[0], &p->sp[0])) != OVL_OK ||
        (rc = ovl_ot_new(&p->ot[1], 1, delta1, &p->rng[1], &p->sp[1])) != OVL_OK)
        goto out;
    for (int i = 0; i < 2; i++) {
        if ((rc = ot_msg_new(&m[i])) != OVL_OK || (rc = ovl_ot_base_write(p->ot[i], &m[i])) != OVL_OK)
            goto out;
        OT_DELIVER(m[i], i == 0 ? "base0" : "base1", tamper, arg);
    }
    if ((rc = ovl_ot_base_read(p->ot[0], &m[1])) != OVL_OK ||
        (rc = ovl_ot_base_read(p->ot[1], &m[0])) != OVL_OK)
        goto out;
out:
    ovl_buf_free(&m[0]);
    ovl_buf_free(&m[1]);
    return rc;
}

static inline void ot_pair_free(ot_pair *p)
{
    ovl_ot_free(p->ot[0]);
    ovl_ot_free(p->ot[1]);
    p->ot[0] = p->ot[1] = NULL;
}

/* One COT batch with `sender` (0 or 1) as sender; *bs, *br are the two ends. */
static inline ovl_err ot_cot_run(ot_pair *p, unsigned sender, const uint8_t *choices, size_t n,
                                 ovl_cot **bs, ovl_cot **br, ot_tamper tamper, void *arg)
{
    ovl_err rc = OVL_OK;
    ovl_buf u = {0}, chal = {0}, proof = {0};
    *bs = *br = NULL;
    if ((rc = ot_msg_new(&u)) != OVL_OK || (rc = ot_msg_new(&chal)) != OVL_OK ||
        (rc = ot_msg_new(&proof)) != OVL_OK)
        goto out;
    if ((rc = ovl_cot_recv_start(br, p->ot[1 - sender], choices, n, &u)) != OVL_OK)
        goto out;
    OT_DELIVER(u, "u", tamper, arg);
    if ((rc = ovl_cot_send_start(bs, p->ot[sender], &u, &chal)) != OVL_OK)
        goto out;
    OT_DELIVER(chal, "chal", tamper, arg);
    if ((rc = ovl_cot_recv_prove(*br, &chal, &proof)) != OVL_OK)
        goto out;
    OT_DELIVER(proof, "proof", tamper, arg);
    rc = ovl_cot_send_verify(*bs, &proof);
out:
    ovl_buf_free(&u);
    ovl_buf_free(&chal);
    ovl_buf_free(&proof);
    return rc;
}

#endif
