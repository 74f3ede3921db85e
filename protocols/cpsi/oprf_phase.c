/* overlap: circuit PSI's OPRF frames (SPEC.md §4): four OT instances whose
 * base OTs travel in one OPRF_BASE each way, then the runner's OPRF_U frames,
 * each four WIDE_U messages for the next OVL_CPSI_OPRF_ROWS bins. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "cpsi/state.h"

static size_t frame_rows(const ovl_cpsi *p)
{
    uint32_t left = p->bins - p->u_rows;
    return left < OVL_CPSI_OPRF_ROWS ? left : OVL_CPSI_OPRF_ROWS;
}

uint64_t ovl_cpsi_oprf_bytes(uint64_t n)
{
    uint64_t bins = ovl_cpsi_bins(n), total = 2u * (OVL_FRAME_HDR + OVL_OPRF_BLOCKS *
                                                                    (uint64_t)OVL_OT_BASE_MSG_LEN);
    for (uint64_t b = 0; b < bins; b += OVL_CPSI_OPRF_ROWS) {
        uint64_t k = bins - b < OVL_CPSI_OPRF_ROWS ? bins - b : OVL_CPSI_OPRF_ROWS;
        total += OVL_FRAME_HDR + OVL_OPRF_BLOCKS * (uint64_t)ovl_wide_msg_len((size_t)k);
    }
    return total;
}

ovl_err cpsi_oprf_setup(ovl_cpsi *p)
{
    ovl_err rc = OVL_OK;
    uint8_t key[16];
    ovl_buf msg = {0};
    cpsi_sub_key(key, p, "overlap-cpsi-v2 oprf pi");
    ovl_tweak_space_init(&p->oprf_sp, key);
    cpsi_sub_key(p->code_key, p, OVL_OPRF_CODE_LABEL);
    OVL_TRY(ovl_buf_alloc(&msg, OVL_OPRF_BLOCKS * OVL_OT_BASE_MSG_LEN,
                          OVL_OPRF_BLOCKS * OVL_OT_BASE_MSG_LEN));
    for (unsigned k = 0; k < OVL_OPRF_BLOCKS; k++) {
        /* the contributor's four Δs are the OPRF's key s */
        OVL_TRY(ovl_ot_new(&p->oprf_ot[k], (unsigned)p->cfg.role, NULL, &p->rng, &p->oprf_sp));
        if (!p->cfg.runner)
            p->s[k] = ovl_ot_delta(p->oprf_ot[k]);
        OVL_TRY(ovl_ot_base_write(p->oprf_ot[k], &msg));
    }
    OVL_TRY(cpsi_queue_frame(p, OVL_CPSI_OPRF_BASE, msg.data, ovl_buf_len(&msg)));
done:
    sodium_memzero(key, sizeof key);
    ovl_buf_free(&msg);
    return rc;
}

static void ots_free(ovl_cpsi *p)
{
    for (unsigned k = 0; k < OVL_OPRF_BLOCKS; k++) {
        ovl_ot_free(p->oprf_ot[k]);
        p->oprf_ot[k] = NULL;
    }
}

void cpsi_oprf_free(ovl_cpsi *p)
{
    ots_free(p);
    sodium_memzero(p->s, sizeof p->s);
    sodium_memzero(p->code_key, sizeof p->code_key);
}

ovl_err cpsi_oprf_on_base(ovl_cpsi *p, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_buf in;
    OVL_ENSURE(!p->oprf_base_got, OVL_ERR_PROTOCOL, "the peer sent a second OPRF_BASE");
    OVL_ENSURE(p->oprf_ot[0] != NULL, OVL_ERR_PROTOCOL,
               "OPRF_BASE arrived before SEED (frames out of order)");
    OVL_ENSURE(len == OVL_OPRF_BLOCKS * OVL_OT_BASE_MSG_LEN, OVL_ERR_MALFORMED,
               "OPRF_BASE of %zu bytes, expected %u", len,
               OVL_OPRF_BLOCKS * OVL_OT_BASE_MSG_LEN);
    for (unsigned k = 0; k < OVL_OPRF_BLOCKS; k++) {
        ovl_buf_reader(&in, payload + (size_t)k * OVL_OT_BASE_MSG_LEN, OVL_OT_BASE_MSG_LEN);
        OVL_TRY(ovl_ot_base_read(p->oprf_ot[k], &in));
    }
    p->oprf_base_got = true;
done:
    return rc;
}

/* R: the next frame's rows. Row b's codeword is C(d_b) for the digest of the
 * bin's identifier (a random block in an empty bin); F(b, x_b) = H(b, t_b). */
static ovl_err make_u(ovl_cpsi *p)
{
    ovl_err rc = OVL_OK;
    size_t n = frame_rows(p), mark;
    ovl_block *code = NULL, *c = NULL, *t = NULL;
    ovl_aes kc = {0};
    OVL_TRY(ovl_calloc((void **)&code, n * OVL_OPRF_BLOCKS, sizeof *code));
    OVL_TRY(ovl_calloc((void **)&c, n, sizeof *c));
    OVL_TRY(ovl_calloc((void **)&t, n * OVL_OPRF_BLOCKS, sizeof *t));
    OVL_TRY(ovl_aes_init(&kc, p->code_key));
    OVL_TRY(ovl_oprf_code(&kc, p->bin_d + p->u_rows, n, code));
    cpsi_queue_room(p, OVL_FRAME_HDR + OVL_OPRF_BLOCKS * ovl_wide_msg_len(n));
    OVL_TRY(ovl_frame_begin(&p->q, OVL_CPSI_OPRF_U, &mark));
    for (unsigned k = 0; k < OVL_OPRF_BLOCKS; k++) {
        for (size_t i = 0; i < n; i++)
            c[i] = code[OVL_OPRF_BLOCKS * i + k];
        /* t is written a column of four at a time: row i's block k at 4i + k */
        OVL_TRY(ovl_wide_recv(p->oprf_ot[k], c, n, c, &p->q));
        for (size_t i = 0; i < n; i++)
            t[OVL_OPRF_BLOCKS * i + k] = c[i];
    }
    OVL_TRY(ovl_frame_end(&p->q, mark));
    for (size_t i = 0; i < n; i++)
        ovl_oprf_out(p->fval[p->u_rows + i], p->u_rows + (uint32_t)i, t + OVL_OPRF_BLOCKS * i);
    p->u_rows += (uint32_t)n;
done:
    ovl_aes_free(&kc);
    ovl_free_secret(code, n * OVL_OPRF_BLOCKS * sizeof *code);
    ovl_free_secret(c, n * sizeof *c);
    ovl_free_secret(t, n * OVL_OPRF_BLOCKS * sizeof *t);
    return rc;
}

ovl_err cpsi_oprf_pump(ovl_cpsi *p)
{
    ovl_err rc = OVL_OK;
    if (!p->cfg.runner || !p->oprf_base_got || p->u_rows == p->bins)
        return OVL_OK;
    while (p->u_rows < p->bins && ovl_buf_remaining(&p->q) < CPSI_PUMP_LOW(p))
        OVL_TRY(make_u(p));
    if (p->u_rows == p->bins) {
        cpsi_oprf_free(p);
        OVL_TRY(cpsi_runner_after_final(p));
    }
done:
    return rc;
}

ovl_err cpsi_oprf_on_u(ovl_cpsi *p, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_block *q = NULL;
    ovl_buf in;
    size_t n = 0, one = 0;
    OVL_ENSURE(p->seed_got && p->oprf_base_got, OVL_ERR_PROTOCOL,
               "OPRF_U arrived before %s (frames out of order)",
               p->seed_got ? "the runner's OPRF_BASE" : "SEED");
    OVL_ENSURE(p->u_rows < p->bins, OVL_ERR_PROTOCOL,
               "the runner sent OPRF_U beyond its %u bins", p->bins);
    n = frame_rows(p);
    one = ovl_wide_msg_len(n);
    OVL_ENSURE(len == OVL_OPRF_BLOCKS * one, OVL_ERR_MALFORMED,
               "OPRF_U for bins %u.. carries %zu bytes, expected %zu", p->u_rows, len,
               OVL_OPRF_BLOCKS * one);
    OVL_TRY(ovl_calloc((void **)&q, n, sizeof *q));
    for (unsigned k = 0; k < OVL_OPRF_BLOCKS; k++) {
        ovl_buf_reader(&in, payload + k * one, one);
        OVL_TRY(ovl_wide_send(p->oprf_ot[k], &in, n, q));
        for (size_t i = 0; i < n; i++)
            p->qrows[OVL_OPRF_BLOCKS * ((size_t)p->u_rows + i) + k] = q[i];
    }
    p->u_rows += (uint32_t)n;
    if (p->u_rows == p->bins) {
        ots_free(p); /* s and the code key stay for the store's entries */
        OVL_TRY(cpsi_contrib_oprf_done(p));
    }
done:
    ovl_free_secret(q, n * sizeof *q);
    return rc;
}
