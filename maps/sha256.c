/* sha256 - SHA-256 as specified in FIPS 180-4, section 6.2, with the x86-64
 * SHA extensions when the CPU has them (about six times the portable speed
 * on the maps' checksum) and portable C everywhere else. */

#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

#include "maps/sha256.h"

/* The first 32 bits of the fractional parts of the cube roots of the first
 * 64 primes (FIPS 180-4, 4.2.2). */
static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* rotr - rotate right; n is never 0 or 32 here */
static inline uint32_t rotr(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

/* load_be32 - big-endian word, whatever the host's byte order */
static inline uint32_t load_be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* store_be32 - the inverse of load_be32 */
static inline void store_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* sha256_blocks_portable - process n 64-byte blocks (FIPS 180-4, 6.2.2) */
static void sha256_blocks_portable(uint32_t state[8], const unsigned char *p, size_t n)
{
    for (; n > 0; n--, p += 64) {
        uint32_t w[64];

        for (int t = 0; t < 16; t++)
            w[t] = load_be32(p + 4 * t);
        for (int t = 16; t < 64; t++) {
            uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
            uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }

        uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
        uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
        for (int t = 0; t < 64; t++) {
            uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
            uint32_t ch = (e & f) ^ (~e & g);
            uint32_t t1 = h + S1 + ch + sha256_k[t] + w[t];
            uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
            uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
            uint32_t t2 = S0 + maj;
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
    }
}

#if defined(__x86_64__)
/* The SHA extensions (SHA-NI): only this block is compiled for them, so the
 * rest of the library keeps the baseline flags and runs on any x86-64; it
 * is called only after sha256_probe has seen the CPU support them. */

#define SHANI __attribute__((target("sha,sse4.1,ssse3")))

/* shani_schedule - W[t..t+3] from W[t-16..t-1], held in four registers */
static inline SHANI __m128i shani_schedule(__m128i w16, __m128i w12, __m128i w8, __m128i w4)
{
    /* msg1 adds sigma0(W[t-15]); W[t-7] is the middle of w8:w4; msg2 adds
     * sigma1(W[t-2]), which for the upper two words are the lower two. */
    __m128i x = _mm_sha256msg1_epu32(w16, w12);
    x = _mm_add_epi32(x, _mm_alignr_epi8(w4, w8, 4));
    return _mm_sha256msg2_epu32(x, w4);
}

/* shani_rounds - four rounds t..t+3 with message words w */
static inline SHANI void shani_rounds(__m128i *abef, __m128i *cdgh, __m128i w, int t)
{
    __m128i wk = _mm_add_epi32(w, _mm_loadu_si128((const __m128i *)(sha256_k + t)));

    /* Each rnds2 does two rounds from the low two words of wk and returns
     * the new ABEF; the old ABEF is then the new CDGH. */
    *cdgh = _mm_sha256rnds2_epu32(*cdgh, *abef, wk);
    *abef = _mm_sha256rnds2_epu32(*abef, *cdgh, _mm_shuffle_epi32(wk, 0x0e));
}

/* sha256_blocks_shani - sha256_blocks_portable with the SHA extensions */
static SHANI void sha256_blocks_shani(uint32_t state[8], const unsigned char *p, size_t n)
{
    /* Byte order within each 32-bit word: the message is big-endian. */
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);

    /* rnds2 wants the state as {F,E,B,A} and {H,G,D,C} (lane 0 first). */
    __m128i abcd = _mm_loadu_si128((const __m128i *)state);
    __m128i efgh = _mm_loadu_si128((const __m128i *)(state + 4));
    __m128i badc = _mm_shuffle_epi32(abcd, 0xb1);
    __m128i hgfe = _mm_shuffle_epi32(efgh, 0x1b);
    __m128i abef = _mm_alignr_epi8(badc, hgfe, 8);
    __m128i cdgh = _mm_blend_epi16(hgfe, badc, 0xf0);

    for (; n > 0; n--, p += 64) {
        __m128i abef0 = abef, cdgh0 = cdgh;
        __m128i w0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p), bswap);
        __m128i w1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
        __m128i w2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
        __m128i w3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap);

        /* w0..w3 always hold the last 16 message words, oldest first. */
        shani_rounds(&abef, &cdgh, w0, 0);
        shani_rounds(&abef, &cdgh, w1, 4);
        shani_rounds(&abef, &cdgh, w2, 8);
        shani_rounds(&abef, &cdgh, w3, 12);
        for (int t = 16; t < 64; t += 16) {
            w0 = shani_schedule(w0, w1, w2, w3);
            shani_rounds(&abef, &cdgh, w0, t);
            w1 = shani_schedule(w1, w2, w3, w0);
            shani_rounds(&abef, &cdgh, w1, t + 4);
            w2 = shani_schedule(w2, w3, w0, w1);
            shani_rounds(&abef, &cdgh, w2, t + 8);
            w3 = shani_schedule(w3, w0, w1, w2);
            shani_rounds(&abef, &cdgh, w3, t + 12);
        }
        abef = _mm_add_epi32(abef, abef0);
        cdgh = _mm_add_epi32(cdgh, cdgh0);
    }

    /* Back to {A,B,C,D} and {E,F,G,H}. */
    __m128i feba = _mm_shuffle_epi32(abef, 0x1b);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xb1);
    _mm_storeu_si128((__m128i *)state, _mm_blend_epi16(feba, dchg, 0xf0));
    _mm_storeu_si128((__m128i *)(state + 4), _mm_alignr_epi8(dchg, feba, 8));
}

/* sha256_probe - 1 if the CPU has the SHA extensions and SSE4.1/SSSE3 */
static int sha256_probe(void)
{
    unsigned int a, b, c, d;

    /* cpuid rather than __builtin_cpu_supports: gcc 12 does not know "sha". */
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1))
        return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    return (b & bit_SHA) != 0;
}
#endif

/* Which block function: -1 not probed yet, 0 portable, 1 SHA-NI. Probing is
 * idempotent, so threads racing on the first call store the same value;
 * atomic only so that race is defined behaviour. */
static _Atomic int sha256_impl = -1;

/* sha256_force_portable - see sha256.h */
int sha256_force_portable(int portable)
{
#if defined(__x86_64__)
    int impl = portable ? 0 : sha256_probe();
#else
    int impl = 0;
    (void)portable;
#endif
    atomic_store_explicit(&sha256_impl, impl, memory_order_relaxed);
    return impl;
}

/* sha256_blocks - process n 64-byte blocks with the best code for this CPU */
static void sha256_blocks(uint32_t state[8], const unsigned char *p, size_t n)
{
#if defined(__x86_64__)
    int impl = atomic_load_explicit(&sha256_impl, memory_order_relaxed);

    if (impl < 0)
        impl = sha256_force_portable(0);
    if (impl) {
        sha256_blocks_shani(state, p, n);
        return;
    }
#endif
    sha256_blocks_portable(state, p, n);
}

/* sha256_init - the initial hash value H(0) (FIPS 180-4, 5.3.3) */
void sha256_init(struct sha256 *ctx)
{
    static const uint32_t h0[8] = {
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    };
    memcpy(ctx->state, h0, sizeof(h0));
    ctx->length = 0;
    ctx->used = 0;
}

/* sha256_update - hash len more bytes */
void sha256_update(struct sha256 *ctx, const void *data, size_t len)
{
    const unsigned char *p = data;

    ctx->length += len;
    if (ctx->used > 0) {
        size_t take = sizeof(ctx->block) - ctx->used;
        if (take > len)
            take = len;
        memcpy(ctx->block + ctx->used, p, take);
        ctx->used += take;
        p += take;
        len -= take;
        if (ctx->used < sizeof(ctx->block))
            return;
        sha256_blocks(ctx->state, ctx->block, 1);
        ctx->used = 0;
    }
    /* Whole blocks straight from the caller's buffer, in one call: no copy. */
    if (len >= sizeof(ctx->block)) {
        size_t n = len / sizeof(ctx->block);
        sha256_blocks(ctx->state, p, n);
        p += n * sizeof(ctx->block);
        len -= n * sizeof(ctx->block);
    }
    if (len > 0) {
        memcpy(ctx->block, p, len);
        ctx->used = len;
    }
}

/* sha256_final - pad (a 1 bit, zeros, the 64-bit bit length) and emit */
void sha256_final(struct sha256 *ctx, unsigned char digest[SHA256_DIGEST_SIZE])
{
    uint64_t bits = ctx->length * 8;

    ctx->block[ctx->used++] = 0x80;
    if (ctx->used > 56) {
        memset(ctx->block + ctx->used, 0, sizeof(ctx->block) - ctx->used);
        sha256_blocks(ctx->state, ctx->block, 1);
        ctx->used = 0;
    }
    memset(ctx->block + ctx->used, 0, 56 - ctx->used);
    store_be32(ctx->block + 56, (uint32_t)(bits >> 32));
    store_be32(ctx->block + 60, (uint32_t)bits);
    sha256_blocks(ctx->state, ctx->block, 1);
    for (int i = 0; i < 8; i++)
        store_be32(digest + 4 * i, ctx->state[i]);
    /* Leave nothing of the message behind in the context. */
    memset(ctx, 0, sizeof(*ctx));
}

/* sha256_hex - digest as lower-case hex into out (SHA256_HEX_SIZE bytes) */
void sha256_hex(const unsigned char digest[SHA256_DIGEST_SIZE], char *out)
{
    static const char hexdigits[] = "0123456789abcdef";

    for (int i = 0; i < SHA256_DIGEST_SIZE; i++) {
        out[2 * i] = hexdigits[digest[i] >> 4];
        out[2 * i + 1] = hexdigits[digest[i] & 0x0f];
    }
    out[2 * SHA256_DIGEST_SIZE] = '\0';
}
