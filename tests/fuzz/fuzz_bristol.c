/* Fuzzes the Bristol Fashion reader: any text must parse into a circuit that
 * passes ovl_circuit_check and evaluates, or fail with a one-line detail
 * naming the file. */
#include <stdlib.h>
#include <string.h>

#include "mpc/bristol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ovl_circuit c;
    ovl_err e = ovl_bristol_parse(&c, "fuzz.txt", data, size);
    if (e != OVL_OK) {
        const char *d = ovl_err_detail();
        if (strncmp(d, "fuzz.txt", 8) != 0 && e != OVL_ERR_NOMEM)
            abort();
        for (; *d; d++)
            if ((unsigned char)*d < 0x20 || (unsigned char)*d >= 0x7f)
                abort();
        return 0;
    }
    if (ovl_circuit_check(&c, "fuzz.txt") != OVL_OK)
        abort();
    uint8_t *in = calloc(c.in_bits + 1, 1), *out = calloc(c.out_bits + 1, 1);
    if (in == NULL || out == NULL || ovl_circuit_eval(&c, out, in) != OVL_OK)
        abort();
    for (uint32_t i = 0; i < c.out_bits; i++)
        if (out[i] > 1)
            abort();
    free(in);
    free(out);
    ovl_circuit_free(&c);
    return 0;
}
