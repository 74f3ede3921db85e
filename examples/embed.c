/* Embedding overlap: one private set intersection run from another program
 * through the public API (include/overlap/overlap.h). Prints the number of
 * shared identifiers when this party receives output.
 *
 *   embed listen|connect HOST:PORT KEY PEER.pub TABLE.csv JOIN OUT [cardinality]
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <overlap/overlap.h>

int main(int argc, char **argv)
{
    overlap_analysis *a = NULL;
    uint64_t shared = 0, peer = 0;
    if (argc < 8 || argc > 9 || (strcmp(argv[1], "listen") != 0 && strcmp(argv[1], "connect") != 0)) {
        fprintf(stderr, "usage: embed listen|connect HOST:PORT KEY PEER.pub TABLE JOIN OUT "
                        "[cardinality]\n");
        return 2;
    }
    overlap_role role = strcmp(argv[1], "listen") == 0 ? OVERLAP_LISTEN : OVERLAP_CONNECT;
    overlap_mode mode = argc == 9 && strcmp(argv[8], "cardinality") == 0 ? OVERLAP_CARDINALITY
                                                                        : OVERLAP_INTERSECTION;
    overlap_status st = overlap_new(&a, role, argv[2]);
    if (st == OVERLAP_OK)
        st = overlap_set_keys(a, argv[3], argv[4]);
    if (st == OVERLAP_OK)
        st = overlap_set_table(a, argv[5], argv[6], OVERLAP_NORMALIZE_EMAIL);
    if (st == OVERLAP_OK)
        st = overlap_set_analysis(a, mode, OVERLAP_REVEAL_BOTH);
    if (st == OVERLAP_OK)
        st = overlap_set_output(a, argv[7]);
    if (st == OVERLAP_OK)
        st = overlap_set_limits(a, 30, 2);
    if (st == OVERLAP_OK)
        st = overlap_run(a);
    if (st == OVERLAP_OK)
        st = overlap_intersection_size(a, &shared);
    if (st == OVERLAP_OK)
        st = overlap_peer_set_size(a, &peer);
    if (st == OVERLAP_OK)
        printf("overlap %s: %" PRIu64 " shared identifiers, peer set %" PRIu64 "\n",
               overlap_version(), shared, peer);
    else
        fprintf(stderr, "embed: error %d: %s\n", (int)st, a ? overlap_error(a) : "out of memory");
    overlap_free(a);
    return (int)st;
}
