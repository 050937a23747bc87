/* sha256 - checksum throughput, portable C against the SHA extensions.
 *
 * Hashes 256 MiB of pseudo-random bytes in 64 KiB updates (the read size of
 * mapcheck) on each path, three passes each, interleaved; prints the best
 * pass of each in MB/s (10^6 bytes) and checks both give the same digest.
 * On a CPU without the SHA extensions only the portable path runs. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "maps/monotime.h"
#include "maps/sha256.h"

#define TOTAL (256u << 20)
#define PIECE (64u << 10)
#define PASSES 3

/* hash_pass - hash buf in PIECE updates; seconds taken, digest into hex */
static double hash_pass(const unsigned char *buf, char *hex)
{
    struct sha256 ctx;
    unsigned char d[SHA256_DIGEST_SIZE];
    double t0 = ((double)monotime_ns() / 1e9);

    sha256_init(&ctx);
    for (size_t off = 0; off < TOTAL; off += PIECE)
        sha256_update(&ctx, buf + off, PIECE);
    sha256_final(&ctx, d);
    double t = ((double)monotime_ns() / 1e9) - t0;
    sha256_hex(d, hex);
    return t;
}

int main(void)
{
    static const char *const names[2] = { "portable C", "SHA-NI" };
    unsigned char *buf = malloc(TOTAL);
    char hex[2][SHA256_HEX_SIZE];
    double best[2] = { 0, 0 };
    uint64_t x = 88172645463325252ULL;

    if (buf == NULL) {
        fprintf(stderr, "sha256: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < TOTAL; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (unsigned char)x;
    }

    int paths = sha256_force_portable(0) ? 2 : 1;
    for (int pass = 0; pass < PASSES; pass++) {
        for (int p = 0; p < paths; p++) {
            sha256_force_portable(p == 0);
            double t = hash_pass(buf, hex[p]);
            if (best[p] == 0 || t < best[p])
                best[p] = t;
        }
    }
    sha256_force_portable(0);
    free(buf);

    printf("sha256: %u MiB in %u KiB updates, best of %d passes\n", TOTAL >> 20, PIECE >> 10,
           PASSES);
    for (int p = 0; p < paths; p++)
        printf("  %-12s %8.0f MB/s  %.3f s\n", names[p], TOTAL / best[p] / 1e6, best[p]);
    if (paths == 1) {
        printf("  SHA-NI       (this CPU has no SHA extensions)\n");
        return 0;
    }
    printf("  speed-up     %8.1fx\n", best[0] / best[1]);
    if (strcmp(hex[0], hex[1]) != 0) {
        fprintf(stderr, "sha256: digests differ: %s vs %s\n", hex[0], hex[1]);
        return 1;
    }
    return 0;
}
