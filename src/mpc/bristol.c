/* Bristol Fashion reader (mpc/bristol.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/guard.h"
#include "core/mem.h"
#include "mpc/bristol.h"

typedef struct {
    ovl_buf in;
    const char *label;
    size_t line; /* 1-based line of the next token */
} lexer;

static bool is_space(uint8_t ch) { return ch == ' ' || ch == '\t' || ch == '\r'; }

/* Skips blanks; with `newlines`, also line ends (gates may be separated by
 * blank lines, the header lines may not be split). */
static void skip_blanks(lexer *lx, bool newlines)
{
    while (ovl_buf_remaining(&lx->in) > 0) {
        uint8_t ch = *ovl_buf_rptr(&lx->in);
        if (ch == '\n' && newlines)
            lx->line++;
        else if (!is_space(ch))
            break;
        lx->in.rpos++;
    }
}

static bool at_line_end(lexer *lx)
{
    skip_blanks(lx, false);
    return ovl_buf_remaining(&lx->in) == 0 || *ovl_buf_rptr(&lx->in) == '\n';
}

/* A decimal number no greater than max, on the current line. */
static ovl_err lex_uint(lexer *lx, uint32_t max, const char *what, uint32_t *out)
{
    uint64_t v = 0;
    size_t digits = 0;
    skip_blanks(lx, false);
    while (ovl_buf_remaining(&lx->in) > 0) {
        uint8_t ch = *ovl_buf_rptr(&lx->in);
        if (ch < '0' || ch > '9')
            break;
        v = v * 10 + (ch - '0');
        lx->in.rpos++;
        if (++digits > 10 || v > max)
            return ovl_err_set(OVL_ERR_LIMIT, "%s:%zu: %s is over %u", lx->label, lx->line, what,
                               max);
    }
    if (digits == 0)
        return ovl_err_set(OVL_ERR_INPUT, "%s:%zu: expected %s (a number)", lx->label, lx->line,
                           what);
    if (ovl_buf_remaining(&lx->in) > 0 && !is_space(*ovl_buf_rptr(&lx->in)) &&
        *ovl_buf_rptr(&lx->in) != '\n')
        return ovl_err_set(OVL_ERR_INPUT, "%s:%zu: %s is not a plain number", lx->label,
                           lx->line, what);
    *out = (uint32_t)v;
    return OVL_OK;
}

static ovl_err lex_word(lexer *lx, char *w, size_t cap)
{
    size_t n = 0;
    skip_blanks(lx, false);
    while (ovl_buf_remaining(&lx->in) > 0) {
        uint8_t ch = *ovl_buf_rptr(&lx->in);
        if (is_space(ch) || ch == '\n')
            break;
        /* Gate types are upper-case words; anything else is not echoed back. */
        if (n + 1 >= cap || ch < 'A' || ch > 'Z')
            return ovl_err_set(OVL_ERR_INPUT, "%s:%zu: unknown gate type", lx->label, lx->line);
        w[n++] = (char)ch;
        lx->in.rpos++;
    }
    w[n] = '\0';
    if (n == 0)
        return ovl_err_set(OVL_ERR_INPUT, "%s:%zu: expected a gate type", lx->label, lx->line);
    return OVL_OK;
}

static ovl_err end_line(lexer *lx)
{
    if (!at_line_end(lx))
        return ovl_err_set(OVL_ERR_INPUT, "%s:%zu: unexpected text at the end of the line",
                           lx->label, lx->line);
    if (ovl_buf_remaining(&lx->in) > 0) {
        lx->in.rpos++;
        lx->line++;
    }
    return OVL_OK;
}

/* `count width...` of line 2 or 3. */
static ovl_err parse_widths(lexer *lx, const char *what, uint32_t *n, uint32_t *widths,
                            uint32_t *total, uint32_t nwires)
{
    ovl_err rc = OVL_OK;
    uint64_t sum = 0;
    skip_blanks(lx, true);
    OVL_TRY(lex_uint(lx, OVL_CIRCUIT_MAX_IO, what, n));
    OVL_ENSURE(*n >= 1, OVL_ERR_INPUT, "%s:%zu: a circuit needs at least one %s", lx->label,
               lx->line, what);
    for (uint32_t i = 0; i < *n; i++) {
        OVL_TRY(lex_uint(lx, nwires, "a width", &widths[i]));
        OVL_ENSURE(widths[i] >= 1, OVL_ERR_INPUT, "%s:%zu: width 0", lx->label, lx->line);
        sum += widths[i];
    }
    OVL_ENSURE(sum <= nwires, OVL_ERR_INPUT, "%s:%zu: %llu bits of %s exceed the %u wires",
               lx->label, lx->line, (unsigned long long)sum, what, nwires);
    *total = (uint32_t)sum;
    OVL_TRY(end_line(lx));
done:
    return rc;
}

typedef struct {
    ovl_circuit *c;
    uint32_t cap;   /* gates allocated */
    uint32_t lines; /* gate lines read (a MAND line adds several gates) */
    uint32_t declared;
    uint8_t *defined;
} reader;

static ovl_err add_gate(reader *r, lexer *lx, uint32_t op, uint32_t a, uint32_t b, uint32_t out)
{
    ovl_circuit *c = r->c;
    bool two = op == OVL_GATE_XOR || op == OVL_GATE_AND;
    if (op == OVL_GATE_CONST ? a > 1 : !r->defined[a] || (two && !r->defined[b]))
        return ovl_err_set(OVL_ERR_INPUT,
                           op == OVL_GATE_CONST ? "%s:%zu: EQ constant is not 0 or 1"
                                                : "%s:%zu: gate reads a wire no earlier gate "
                                                  "defines (not in topological order)",
                           lx->label, lx->line);
    if (r->defined[out])
        return ovl_err_set(OVL_ERR_INPUT, "%s:%zu: gate redefines wire %u", lx->label, lx->line,
                           out);
    if (c->ngates >= OVL_CIRCUIT_MAX_GATES)
        return ovl_err_set(OVL_ERR_LIMIT, "%s:%zu: more than %u gates", lx->label, lx->line,
                           OVL_CIRCUIT_MAX_GATES);
    if (c->ngates == r->cap) {
        uint32_t ncap = r->cap < OVL_CIRCUIT_MAX_GATES / 2 ? r->cap * 2 + 16 : OVL_CIRCUIT_MAX_GATES;
        ovl_err e = ovl_reallocarray((void **)&c->gates, ncap, sizeof *c->gates);
        if (e != OVL_OK)
            return e;
        r->cap = ncap;
    }
    r->defined[out] = 1;
    c->gates[c->ngates++] = (ovl_gate){.a = a, .b = b, .out = out, .op = op};
    c->nand += op == OVL_GATE_AND;
    return OVL_OK;
}

static const struct {
    const char *name;
    uint32_t op, nin; /* nin 0: MAND */
} gate_types[] = {
    {"XOR", OVL_GATE_XOR, 2}, {"AND", OVL_GATE_AND, 2}, {"INV", OVL_GATE_INV, 1},
    {"NOT", OVL_GATE_INV, 1}, {"EQ", OVL_GATE_CONST, 1}, {"EQW", OVL_GATE_COPY, 1},
    {"MAND", OVL_GATE_AND, 0},
};

static ovl_err parse_gate(reader *r, lexer *lx)
{
    ovl_err rc = OVL_OK;
    uint32_t nin, nout, w[2 * OVL_BRISTOL_MAX_MAND + OVL_BRISTOL_MAX_MAND];
    char name[8];
    uint32_t nw = r->c->nwires;
    OVL_ENSURE(r->lines < r->declared, OVL_ERR_INPUT, "%s:%zu: more gates than the %u declared",
               lx->label, lx->line, r->declared);
    r->lines++;
    OVL_TRY(lex_uint(lx, 2 * OVL_BRISTOL_MAX_MAND, "an input count", &nin));
    OVL_TRY(lex_uint(lx, OVL_BRISTOL_MAX_MAND, "an output count", &nout));
    for (uint32_t i = 0; i < nin + nout; i++)
        OVL_TRY(lex_uint(lx, nw - 1, "a wire index", &w[i]));
    OVL_TRY(lex_word(lx, name, sizeof name));
    size_t t = 0;
    while (t < sizeof gate_types / sizeof gate_types[0] && strcmp(gate_types[t].name, name) != 0)
        t++;
    OVL_ENSURE(t < sizeof gate_types / sizeof gate_types[0], OVL_ERR_INPUT,
               "%s:%zu: unknown gate type '%s'", lx->label, lx->line, name);
    if (gate_types[t].nin == 0) {
        OVL_ENSURE(nout >= 1 && nin == 2 * nout, OVL_ERR_INPUT,
                   "%s:%zu: MAND needs 2k inputs and k outputs", lx->label, lx->line);
        for (uint32_t i = 0; i < nout; i++)
            OVL_TRY(add_gate(r, lx, OVL_GATE_AND, w[i], w[nout + i], w[nin + i]));
    } else {
        OVL_ENSURE(nin == gate_types[t].nin && nout == 1, OVL_ERR_INPUT,
                   "%s:%zu: %s takes %u input(s) and 1 output, not %u and %u", lx->label,
                   lx->line, name, gate_types[t].nin, nin, nout);
        OVL_TRY(add_gate(r, lx, gate_types[t].op, w[0], nin == 2 ? w[1] : 0, w[nin]));
    }
    OVL_TRY(end_line(lx));
done:
    return rc;
}

static ovl_err parse_header(ovl_circuit *c, lexer *lx, uint32_t *ngates)
{
    ovl_err rc = OVL_OK;
    skip_blanks(lx, true);
    OVL_TRY(lex_uint(lx, OVL_CIRCUIT_MAX_GATES, "the gate count", ngates));
    OVL_TRY(lex_uint(lx, OVL_CIRCUIT_MAX_WIRES, "the wire count", &c->nwires));
    OVL_ENSURE(c->nwires >= 1, OVL_ERR_INPUT, "%s:%zu: no wires", lx->label, lx->line);
    OVL_TRY(end_line(lx));
    OVL_TRY(parse_widths(lx, "inputs", &c->nin, c->in_width, &c->in_bits, c->nwires));
    OVL_TRY(parse_widths(lx, "outputs", &c->nout, c->out_width, &c->out_bits, c->nwires));
done:
    return rc;
}

/* Gates of the file; a MAND line may add several, hence the cap check inside. */
static ovl_err parse_gates(reader *r, lexer *lx)
{
    ovl_err rc = OVL_OK;
    for (;;) {
        skip_blanks(lx, true);
        if (ovl_buf_remaining(&lx->in) == 0)
            break;
        OVL_TRY(parse_gate(r, lx));
    }
    OVL_ENSURE(r->lines == r->declared, OVL_ERR_INPUT,
               "%s:%zu: %u gates declared, %u found (truncated file?)", lx->label, lx->line,
               r->declared, r->lines);
done:
    return rc;
}

static ovl_err alloc_gates(reader *r, const lexer *lx, uint32_t ngates)
{
    /* A claim is trusted only as far as the bytes present: the shortest gate
     * line ("1 1 0 1 EQ") takes 11 bytes with its newline. */
    size_t left = ovl_buf_remaining(&lx->in);
    if ((uint64_t)ngates > left / 10 + 1)
        return ovl_err_set(OVL_ERR_INPUT, "%s: %u gates declared but the file has only %zu more "
                                          "bytes", lx->label, ngates, left);
    r->declared = ngates;
    r->cap = ngates ? ngates : 1;
    return ovl_calloc((void **)&r->c->gates, r->cap, sizeof *r->c->gates);
}

ovl_err ovl_bristol_parse(ovl_circuit *out, const char *label, const uint8_t *text, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_circuit c = {0};
    reader r = {.c = &c};
    lexer lx = {.label = label, .line = 1};
    uint32_t ngates = 0;
    memset(out, 0, sizeof *out);
    ovl_buf_reader(&lx.in, text, len);
    OVL_ENSURE(len <= OVL_BRISTOL_MAX_BYTES, OVL_ERR_LIMIT, "%s: %zu bytes (cap %zu)", label, len,
               OVL_BRISTOL_MAX_BYTES);
    OVL_TRY(parse_header(&c, &lx, &ngates));
    OVL_TRY(alloc_gates(&r, &lx, ngates));
    OVL_TRY(ovl_calloc((void **)&r.defined, c.nwires, 1));
    memset(r.defined, 1, c.in_bits);
    OVL_TRY(parse_gates(&r, &lx));
    OVL_TRY(ovl_calloc((void **)&c.outputs, c.out_bits ? c.out_bits : 1, sizeof *c.outputs));
    for (uint32_t i = 0; i < c.out_bits; i++)
        c.outputs[i] = c.nwires - c.out_bits + i;
    OVL_TRY(ovl_circuit_check(&c, label));
    OVL_TRY(ovl_circuit_levelize(&c));
    *out = c;
    memset(&c, 0, sizeof c);
done:
    free(r.defined);
    ovl_circuit_free(&c);
    return rc;
}

ovl_err ovl_bristol_load(ovl_circuit *out, const char *path)
{
    ovl_err rc = OVL_OK;
    uint8_t *text = NULL;
    struct stat st;
    size_t got = 0;
    FILE *f = fopen(path, "rb");
    memset(out, 0, sizeof *out);
    OVL_ENSURE(f != NULL, OVL_ERR_INPUT, "%s: cannot open the circuit: %s", path,
               strerror(errno));
    OVL_ENSURE(fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode), OVL_ERR_INPUT,
               "%s: not a regular file", path);
    OVL_ENSURE((uint64_t)st.st_size <= OVL_BRISTOL_MAX_BYTES, OVL_ERR_LIMIT,
               "%s: %lld bytes, over the %zu-byte cap for circuits", path,
               (long long)st.st_size, OVL_BRISTOL_MAX_BYTES);
    OVL_TRY(ovl_calloc((void **)&text, (size_t)st.st_size + 1, 1));
    got = fread(text, 1, (size_t)st.st_size, f);
    OVL_ENSURE(got == (size_t)st.st_size && !ferror(f), OVL_ERR_IO, "%s: read failed", path);
    OVL_TRY(ovl_bristol_parse(out, path, text, got));
done:
    if (f != NULL)
        fclose(f);
    free(text);
    return rc;
}
