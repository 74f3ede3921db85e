/* The circuit builder (mpc/circuit.h): gates append in order, errors stick. */
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "core/mem.h"
#include "mpc/circuit.h"

void ovl_cb_init(ovl_cb *cb, uint32_t max_gates)
{
    memset(cb, 0, sizeof *cb);
    cb->max_gates = max_gates == 0 || max_gates > OVL_CIRCUIT_MAX_GATES ? OVL_CIRCUIT_MAX_GATES
                                                                         : max_gates;
}

void ovl_cb_free(ovl_cb *cb)
{
    ovl_circuit_free(&cb->c);
    memset(cb, 0, sizeof *cb);
}

static bool cb_fail(ovl_cb *cb, ovl_err e)
{
    if (cb->rc == OVL_OK)
        cb->rc = e;
    return false;
}

uint32_t ovl_cb_input(ovl_cb *cb, uint32_t width)
{
    ovl_circuit *c = &cb->c;
    if (cb->rc != OVL_OK)
        return 0;
    if (c->ngates != 0 || c->nin >= OVL_CIRCUIT_MAX_IO ||
        width > OVL_CIRCUIT_MAX_WIRES - c->nwires) {
        cb_fail(cb, ovl_err_set(OVL_ERR_USAGE, "circuit builder: input %u declared after a gate "
                                               "or beyond the caps", c->nin));
        return 0;
    }
    uint32_t first = c->nwires;
    c->in_width[c->nin++] = width;
    c->in_bits += width;
    c->nwires += width;
    return first;
}

static uint32_t cb_gate(ovl_cb *cb, uint32_t op, uint32_t a, uint32_t b)
{
    ovl_circuit *c = &cb->c;
    if (cb->rc != OVL_OK)
        return 0;
    if (c->ngates >= cb->max_gates || c->nwires >= OVL_CIRCUIT_MAX_WIRES) {
        cb_fail(cb, ovl_err_set(OVL_ERR_LIMIT, "circuit builder: more than %u gates or %u wires",
                                cb->max_gates, OVL_CIRCUIT_MAX_WIRES));
        return 0;
    }
    if ((op != OVL_GATE_CONST && a >= c->nwires) ||
        ((op == OVL_GATE_XOR || op == OVL_GATE_AND) && b >= c->nwires)) {
        cb_fail(cb, ovl_err_set(OVL_ERR_USAGE, "circuit builder: gate %u reads an undefined wire",
                                c->ngates));
        return 0;
    }
    if (c->ngates == cb->gcap) {
        uint32_t ncap = cb->gcap ? cb->gcap * 2 : 256;
        if (ovl_reallocarray((void **)&c->gates, ncap, sizeof *c->gates) != OVL_OK) {
            cb_fail(cb, OVL_ERR_NOMEM);
            return 0;
        }
        cb->gcap = ncap;
    }
    uint32_t out = c->nwires++;
    c->gates[c->ngates++] = (ovl_gate){.a = a, .b = b, .out = out, .op = op};
    c->nand += op == OVL_GATE_AND;
    return out;
}

uint32_t ovl_cb_xor(ovl_cb *cb, uint32_t a, uint32_t b) { return cb_gate(cb, OVL_GATE_XOR, a, b); }
uint32_t ovl_cb_and(ovl_cb *cb, uint32_t a, uint32_t b) { return cb_gate(cb, OVL_GATE_AND, a, b); }
uint32_t ovl_cb_inv(ovl_cb *cb, uint32_t a) { return cb_gate(cb, OVL_GATE_INV, a, 0); }
uint32_t ovl_cb_const(ovl_cb *cb, bool v) { return cb_gate(cb, OVL_GATE_CONST, v ? 1 : 0, 0); }

void ovl_cb_output(ovl_cb *cb, const uint32_t *w, uint32_t width)
{
    ovl_circuit *c = &cb->c;
    if (cb->rc != OVL_OK)
        return;
    if (c->nout >= OVL_CIRCUIT_MAX_IO || width > OVL_CIRCUIT_MAX_WIRES - c->out_bits) {
        cb_fail(cb, ovl_err_set(OVL_ERR_USAGE, "circuit builder: too many outputs"));
        return;
    }
    if (c->out_bits + width > cb->ocap) {
        uint32_t ncap = (c->out_bits + width) * 2;
        if (ovl_reallocarray((void **)&c->outputs, ncap, sizeof *c->outputs) != OVL_OK) {
            cb_fail(cb, OVL_ERR_NOMEM);
            return;
        }
        cb->ocap = ncap;
    }
    memcpy(c->outputs + c->out_bits, w, (size_t)width * sizeof *w);
    c->out_width[c->nout++] = width;
    c->out_bits += width;
}

ovl_err ovl_cb_finish(ovl_cb *cb, ovl_circuit *out)
{
    ovl_err rc = cb->rc;
    memset(out, 0, sizeof *out);
    if (rc == OVL_OK)
        rc = ovl_circuit_check(&cb->c, "built circuit");
    if (rc == OVL_OK)
        rc = ovl_circuit_levelize(&cb->c);
    if (rc == OVL_OK) {
        *out = cb->c;
        memset(&cb->c, 0, sizeof cb->c);
    }
    ovl_cb_free(cb);
    return rc;
}
