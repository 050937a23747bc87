#ifndef MAILMAPS_SHA256_H
#define MAILMAPS_SHA256_H

/* SHA-256 (FIPS 180-4), for the maps' content checksum. Written here so the
 * library needs no crypto library for one hash. */

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32
#define SHA256_HEX_SIZE 65   /* 64 hex digits + NUL */

struct sha256 {
    uint32_t state[8];
    uint64_t length;       /* bytes hashed so far */
    unsigned char block[64];
    size_t used;
};

void sha256_init(struct sha256 *ctx);
void sha256_update(struct sha256 *ctx, const void *data, size_t len);
void sha256_final(struct sha256 *ctx, unsigned char digest[SHA256_DIGEST_SIZE]);
/* sha256_hex - digest as lower-case hex into out (SHA256_HEX_SIZE bytes) */
void sha256_hex(const unsigned char digest[SHA256_DIGEST_SIZE], char *out);

/* sha256_force_portable - for tests and benchmarks only: nonzero makes every
 * context use the portable C code, 0 goes back to the CPU's best (the SHA
 * extensions on x86-64 that has them). Returns 1 if the SHA extensions are
 * now in use, else 0. Not to be called while other threads hash. */
int sha256_force_portable(int portable);

#endif
