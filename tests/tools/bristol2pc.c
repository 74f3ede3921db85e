/* bristol2pc: evaluates a Bristol Fashion circuit between two processes over
 * overlap's pinned-key TLS with the garbled-circuit engine (src/mpc/gc.h).
 *
 * usage: bristol2pc (--listen H:P | --connect H:P) --identity KEY --peer PUB
 *                   --circuit FILE --input HEX [--repeat N] [--timeout S]
 *
 * The listener garbles and supplies the circuit's first input, the connector
 * evaluates with its second; both learn the output and print it as hex (each
 * input and output a big-endian integer whose bit 0 is the input's wire 0, as
 * ../shared/circuits/README.md says). With --repeat N, N instances stream one
 * after another and a last line says and_gates_per_second=X: the AND gates of
 * all instances over the wall time of the evaluation (TLS handshake excluded).
 * A last stderr line gives the instance and AND counts, that time and the TLS
 * bytes each way, for the benchmark.
 * Exit codes as overlap's: 2 usage, 3 input, 4 network, 5 protocol, 6 policy. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/guard.h"
#include "core/mem.h"
#include "core/pool.h"
#include "crypto/group.h"
#include "crypto/rng.h"
#include "mpc/bristol.h"
#include "mpc/gc.h"
#include "session/drive.h"
#include "net/identity.h"
#include "net/transport.h"
#include "tool_link.h"

typedef struct {
    const char *listen, *connect, *identity, *peer, *circuit, *input;
    unsigned long repeat, timeout;
} args;

static int exit_code(ovl_err e)
{
    switch (e) {
    case OVL_OK: return 0;
    case OVL_ERR_USAGE: return 2;
    case OVL_ERR_INPUT:
    case OVL_ERR_IO: return 3;
    case OVL_ERR_PEER_CLOSED:
    case OVL_ERR_TIMEOUT:
    case OVL_ERR_TLS:
    case OVL_ERR_AUTH:
    case OVL_ERR_NET: return 4;
    case OVL_ERR_PROTOCOL:
    case OVL_ERR_MALFORMED:
    case OVL_ERR_CRYPTO:
    case OVL_ERR_LIMIT: return 5;
    case OVL_ERR_POLICY: return 6;
    default: return 1;
    }
}

static int usage(const char *why)
{
    fprintf(stderr, "bristol2pc: error: %s\nusage: bristol2pc (--listen H:P | --connect H:P) "
                    "--identity KEY --peer PUB --circuit FILE --input HEX [--repeat N] "
                    "[--timeout S]\n", why);
    return 2;
}

static int parse_args(args *a, int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},   {"connect", required_argument, NULL, 'C'},
        {"identity", required_argument, NULL, 'i'}, {"peer", required_argument, NULL, 'p'},
        {"circuit", required_argument, NULL, 'c'},  {"input", required_argument, NULL, 'x'},
        {"repeat", required_argument, NULL, 'r'},   {"timeout", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    int c;
    char *end;
    memset(a, 0, sizeof *a);
    a->repeat = 1;
    a->timeout = 60;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l': a->listen = optarg; break;
        case 'C': a->connect = optarg; break;
        case 'i': a->identity = optarg; break;
        case 'p': a->peer = optarg; break;
        case 'c': a->circuit = optarg; break;
        case 'x': a->input = optarg; break;
        case 'r':
        case 't': {
            unsigned long v = strtoul(optarg, &end, 10);
            if (*optarg < '0' || *optarg > '9' || *end != '\0' || v == 0 ||
                v > (c == 'r' ? 1000000ul : 86400ul))
                return usage(c == 'r' ? "--repeat expects a whole number from 1 to 1000000"
                                      : "--timeout expects seconds from 1 to 86400");
            *(c == 'r' ? &a->repeat : &a->timeout) = v;
            break;
        }
        default: return usage("unknown option or missing value");
        }
    }
    if (optind != argc)
        return usage("unexpected argument");
    if (!a->listen == !a->connect)
        return usage("give exactly one of --listen and --connect");
    if (!a->identity || !a->peer || !a->circuit || !a->input)
        return usage("--identity, --peer, --circuit and --input are required");
    return 0;
}

/* This party's input bits, repeated for every instance. */
static ovl_err read_input(uint8_t **bits, const char *hex, uint32_t width, uint32_t which,
                          unsigned long repeat)
{
    ovl_err rc = OVL_OK;
    size_t nbytes = (width + 7) / 8, len = strlen(hex);
    uint8_t *raw = NULL;
    *bits = NULL;
    OVL_ENSURE(len == 2 * nbytes, OVL_ERR_USAGE,
               "--input: input %u of the circuit is %u bits: give %zu hex digits, not %zu", which,
               width, 2 * nbytes, len);
    OVL_TRY(ovl_calloc((void **)&raw, nbytes + 1, 1));
    if (ovl_hex_decode(raw, nbytes, hex, len) != OVL_OK)
        OVL_FAIL(ovl_err_set(OVL_ERR_USAGE, "--input: '%s' is not hexadecimal", hex));
    OVL_TRY(ovl_calloc((void **)bits, (size_t)width * repeat + 1, 1));
    if (ovl_bits_from_be(*bits, width, raw, nbytes) != OVL_OK)
        OVL_FAIL(ovl_err_set(OVL_ERR_USAGE, "--input: the value has bits above the input's %u",
                             width));
    for (unsigned long i = 1; i < repeat; i++)
        memcpy(*bits + (size_t)i * width, *bits, width);
done:
    if (raw != NULL)
        ovl_free_secret(raw, nbytes + 1);
    if (rc != OVL_OK) {
        free(*bits);
        *bits = NULL;
    }
    return rc;
}

/* All instances got the same inputs, so one line shows the output; an
 * instance that differs is an error, not a line. */
static ovl_err print_output(const ovl_gc *g, const ovl_circuit *c, unsigned long repeat)
{
    const uint8_t *first = ovl_gc_output(g, 0);
    if (first == NULL)
        return ovl_err_set(OVL_ERR_INTERNAL, "no output was received");
    for (unsigned long i = 1; i < repeat; i++)
        if (memcmp(ovl_gc_output(g, (uint32_t)i), first, c->out_bits) != 0)
            return ovl_err_set(OVL_ERR_CRYPTO, "instance %lu gave a different output", i);
    for (uint32_t o = 0, off = 0; o < c->nout; off += c->out_width[o++]) {
        size_t nbytes = (c->out_width[o] + 7) / 8;
        uint8_t bytes[OVL_GC_MAX_IO_BITS / 8 + 1];
        ovl_bits_to_be(bytes, nbytes, first + off, c->out_width[o]);
        for (size_t k = 0; k < nbytes; k++)
            printf("%02x", bytes[k]);
        putchar(o + 1 < c->nout ? ' ' : '\n');
    }
    return OVL_OK;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static ovl_err run(const args *a)
{
    ovl_err rc = OVL_OK;
    ovl_circuit c = {0};
    uint8_t *bits = NULL;
    ovl_gc *g = NULL;
    ovl_conn *conn = NULL;
    ovl_listener *l = NULL;
    ovl_pool *pool = NULL;
    ovl_rng rng;
    bool garbler = a->listen != NULL;
    ovl_rng_init_system(&rng);
    OVL_TRY(ovl_bristol_load(&c, a->circuit));
    OVL_ENSURE(c.nin == 2, OVL_ERR_INPUT,
               "%s: the circuit has %u inputs; bristol2pc needs two (garbler's, evaluator's)",
               a->circuit, c.nin);
    OVL_TRY(read_input(&bits, a->input, c.in_width[garbler ? 0 : 1], garbler ? 1 : 2, a->repeat));
    ovl_gc_config cfg = {
        .role = garbler ? OVL_GC_GARBLER : OVL_GC_EVALUATOR,
        .party = garbler ? 0 : 1,
        .circuit = &c,
        .garbler_inputs = 1,
        .instances = (uint32_t)a->repeat,
        .reveal = OVL_GC_REVEAL_BOTH,
        .input = bits,
        .rng = &rng,
    };
    OVL_TRY(ovl_gc_new(&g, &cfg));
    OVL_TRY(ovl_pool_new(&pool, 0));
    OVL_TRY(tl_link_files("bristol2pc", a->identity, a->peer, a->listen, a->connect,
                          a->timeout, &conn, &l));
    ovl_drive_opts d = {.timeout_ms = (int)a->timeout * 1000, .pool = pool};
    double t0 = now_s();
    rc = ovl_drive(conn, &ovl_gc_ops, g, &d);
    double t1 = now_s();
    if (rc != OVL_OK) {
        if (strstr(ovl_err_detail(), ovl_conn_label(conn)) == NULL)
            rc = ovl_err_wrap(rc, "peer %s: ", ovl_conn_label(conn));
        goto done;
    }
    OVL_TRY(print_output(g, &c, a->repeat));
    if (a->repeat > 1)
        printf("and_gates_per_second=%.0f\n", (double)ovl_gc_and_gates(g) / (t1 - t0));
    /* For benchmarks (tests/bench/bench.py): what moved, on stderr. */
    fprintf(stderr, "bristol2pc: instances=%lu and_gates=%llu seconds=%.6f tls_bytes_sent=%llu "
                    "tls_bytes_received=%llu\n", a->repeat,
            (unsigned long long)ovl_gc_and_gates(g), t1 - t0,
            (unsigned long long)ovl_conn_bytes_sent(conn),
            (unsigned long long)ovl_conn_bytes_received(conn));
done:
    ovl_conn_close(conn);
    ovl_listener_close(l);
    ovl_pool_free(pool);
    ovl_gc_free(g);
    if (bits != NULL)
        ovl_free_secret(bits, (size_t)c.in_width[garbler ? 0 : 1] * a->repeat + 1);
    ovl_circuit_free(&c);
    ovl_rng_wipe(&rng);
    return rc;
}

int main(int argc, char **argv)
{
    args a;
    if (parse_args(&a, argc, argv) != 0)
        return 2;
    ovl_err rc = ovl_crypto_init();
    if (rc == OVL_OK)
        rc = run(&a);
    if (rc != OVL_OK) {
        const char *d = ovl_err_detail();
        fprintf(stderr, "bristol2pc: error: %s\n", *d ? d : ovl_err_name(rc));
        return exit_code(rc);
    }
    return fflush(stdout) == 0 ? 0 : 3;
}
