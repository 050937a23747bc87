/* test-sha256 - FIPS 180-4 / NIST test vectors, block boundaries, and
 * that splitting the input anywhere gives the same digest; all of it on the
 * portable code and on the SHA extensions, which must also agree with each
 * other on random messages. */

#include <stdlib.h>
#include <string.h>

#include "maps/sha256.h"
#include "tests/unit/tap.h"

/* digest_of - hex digest of len bytes fed in pieces of at most chunk */
static void digest_of(const void *data, size_t len, size_t chunk, char *hex)
{
    struct sha256 ctx;
    unsigned char d[SHA256_DIGEST_SIZE];
    const unsigned char *p = data;

    sha256_init(&ctx);
    while (len > 0) {
        size_t n = len < chunk ? len : chunk;
        sha256_update(&ctx, p, n);
        p += n;
        len -= n;
    }
    sha256_update(&ctx, "", 0);
    sha256_final(&ctx, d);
    sha256_hex(d, hex);
}

static const struct {
    const char *name, *msg, *want;
} vectors[] = {
    { "empty", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
    { "abc", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
    { "448 bits", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
    { "896 bits",
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
      "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
};

/* Padding edge cases: lengths around 56 and 64 bytes of 'x'. */
static const struct {
    size_t len;
    const char *want;
} xs[] = {
    { 55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072" },
    { 56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e" },
    { 63, "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2" },
    { 64, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c" },
    { 65, "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9" },
    { 119, "000b48d4edf0fa7bee3c6236ecd2785baa5db4eeb8bb54341b029e0d9fa5fb0c" },
    { 120, "13f05a0b594787f5ecd315edc96141bd3243203d1b7d4f0836f37308b276ba98" },
    { 128, "24da1b81d0b16df6428eee73c69fcb2a93c76bc6df706f0c6670fe6bfe800464" },
};

/* check_vectors - the known answers, on whichever path is selected */
static void check_vectors(const char *path)
{
    char hex[SHA256_HEX_SIZE];
    static const size_t chunks[] = { 1, 3, 63, 64, 65, 1000000 };

    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
            digest_of(vectors[i].msg, strlen(vectors[i].msg), chunks[c], hex);
            is_str(hex, vectors[i].want, "%s: %s (pieces of %zu)", path, vectors[i].name, chunks[c]);
        }
    }

    char buf[128];
    memset(buf, 'x', sizeof(buf));
    for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
        digest_of(buf, xs[i].len, 1000, hex);
        is_str(hex, xs[i].want, "%s: %zu x 'x' in one piece", path, xs[i].len);
        digest_of(buf, xs[i].len, 7, hex);
        is_str(hex, xs[i].want, "%s: %zu x 'x' in pieces of 7", path, xs[i].len);
    }

    char *million = malloc(1000000);
    if (!ok(million != NULL, "%s: allocate one million bytes", path))
        return;
    memset(million, 'a', 1000000);
    const char *want = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    digest_of(million, 1000000, 1000000, hex);
    is_str(hex, want, "%s: one million 'a' in one piece", path);
    digest_of(million, 1000000, 4093, hex);
    is_str(hex, want, "%s: one million 'a' in pieces of 4093", path);
    free(million);
}

/* rnd - xorshift64: the same sequence on every run, so failures repeat */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

/* digest_random_pieces - like digest_of, pieces of random size 0..max */
static void digest_random_pieces(const unsigned char *p, size_t len, size_t max, char *hex)
{
    struct sha256 ctx;
    unsigned char d[SHA256_DIGEST_SIZE];

    sha256_init(&ctx);
    while (len > 0) {
        size_t n = (size_t)(rnd() % (max + 1));
        if (n > len)
            n = len;
        sha256_update(&ctx, p, n);
        p += n;
        len -= n;
    }
    sha256_final(&ctx, d);
    sha256_hex(d, hex);
}

/* check_agree - every length 0..256, then random lengths up to 10000 of
 * random bytes, in random pieces: both paths give the same digest */
static void check_agree(void)
{
    enum { MAXLEN = 10000, RANDOM = 400 };
    static unsigned char msg[MAXLEN];
    static const size_t maxpiece[] = { 1, 17, 64, 200, 5000, MAXLEN };
    char hp[SHA256_HEX_SIZE], hs[SHA256_HEX_SIZE];
    int bad = 0, runs = 0;

    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (unsigned char)rnd();
    for (int r = 0; r < 257 + RANDOM; r++) {
        size_t len = r <= 256 ? (size_t)r : (size_t)(rnd() % (MAXLEN + 1));
        size_t off = (size_t)(rnd() % (MAXLEN - len + 1));  /* unaligned too */
        size_t max = maxpiece[rnd() % (sizeof(maxpiece) / sizeof(maxpiece[0]))];

        sha256_force_portable(1);
        digest_random_pieces(msg + off, len, max, hp);
        sha256_force_portable(0);
        digest_random_pieces(msg + off, len, max, hs);
        runs++;
        if (strcmp(hp, hs) != 0 && bad++ == 0)
            diag("%zu bytes at offset %zu: portable %s, SHA-NI %s", len, off, hp, hs);
    }
    is_int(bad, 0, "portable and SHA-NI agree on %d messages of 0..%d bytes", runs, MAXLEN);
}

int main(void)
{
    ok(sha256_force_portable(1) == 0, "forcing the portable code takes effect");
    check_vectors("portable");

    if (sha256_force_portable(0)) {
        check_vectors("SHA-NI");
        check_agree();
    } else {
        ok(1, "# skip this CPU has no SHA extensions");
    }

    /* sha256_hex writes exactly 64 digits and a NUL. */
    unsigned char d[SHA256_DIGEST_SIZE];
    char out[SHA256_HEX_SIZE + 1];
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        d[i] = (unsigned char)(i * 8 + 15);
    memset(out, '#', sizeof(out));
    sha256_hex(d, out);
    is_int(strlen(out), 64, "hex is 64 digits");
    is_int(out[SHA256_HEX_SIZE], '#', "nothing written past the NUL");
    is_str(out, "0f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff07", "hex digits lower-case, in order");

    return tap_done();
}
