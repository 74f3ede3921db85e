/* Circuit representation, checks and plain evaluation (mpc/circuit.h). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "mpc/circuit.h"

void ovl_circuit_free(ovl_circuit *c)
{
    free(c->gates);
    free(c->outputs);
    memset(c, 0, sizeof *c);
}

uint32_t ovl_circuit_in_offset(const ovl_circuit *c, uint32_t i)
{
    uint32_t off = 0;
    for (uint32_t k = 0; k < i && k < c->nin; k++)
        off += c->in_width[k];
    return off;
}

uint32_t ovl_circuit_out_offset(const ovl_circuit *c, uint32_t i)
{
    uint32_t off = 0;
    for (uint32_t k = 0; k < i && k < c->nout; k++)
        off += c->out_width[k];
    return off;
}

static ovl_err check_widths(const ovl_circuit *c, const char *label)
{
    uint64_t in = 0, out = 0;
    if (c->nin == 0 || c->nin > OVL_CIRCUIT_MAX_IO || c->nout == 0 || c->nout > OVL_CIRCUIT_MAX_IO)
        return ovl_err_set(OVL_ERR_INPUT, "%s: %u inputs and %u outputs (1 to %u each allowed)",
                           label, c->nin, c->nout, OVL_CIRCUIT_MAX_IO);
    for (uint32_t i = 0; i < c->nin; i++)
        in += c->in_width[i];
    for (uint32_t i = 0; i < c->nout; i++)
        out += c->out_width[i];
    if (in != c->in_bits || out != c->out_bits || in > c->nwires || out > c->nwires)
        return ovl_err_set(OVL_ERR_INPUT, "%s: %llu input and %llu output bits do not fit %u wires",
                           label, (unsigned long long)in, (unsigned long long)out, c->nwires);
    return OVL_OK;
}

/* Reads of wire w by gate g: defined means an input or an earlier gate's output. */
static ovl_err check_read(const uint8_t *defined, const ovl_circuit *c, uint32_t g, uint32_t w,
                          const char *label)
{
    if (w >= c->nwires)
        return ovl_err_set(OVL_ERR_INPUT, "%s: gate %u reads wire %u of %u", label, g, w,
                           c->nwires);
    if (!defined[w])
        return ovl_err_set(OVL_ERR_INPUT, "%s: gate %u reads wire %u before any gate defines it",
                           label, g, w);
    return OVL_OK;
}

static ovl_err check_gates(uint8_t *defined, const ovl_circuit *c, const char *label)
{
    ovl_err rc = OVL_OK;
    uint32_t nand = 0;
    for (uint32_t g = 0; g < c->ngates; g++) {
        const ovl_gate *x = &c->gates[g];
        OVL_ENSURE(x->op <= OVL_GATE_COPY, OVL_ERR_INPUT, "%s: gate %u has unknown op %u", label,
                   g, x->op);
        if (x->op == OVL_GATE_CONST)
            OVL_ENSURE(x->a <= 1, OVL_ERR_INPUT, "%s: gate %u: constant %u is not 0 or 1", label,
                       g, x->a);
        else
            OVL_TRY(check_read(defined, c, g, x->a, label));
        if (x->op == OVL_GATE_XOR || x->op == OVL_GATE_AND)
            OVL_TRY(check_read(defined, c, g, x->b, label));
        OVL_ENSURE(x->out < c->nwires, OVL_ERR_INPUT, "%s: gate %u writes wire %u of %u", label,
                   g, x->out, c->nwires);
        OVL_ENSURE(!defined[x->out], OVL_ERR_INPUT, "%s: gate %u redefines wire %u", label, g,
                   x->out);
        defined[x->out] = 1;
        nand += x->op == OVL_GATE_AND;
    }
    OVL_ENSURE(nand == c->nand, OVL_ERR_INTERNAL, "%s: AND count %u recorded as %u", label, nand,
               c->nand);
    for (uint32_t i = 0; i < c->out_bits; i++) {
        uint32_t w = c->outputs[i];
        OVL_ENSURE(w < c->nwires && defined[w], OVL_ERR_INPUT,
                   "%s: output bit %u is wire %u, which no gate defines", label, i, w);
    }
done:
    return rc;
}

ovl_err ovl_circuit_check(const ovl_circuit *c, const char *label)
{
    ovl_err rc = OVL_OK;
    uint8_t *defined = NULL;
    OVL_ENSURE(c->nwires >= 1 && c->nwires <= OVL_CIRCUIT_MAX_WIRES &&
                   c->ngates <= OVL_CIRCUIT_MAX_GATES,
               OVL_ERR_LIMIT, "%s: %u gates and %u wires (caps: %u gates, %u wires)", label,
               c->ngates, c->nwires, OVL_CIRCUIT_MAX_GATES, OVL_CIRCUIT_MAX_WIRES);
    OVL_TRY(check_widths(c, label));
    OVL_TRY(ovl_calloc((void **)&defined, c->nwires, 1));
    memset(defined, 1, c->in_bits);
    OVL_TRY(check_gates(defined, c, label));
done:
    free(defined);
    return rc;
}

/* Wires renumbered in the order they are defined (inputs, then gate g's
 * output is in_bits + g), so labels are written in sequence and read mostly
 * from recent ones. `map` has nwires entries of scratch. */
static ovl_err renumber(ovl_circuit *c, uint32_t *map)
{
    for (uint32_t w = 0; w < c->in_bits; w++)
        map[w] = w;
    for (uint32_t g = 0; g < c->ngates; g++) {
        ovl_gate *x = &c->gates[g];
        bool two = x->op == OVL_GATE_XOR || x->op == OVL_GATE_AND;
        if (x->op != OVL_GATE_CONST)
            x->a = map[x->a];
        x->b = two ? map[x->b] : 0;
        map[x->out] = c->in_bits + g;
        x->out = c->in_bits + g;
    }
    for (uint32_t i = 0; i < c->out_bits; i++)
        c->outputs[i] = map[c->outputs[i]];
    c->nwires = c->in_bits + c->ngates;
    return c->nwires >= 1 ? OVL_OK : ovl_err_set(OVL_ERR_INTERNAL, "a circuit without wires");
}

/* Stable counting sort of the gates by key 2·depth (AND) or 2·depth + 1 (free
 * gates), depth counting ANDs on the longest path from an input. */
ovl_err ovl_circuit_levelize(ovl_circuit *c)
{
    ovl_err rc = OVL_OK;
    uint32_t *depth = NULL, *key = NULL, *count = NULL, maxkey = 0;
    ovl_gate *sorted = NULL;
    if (c->ngates == 0)
        return OVL_OK;
    OVL_TRY(ovl_calloc((void **)&depth, c->nwires, sizeof *depth));
    OVL_TRY(ovl_calloc((void **)&key, c->ngates, sizeof *key));
    for (uint32_t g = 0; g < c->ngates; g++) {
        const ovl_gate *x = &c->gates[g];
        uint32_t d = 0;
        if (x->op != OVL_GATE_CONST)
            d = depth[x->a];
        if ((x->op == OVL_GATE_XOR || x->op == OVL_GATE_AND) && depth[x->b] > d)
            d = depth[x->b];
        d += x->op == OVL_GATE_AND;
        depth[x->out] = d;
        key[g] = 2 * d + (x->op != OVL_GATE_AND);
        maxkey = key[g] > maxkey ? key[g] : maxkey;
    }
    OVL_TRY(ovl_calloc((void **)&count, (size_t)maxkey + 2, sizeof *count));
    OVL_TRY(ovl_calloc((void **)&sorted, c->ngates, sizeof *sorted));
    for (uint32_t g = 0; g < c->ngates; g++)
        count[key[g] + 1]++;
    for (uint32_t k = 1; k <= maxkey + 1; k++)
        count[k] += count[k - 1];
    for (uint32_t g = 0; g < c->ngates; g++)
        sorted[count[key[g]]++] = c->gates[g];
    memcpy(c->gates, sorted, (size_t)c->ngates * sizeof *sorted);
    OVL_TRY(renumber(c, depth));
done:
    free(depth);
    free(key);
    free(count);
    free(sorted);
    return rc;
}

ovl_err ovl_circuit_eval(const ovl_circuit *c, uint8_t *out, const uint8_t *in)
{
    ovl_err rc = OVL_OK;
    uint8_t *w = NULL;
    OVL_TRY(ovl_calloc((void **)&w, c->nwires, 1));
    for (uint32_t i = 0; i < c->in_bits; i++)
        w[i] = in[i] & 1;
    for (uint32_t g = 0; g < c->ngates; g++) {
        const ovl_gate *x = &c->gates[g];
        switch (x->op) {
        case OVL_GATE_XOR: w[x->out] = w[x->a] ^ w[x->b]; break;
        case OVL_GATE_AND: w[x->out] = w[x->a] & w[x->b]; break;
        case OVL_GATE_INV: w[x->out] = w[x->a] ^ 1; break;
        case OVL_GATE_CONST: w[x->out] = (uint8_t)x->a; break;
        default: w[x->out] = w[x->a]; break;
        }
    }
    for (uint32_t i = 0; i < c->out_bits; i++)
        out[i] = w[c->outputs[i]];
done:
    /* Plain evaluation holds every intermediate value of the inputs. */
    if (w != NULL)
        ovl_free_secret(w, c->nwires);
    return rc;
}

static void put32(crypto_hash_sha256_state *st, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    crypto_hash_sha256_update(st, b, 4);
}

void ovl_circuit_digest(uint8_t out[static 32], const ovl_circuit *c)
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)"overlap-circuit-v1", 18);
    put32(&st, c->nwires);
    put32(&st, c->ngates);
    put32(&st, c->nin);
    for (uint32_t i = 0; i < c->nin; i++)
        put32(&st, c->in_width[i]);
    put32(&st, c->nout);
    for (uint32_t i = 0; i < c->nout; i++)
        put32(&st, c->out_width[i]);
    for (uint32_t g = 0; g < c->ngates; g++) {
        put32(&st, c->gates[g].op);
        put32(&st, c->gates[g].a);
        put32(&st, c->gates[g].b);
        put32(&st, c->gates[g].out);
    }
    for (uint32_t i = 0; i < c->out_bits; i++)
        put32(&st, c->outputs[i]);
    crypto_hash_sha256_final(&st, out);
}

ovl_err ovl_bits_from_be(uint8_t *bits, size_t nbits, const uint8_t *bytes, size_t nbytes)
{
    if (nbits > 8 * nbytes)
        return ovl_err_set(OVL_ERR_USAGE, "%zu bits do not fit %zu bytes", nbits, nbytes);
    for (size_t i = 0; i < 8 * nbytes; i++) {
        uint8_t bit = (bytes[nbytes - 1 - i / 8] >> (i % 8)) & 1;
        if (i < nbits)
            bits[i] = bit;
        else if (bit)
            return ovl_err_set(OVL_ERR_INPUT, "value has bit %zu set but the input is %zu bits wide",
                               i, nbits);
    }
    return OVL_OK;
}

void ovl_bits_to_be(uint8_t *bytes, size_t nbytes, const uint8_t *bits, size_t nbits)
{
    memset(bytes, 0, nbytes);
    for (size_t i = 0; i < nbits && i < 8 * nbytes; i++)
        bytes[nbytes - 1 - i / 8] |= (uint8_t)((bits[i] & 1) << (i % 8));
}

void ovl_bits_from_u64(uint8_t *bits, size_t nbits, uint64_t v)
{
    for (size_t i = 0; i < nbits; i++)
        bits[i] = i < 64 ? (uint8_t)((v >> i) & 1) : 0;
}

uint64_t ovl_bits_to_u64(const uint8_t *bits, size_t nbits)
{
    uint64_t v = 0;
    for (size_t i = 0; i < nbits && i < 64; i++)
        v |= (uint64_t)(bits[i] & 1) << i;
    return v;
}
