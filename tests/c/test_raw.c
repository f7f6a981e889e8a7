#define _POSIX_C_SOURCE 200809L /* fork, alarm, waitpid (check.h) */
/*
 * test_raw.c: the raw primitives (AEAD, randomness, memzero, X25519, Ed25519, HKDF): round trips,
 * known-answer vectors, tampering, buffer sizes and NULL pointers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dmp.h"

/* ------------------------------------------------------------------------------------------ */
/* AEAD                                                                                         */
/* ------------------------------------------------------------------------------------------ */

static void aead_round_trips(void) {
    uint8_t key[DMP_KEY_LEN];
    CHECK_OK(dmp_random_bytes(key, sizeof key));
    const size_t sizes[] = {0, 1, 15, 16, 17, 63, 64, 65, 255, 1000, 4096};
    const uint8_t ad[] = "associated data";
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        uint8_t *pt = check_xmalloc(n);
        uint8_t *sealed = check_xmalloc(n + DMP_AEAD_OVERHEAD);
        uint8_t *sealed2 = check_xmalloc(n + DMP_AEAD_OVERHEAD);
        uint8_t *back = check_xmalloc(n);
        for (size_t j = 0; j < n; j++) pt[j] = (uint8_t)(j * 7 + 3);
        for (int with_ad = 0; with_ad < 2; with_ad++) {
            const uint8_t *a = with_ad ? ad : NULL;
            size_t alen = with_ad ? sizeof ad : 0;
            size_t len = 0;
            CHECK_OK(dmp_aead_seal(key, a, alen, pt, n, sealed, n + DMP_AEAD_OVERHEAD, &len));
            CHECK(len == n + DMP_AEAD_OVERHEAD);
            size_t len2 = 0;
            CHECK_OK(dmp_aead_seal(key, a, alen, pt, n, sealed2, n + DMP_AEAD_OVERHEAD, &len2));
            /* A fresh random nonce each time. */
            CHECK(memcmp(sealed, sealed2, DMP_NONCE_LEN) != 0);
            size_t blen = 12345;
            memset(back, 0xEE, n);
            CHECK_OK(dmp_aead_open(key, a, alen, sealed, len, back, n, &blen));
            CHECK(blen == n);
            CHECK(n == 0 || memcmp(back, pt, n) == 0);
            CHECK_OK(dmp_aead_open(key, a, alen, sealed2, len2, back, n, &blen));
            CHECK(n == 0 || memcmp(back, pt, n) == 0);
            /* A larger output buffer is fine: exactly n bytes are written. */
            uint8_t *big = check_xmalloc(n + 8);
            memset(big, 0x5A, n + 8);
            CHECK_OK(dmp_aead_open(key, a, alen, sealed, len, big, n + 8, &blen));
            CHECK(blen == n);
            CHECK(check_all_equal(big + n, 8, 0x5A));
            free(big);
        }
        free(pt);
        free(sealed);
        free(sealed2);
        free(back);
    }

    /* NULL is allowed for ad and pt with length 0, and for out with cap 0 when opening an empty
     * plaintext. */
    uint8_t sealed[DMP_AEAD_OVERHEAD];
    size_t len = 0;
    CHECK_OK(dmp_aead_seal(key, NULL, 0, NULL, 0, sealed, sizeof sealed, &len));
    CHECK(len == DMP_AEAD_OVERHEAD);
    size_t blen = 99;
    CHECK_OK(dmp_aead_open(key, NULL, 0, sealed, len, NULL, 0, &blen));
    CHECK(blen == 0);
    /* A non-NULL ad pointer with length 0 is the same empty ad. */
    CHECK_OK(dmp_aead_open(key, (const uint8_t *)"x", 0, sealed, len, NULL, 0, &blen));
}

static void aead_tampering(void) {
    uint8_t key[DMP_KEY_LEN], other_key[DMP_KEY_LEN];
    CHECK_OK(dmp_random_bytes(key, sizeof key));
    CHECK_OK(dmp_random_bytes(other_key, sizeof other_key));
    const uint8_t ad[5] = {1, 2, 3, 4, 5};
    uint8_t pt[32];
    for (size_t i = 0; i < sizeof pt; i++) pt[i] = (uint8_t)i;
    uint8_t sealed[sizeof pt + DMP_AEAD_OVERHEAD];
    size_t len = 0;
    CHECK_OK(dmp_aead_seal(key, ad, sizeof ad, pt, sizeof pt, sealed, sizeof sealed, &len));
    CHECK(len == sizeof sealed);

    uint8_t out[sizeof pt + 16];
    size_t out_len = 0;
    /* Every single-bit flip is refused, and nothing of the plaintext is left in out. */
    unsigned refused = 0, zeroed = 0;
    for (size_t bit = 0; bit < 8 * len; bit++) {
        uint8_t t[sizeof sealed];
        memcpy(t, sealed, len);
        t[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        memset(out, 0xAA, sizeof out);
        if (dmp_aead_open(key, ad, sizeof ad, t, len, out, sizeof out, &out_len) == DMP_ERR_AUTH_FAILED)
            refused++;
        if (check_all_equal(out, sizeof pt, 0) || check_all_equal(out, sizeof pt, 0xAA)) zeroed++;
    }
    CHECK(refused == 8 * len);
    CHECK(zeroed == 8 * len);
    /* The genuine one still opens. */
    CHECK_OK(dmp_aead_open(key, ad, sizeof ad, sealed, len, out, sizeof out, &out_len));
    CHECK(out_len == sizeof pt && memcmp(out, pt, sizeof pt) == 0);

    /* Every truncation is refused (below the overhead and above it). */
    refused = 0;
    for (size_t n = 0; n < len; n++)
        if (dmp_aead_open(key, ad, sizeof ad, sealed, n, out, sizeof out, &out_len) == DMP_ERR_AUTH_FAILED)
            refused++;
    CHECK(refused == len);
    /* Truncation from the front too (the nonce moves). */
    refused = 0;
    for (size_t n = 1; n < len; n++)
        if (dmp_aead_open(key, ad, sizeof ad, sealed + n, len - n, out, sizeof out, &out_len) ==
            DMP_ERR_AUTH_FAILED)
            refused++;
    CHECK(refused == len - 1);
    /* An extended message is refused. */
    uint8_t longer[sizeof sealed + 1];
    memcpy(longer, sealed, len);
    longer[len] = 0;
    CHECK_STATUS(dmp_aead_open(key, ad, sizeof ad, longer, len + 1, out, sizeof out, &out_len),
                 DMP_ERR_AUTH_FAILED);
    /* Empty input with a NULL pointer is a truncation, not a NULL pointer. */
    CHECK_STATUS(dmp_aead_open(key, ad, sizeof ad, NULL, 0, out, sizeof out, &out_len), DMP_ERR_AUTH_FAILED);

    /* Wrong key, wrong / missing / extra ad. */
    memset(out, 0xAA, sizeof out);
    CHECK_STATUS(dmp_aead_open(other_key, ad, sizeof ad, sealed, len, out, sizeof out, &out_len),
                 DMP_ERR_AUTH_FAILED);
    CHECK(check_all_equal(out, sizeof pt, 0));
    const uint8_t ad2[5] = {1, 2, 3, 4, 6};
    CHECK_STATUS(dmp_aead_open(key, ad2, sizeof ad2, sealed, len, out, sizeof out, &out_len),
                 DMP_ERR_AUTH_FAILED);
    CHECK_STATUS(dmp_aead_open(key, NULL, 0, sealed, len, out, sizeof out, &out_len), DMP_ERR_AUTH_FAILED);
    CHECK_STATUS(dmp_aead_open(key, ad, sizeof ad - 1, sealed, len, out, sizeof out, &out_len),
                 DMP_ERR_AUTH_FAILED);
    const uint8_t ad3[6] = {1, 2, 3, 4, 5, 0};
    CHECK_STATUS(dmp_aead_open(key, ad3, sizeof ad3, sealed, len, out, sizeof out, &out_len),
                 DMP_ERR_AUTH_FAILED);
    CHECK_OK(dmp_aead_open(key, ad, sizeof ad, sealed, len, out, sizeof out, &out_len));
}

static void aead_buffers(void) {
    uint8_t key[DMP_KEY_LEN];
    CHECK_OK(dmp_random_bytes(key, sizeof key));
    uint8_t pt[100];
    memset(pt, 0x42, sizeof pt);
    uint8_t sealed[sizeof pt + DMP_AEAD_OVERHEAD];
    size_t len = 0;

    /* Seal: a size query, then one byte short, then exact. */
    CHECK_STATUS(dmp_aead_seal(key, NULL, 0, pt, sizeof pt, NULL, 0, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == sizeof sealed);
    len = 0;
    memset(sealed, 0x11, sizeof sealed);
    CHECK_STATUS(dmp_aead_seal(key, NULL, 0, pt, sizeof pt, sealed, sizeof sealed - 1, &len),
                 DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == sizeof sealed);
    CHECK(check_all_equal(sealed, sizeof sealed, 0x11)); /* nothing written */
    CHECK_OK(dmp_aead_seal(key, NULL, 0, pt, sizeof pt, sealed, sizeof sealed, &len));
    CHECK(len == sizeof sealed);

    /* Open: a size query, then one byte short, then exact. */
    uint8_t out[sizeof pt];
    size_t out_len = 0;
    CHECK_STATUS(dmp_aead_open(key, NULL, 0, sealed, len, NULL, 0, &out_len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(out_len == sizeof pt);
    out_len = 0;
    CHECK_STATUS(dmp_aead_open(key, NULL, 0, sealed, len, out, sizeof out - 1, &out_len),
                 DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(out_len == sizeof pt);
    CHECK_OK(dmp_aead_open(key, NULL, 0, sealed, len, out, sizeof out, &out_len));
    CHECK(out_len == sizeof pt && memcmp(out, pt, sizeof pt) == 0);
}

static void aead_null_pointers(void) {
    uint8_t key[DMP_KEY_LEN] = {0};
    uint8_t ad[4] = {0}, pt[8] = {0}, out[64], sealed[sizeof pt + DMP_AEAD_OVERHEAD];
    size_t len = 0;
    CHECK_OK(dmp_aead_seal(key, ad, sizeof ad, pt, sizeof pt, sealed, sizeof sealed, &len));

    CHECK_STATUS(dmp_aead_seal(NULL, ad, sizeof ad, pt, sizeof pt, out, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_aead_seal(key, NULL, sizeof ad, pt, sizeof pt, out, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_aead_seal(key, ad, sizeof ad, NULL, sizeof pt, out, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_aead_seal(key, ad, sizeof ad, pt, sizeof pt, NULL, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_aead_seal(key, ad, sizeof ad, pt, sizeof pt, out, sizeof out, NULL), DMP_ERR_NULL_POINTER);

    CHECK_STATUS(dmp_aead_open(NULL, ad, sizeof ad, sealed, sizeof sealed, out, sizeof out, &len),
                 DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_aead_open(key, NULL, sizeof ad, sealed, sizeof sealed, out, sizeof out, &len),
                 DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_aead_open(key, ad, sizeof ad, NULL, sizeof sealed, out, sizeof out, &len),
                 DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_aead_open(key, ad, sizeof ad, sealed, sizeof sealed, NULL, sizeof out, &len),
                 DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_aead_open(key, ad, sizeof ad, sealed, sizeof sealed, out, sizeof out, NULL),
                 DMP_ERR_NULL_POINTER);
    /* Still opens with everything given. */
    CHECK_OK(dmp_aead_open(key, ad, sizeof ad, sealed, sizeof sealed, out, sizeof out, &len));
}

/* ------------------------------------------------------------------------------------------ */
/* Randomness and memzero                                                                       */
/* ------------------------------------------------------------------------------------------ */

static void random_and_memzero(void) {
    uint8_t a[64], b[64];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    CHECK_OK(dmp_random_bytes(a, sizeof a));
    CHECK_OK(dmp_random_bytes(b, sizeof b));
    CHECK(memcmp(a, b, sizeof a) != 0);
    CHECK(!check_all_equal(a, sizeof a, 0));
    /* Every byte value shows up in 64 KiB of output (a weak sanity check, p(fail) ~ 256*e^-256). */
    uint8_t *big = check_xmalloc(65536);
    CHECK_OK(dmp_random_bytes(big, 65536));
    unsigned seen[256] = {0};
    for (size_t i = 0; i < 65536; i++) seen[big[i]]++;
    unsigned missing = 0;
    for (int i = 0; i < 256; i++) missing += seen[i] == 0;
    CHECK(missing == 0);
    free(big);
    /* Only len bytes are written. */
    uint8_t c[16];
    memset(c, 0x77, sizeof c);
    CHECK_OK(dmp_random_bytes(c, 8));
    CHECK(check_all_equal(c + 8, 8, 0x77));
    CHECK_OK(dmp_random_bytes(NULL, 0));
    CHECK_OK(dmp_random_bytes(c, 0));
    CHECK(check_all_equal(c + 8, 8, 0x77));
    CHECK_STATUS(dmp_random_bytes(NULL, 1), DMP_ERR_NULL_POINTER);

    uint8_t z[32];
    memset(z, 0xAB, sizeof z);
    CHECK_OK(dmp_memzero(z, 16));
    CHECK(check_all_equal(z, 16, 0));
    CHECK(check_all_equal(z + 16, 16, 0xAB));
    CHECK_OK(dmp_memzero(z, sizeof z));
    CHECK(check_all_equal(z, sizeof z, 0));
    CHECK_OK(dmp_memzero(NULL, 0));
    memset(z, 0xAB, sizeof z);
    CHECK_OK(dmp_memzero(z, 0));
    CHECK(check_all_equal(z, sizeof z, 0xAB));
    CHECK_STATUS(dmp_memzero(NULL, 1), DMP_ERR_NULL_POINTER);
}

/* ------------------------------------------------------------------------------------------ */
/* X25519                                                                                       */
/* ------------------------------------------------------------------------------------------ */

/* Public keys that must be refused: small order (and the non-canonical encodings of such points);
 * each gives an all-zero shared secret. */
static const char *const small_order_points[] = {
    "0000000000000000000000000000000000000000000000000000000000000000", /* 0, order 2 */
    "0100000000000000000000000000000000000000000000000000000000000000", /* 1, order 4 */
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", /* order 8 */
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", /* order 8 */
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p - 1 */
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p (= 0) */
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p + 1 (= 1) */
    "0000000000000000000000000000000000000000000000000000000000000080", /* 0, high bit set */
    "0100000000000000000000000000000000000000000000000000000000000080", /* 1, high bit set */
};

static void x25519_tests(void) {
    /* RFC 7748 section 6.1. */
    uint8_t a_sk[32], a_pk[32], b_sk[32], b_pk[32], shared[32], pk[32], out[32], out2[32];
    check_unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a_sk, 32);
    check_unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", a_pk, 32);
    check_unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b_sk, 32);
    check_unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", b_pk, 32);
    check_unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", shared, 32);
    CHECK_OK(dmp_x25519_public(a_sk, pk));
    CHECK(memcmp(pk, a_pk, 32) == 0);
    CHECK_OK(dmp_x25519_public(b_sk, pk));
    CHECK(memcmp(pk, b_pk, 32) == 0);
    CHECK_OK(dmp_x25519(a_sk, b_pk, out));
    CHECK(memcmp(out, shared, 32) == 0);
    CHECK_OK(dmp_x25519(b_sk, a_pk, out));
    CHECK(memcmp(out, shared, 32) == 0);

    /* RFC 7748 section 5.2, first test vector (scalar, u-coordinate, output). */
    uint8_t k[32], u[32], expect[32];
    check_unhex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4", k, 32);
    check_unhex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c", u, 32);
    check_unhex("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552", expect, 32);
    CHECK_OK(dmp_x25519(k, u, out));
    CHECK(memcmp(out, expect, 32) == 0);

    /* Random key pairs agree, and keypair's public matches x25519_public. */
    for (int i = 0; i < 8; i++) {
        uint8_t s1[32], p1[32], s2[32], p2[32];
        CHECK_OK(dmp_x25519_keypair(s1, p1));
        CHECK_OK(dmp_x25519_keypair(s2, p2));
        CHECK(memcmp(s1, s2, 32) != 0 && memcmp(p1, p2, 32) != 0);
        CHECK_OK(dmp_x25519_public(s1, pk));
        CHECK(memcmp(pk, p1, 32) == 0);
        CHECK_OK(dmp_x25519(s1, p2, out));
        CHECK_OK(dmp_x25519(s2, p1, out2));
        CHECK(memcmp(out, out2, 32) == 0);
        CHECK(!check_all_equal(out, 32, 0));
    }

    /* Small-order public keys: refused with WEAK_KEY and nothing written. */
    for (size_t i = 0; i < sizeof small_order_points / sizeof small_order_points[0]; i++) {
        uint8_t bad[32];
        check_unhex(small_order_points[i], bad, 32);
        memset(out, 0xCC, sizeof out);
        if (!CHECK_STATUS(dmp_x25519(a_sk, bad, out), DMP_ERR_WEAK_KEY))
            fprintf(stderr, "    public key %s\n", small_order_points[i]);
        CHECK(check_all_equal(out, 32, 0xCC));
    }

    /* NULL pointers. */
    uint8_t s[32], p[32];
    CHECK_STATUS(dmp_x25519_keypair(NULL, p), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_x25519_keypair(s, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_x25519_public(NULL, p), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_x25519_public(a_sk, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_x25519(NULL, b_pk, out), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_x25519(a_sk, NULL, out), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_x25519(a_sk, b_pk, NULL), DMP_ERR_NULL_POINTER);
}

/* ------------------------------------------------------------------------------------------ */
/* Ed25519                                                                                      */
/* ------------------------------------------------------------------------------------------ */

static void ed25519_tests(void) {
    /* RFC 8032 section 7.1, TEST 1 (empty message). */
    uint8_t seed[32], pk[32], sig[64], out_pk[32], out_sig[64];
    check_unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", seed, 32);
    check_unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", pk, 32);
    check_unhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
                "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
                sig, 64);
    CHECK_OK(dmp_ed25519_public(seed, out_pk));
    CHECK(memcmp(out_pk, pk, 32) == 0);
    CHECK_OK(dmp_ed25519_sign(seed, NULL, 0, out_sig)); /* NULL message with length 0 */
    CHECK(memcmp(out_sig, sig, 64) == 0);
    const uint8_t dummy = 0;
    CHECK_OK(dmp_ed25519_sign(seed, &dummy, 0, out_sig));
    CHECK(memcmp(out_sig, sig, 64) == 0);
    CHECK_OK(dmp_ed25519_verify(pk, NULL, 0, sig));
    CHECK_OK(dmp_ed25519_verify(pk, &dummy, 0, sig));

    /* RFC 8032 TEST 2 (one byte 0x72). */
    uint8_t seed2[32], pk2[32], sig2[64];
    const uint8_t msg2[1] = {0x72};
    check_unhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb", seed2, 32);
    check_unhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", pk2, 32);
    check_unhex("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e"
                "458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
                sig2, 64);
    CHECK_OK(dmp_ed25519_public(seed2, out_pk));
    CHECK(memcmp(out_pk, pk2, 32) == 0);
    CHECK_OK(dmp_ed25519_sign(seed2, msg2, 1, out_sig));
    CHECK(memcmp(out_sig, sig2, 64) == 0);
    CHECK_OK(dmp_ed25519_verify(pk2, msg2, 1, sig2));
    /* The vectors do not cross. */
    CHECK_STATUS(dmp_ed25519_verify(pk, msg2, 1, sig2), DMP_ERR_BAD_SIGNATURE);
    CHECK_STATUS(dmp_ed25519_verify(pk2, NULL, 0, sig), DMP_ERR_BAD_SIGNATURE);

    /* Random key pair: round trip, deterministic signatures, tampering. */
    uint8_t s[32], p[32];
    CHECK_OK(dmp_ed25519_keypair(s, p));
    CHECK_OK(dmp_ed25519_public(s, out_pk));
    CHECK(memcmp(out_pk, p, 32) == 0);
    uint8_t msg[16];
    memcpy(msg, "sixteen byte msg", 16);
    uint8_t sg[64], sg2[64];
    CHECK_OK(dmp_ed25519_sign(s, msg, sizeof msg, sg));
    CHECK_OK(dmp_ed25519_sign(s, msg, sizeof msg, sg2));
    CHECK(memcmp(sg, sg2, 64) == 0);
    CHECK_OK(dmp_ed25519_verify(p, msg, sizeof msg, sg));

    unsigned refused = 0;
    for (size_t bit = 0; bit < 8 * sizeof msg; bit++) {
        uint8_t m[16];
        memcpy(m, msg, sizeof m);
        m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        refused += dmp_ed25519_verify(p, m, sizeof m, sg) == DMP_ERR_BAD_SIGNATURE;
    }
    CHECK(refused == 8 * sizeof msg);
    refused = 0;
    for (size_t bit = 0; bit < 8 * 64; bit++) {
        uint8_t t[64];
        memcpy(t, sg, 64);
        t[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        refused += dmp_ed25519_verify(p, msg, sizeof msg, t) == DMP_ERR_BAD_SIGNATURE;
    }
    CHECK(refused == 8 * 64);
    /* Truncated and extended messages. */
    CHECK_STATUS(dmp_ed25519_verify(p, msg, sizeof msg - 1, sg), DMP_ERR_BAD_SIGNATURE);
    CHECK_STATUS(dmp_ed25519_verify(p, NULL, 0, sg), DMP_ERR_BAD_SIGNATURE);
    /* Wrong public key. */
    uint8_t s3[32], p3[32];
    CHECK_OK(dmp_ed25519_keypair(s3, p3));
    CHECK_STATUS(dmp_ed25519_verify(p3, msg, sizeof msg, sg), DMP_ERR_BAD_SIGNATURE);
    /* A public key that is not a curve point (y = 2 does not decompress). */
    uint8_t not_point[32] = {2};
    CHECK_STATUS(dmp_ed25519_verify(not_point, msg, sizeof msg, sg), DMP_ERR_BAD_SIGNATURE);
    /* A small-order public key (the identity point) with a signature R = identity, S = 0, which a
     * cofactored or non-strict verifier would accept for any message. */
    uint8_t identity_point[32] = {1};
    uint8_t weak_sig[64] = {1};
    CHECK_STATUS(dmp_ed25519_verify(identity_point, msg, sizeof msg, weak_sig), DMP_ERR_BAD_SIGNATURE);
    /* A non-canonical S (S + L) is refused. */
    static const uint8_t L[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                  0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                                  0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};
    uint8_t nc[64];
    memcpy(nc, sg, 64);
    unsigned carry = 0;
    for (int i = 0; i < 32; i++) {
        unsigned v = (unsigned)nc[32 + i] + L[i] + carry;
        nc[32 + i] = (uint8_t)v;
        carry = v >> 8;
    }
    CHECK(carry == 0);
    CHECK_STATUS(dmp_ed25519_verify(p, msg, sizeof msg, nc), DMP_ERR_BAD_SIGNATURE);
    CHECK_OK(dmp_ed25519_verify(p, msg, sizeof msg, sg));

    /* Keypairs differ. */
    CHECK(memcmp(s, s3, 32) != 0 && memcmp(p, p3, 32) != 0);

    /* NULL pointers (and a NULL message with a length). */
    CHECK_STATUS(dmp_ed25519_keypair(NULL, p), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_ed25519_keypair(s, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_ed25519_public(NULL, out_pk), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_ed25519_public(s, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_ed25519_sign(NULL, msg, sizeof msg, out_sig), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_ed25519_sign(s, NULL, sizeof msg, out_sig), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_ed25519_sign(s, msg, sizeof msg, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_ed25519_verify(NULL, msg, sizeof msg, sg), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_ed25519_verify(p, NULL, sizeof msg, sg), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_ed25519_verify(p, msg, sizeof msg, NULL), DMP_ERR_NULL_POINTER);
}

/* ------------------------------------------------------------------------------------------ */
/* HKDF                                                                                         */
/* ------------------------------------------------------------------------------------------ */

static void hkdf_tests(void) {
    /* RFC 5869 test case 1. */
    uint8_t ikm[22], salt[13], info[10], okm[42], out[42];
    memset(ikm, 0x0b, sizeof ikm);
    for (int i = 0; i < 13; i++) salt[i] = (uint8_t)i;
    for (int i = 0; i < 10; i++) info[i] = (uint8_t)(0xf0 + i);
    check_unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
                okm, sizeof okm);
    CHECK_OK(dmp_hkdf_sha256(salt, sizeof salt, ikm, sizeof ikm, info, sizeof info, out, sizeof out));
    CHECK(memcmp(out, okm, sizeof okm) == 0);
    /* A shorter output is a prefix. */
    uint8_t short_out[10];
    CHECK_OK(dmp_hkdf_sha256(salt, sizeof salt, ikm, sizeof ikm, info, sizeof info, short_out, sizeof short_out));
    CHECK(memcmp(short_out, okm, sizeof short_out) == 0);

    /* RFC 5869 test case 3: empty salt and info (NULL with length 0). */
    uint8_t okm3[42];
    check_unhex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
                okm3, sizeof okm3);
    CHECK_OK(dmp_hkdf_sha256(NULL, 0, ikm, sizeof ikm, NULL, 0, out, sizeof out));
    CHECK(memcmp(out, okm3, sizeof okm3) == 0);
    /* An empty salt is a zero-filled salt of hash length. */
    uint8_t zero_salt[32] = {0};
    CHECK_OK(dmp_hkdf_sha256(zero_salt, sizeof zero_salt, ikm, sizeof ikm, NULL, 0, out, sizeof out));
    CHECK(memcmp(out, okm3, sizeof okm3) == 0);

    /* Empty everything, NULL out with length 0. */
    CHECK_OK(dmp_hkdf_sha256(NULL, 0, NULL, 0, NULL, 0, NULL, 0));
    CHECK_OK(dmp_hkdf_sha256(NULL, 0, NULL, 0, NULL, 0, out, 0));

    /* The largest output, and one byte more. */
    uint8_t *big = check_xmalloc(DMP_HKDF_MAX_LEN + 1);
    memset(big, 0x33, DMP_HKDF_MAX_LEN + 1);
    CHECK_OK(dmp_hkdf_sha256(salt, sizeof salt, ikm, sizeof ikm, info, sizeof info, big, DMP_HKDF_MAX_LEN));
    CHECK(memcmp(big, okm, sizeof okm) == 0);
    CHECK(big[DMP_HKDF_MAX_LEN] == 0x33);
    CHECK_STATUS(dmp_hkdf_sha256(salt, sizeof salt, ikm, sizeof ikm, info, sizeof info, big,
                                 DMP_HKDF_MAX_LEN + 1),
                 DMP_ERR_TOO_LARGE);
    CHECK_STATUS(dmp_hkdf_sha256(salt, sizeof salt, ikm, sizeof ikm, info, sizeof info, big, SIZE_MAX),
                 DMP_ERR_TOO_LARGE);
    free(big);

    /* NULL pointers with non-zero lengths. */
    CHECK_STATUS(dmp_hkdf_sha256(NULL, sizeof salt, ikm, sizeof ikm, info, sizeof info, out, sizeof out),
                 DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_hkdf_sha256(salt, sizeof salt, NULL, sizeof ikm, info, sizeof info, out, sizeof out),
                 DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_hkdf_sha256(salt, sizeof salt, ikm, sizeof ikm, NULL, sizeof info, out, sizeof out),
                 DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_hkdf_sha256(salt, sizeof salt, ikm, sizeof ikm, info, sizeof info, NULL, sizeof out),
                 DMP_ERR_NULL_POINTER);
}

/* Outputs overlapping an input or another output are refused before anything is written (the
 * size query's *out_len included); side by side, the same buffers work. */
static void overlapping_buffers(void) {
    uint8_t key[DMP_KEY_LEN] = {3}, seed[32] = {4}, pk[32];
    size_t words[64]; /* aligned storage, so that a size_t can sit inside a byte buffer */
    uint8_t *buf = (uint8_t *)words, before[sizeof words];
    for (size_t i = 0; i < sizeof words; i++) buf[i] = (uint8_t)i;
    memcpy(before, buf, sizeof before);
    size_t len = 12345;

    /* AEAD in place, and outputs over the ad, the key and out_len. */
    CHECK_OVERLAP(dmp_aead_seal(key, NULL, 0, buf, 16, buf, 100, &len), "out", "pt");
    CHECK_OVERLAP(dmp_aead_seal(key, NULL, 0, buf, 16, NULL, 0, (size_t *)(void *)buf), "out_len", "pt");
    CHECK_OVERLAP(dmp_aead_seal(key, buf + 100, 8, buf, 16, buf + 60, 60, &len), "out", "ad");
    CHECK_OVERLAP(dmp_aead_seal(buf + 200, NULL, 0, buf, 16, buf + 180, 60, &len), "out", "key32");
    CHECK_OVERLAP(dmp_aead_seal(key, NULL, 0, buf, 16, buf + 64, 64, &words[10]), "out", "out_len");
    CHECK_OVERLAP(dmp_aead_open(key, NULL, 0, buf, 56, buf, 100, &len), "out", "in");
    CHECK_OVERLAP(dmp_aead_open(key, buf + 100, 8, buf, 56, buf + 60, 60, &len), "out", "ad");
    CHECK(len == 12345);
    CHECK(memcmp(buf, before, sizeof before) == 0);
    /* Adjacent is not overlapping: the ciphertext goes right after the plaintext. */
    CHECK_OK(dmp_aead_seal(key, NULL, 0, buf, 16, buf + 16, 16 + DMP_AEAD_OVERHEAD, &len));
    CHECK(len == 16 + DMP_AEAD_OVERHEAD);
    memcpy(buf, before, sizeof before);

    /* Keys: in place, and the two halves of a key pair. */
    CHECK_OVERLAP(dmp_x25519_keypair(buf, buf + 16), "secret32_out", "public32_out");
    CHECK_OVERLAP(dmp_x25519_public(buf, buf), "public32_out", "secret32");
    CHECK_OK(dmp_x25519_keypair(buf + 64, pk));
    CHECK_OVERLAP(dmp_x25519(buf, pk, buf + 31), "shared32_out", "secret32");
    CHECK_OVERLAP(dmp_x25519(buf + 64, buf, buf), "shared32_out", "public32");
    memcpy(buf + 64, before + 64, 32);
    CHECK_OVERLAP(dmp_ed25519_keypair(buf, buf), "seed32_out", "public32_out");
    CHECK_OVERLAP(dmp_ed25519_public(buf, buf + 8), "public32_out", "seed32");
    CHECK_OVERLAP(dmp_ed25519_sign(seed, buf, 32, buf + 16), "sig64_out", "msg");
    CHECK_OVERLAP(dmp_ed25519_sign(buf, (const uint8_t *)"m", 1, buf), "sig64_out", "seed32");
    CHECK_OVERLAP(dmp_hkdf_sha256(NULL, 0, buf, 32, NULL, 0, buf + 16, 32), "out", "ikm");
    CHECK_OVERLAP(dmp_hkdf_sha256(buf, 8, seed, 32, NULL, 0, buf, 32), "out", "salt");
    CHECK_OVERLAP(dmp_hkdf_sha256(NULL, 0, seed, 32, buf + 40, 8, buf, 41), "out", "info");
    CHECK(memcmp(buf, before, sizeof before) == 0);
    CHECK_OK(dmp_ed25519_sign(seed, buf, 32, buf + 32));
    /* NULL and zero lengths overlap nothing. */
    CHECK_OK(dmp_hkdf_sha256(NULL, 0, seed, 32, buf, 0, buf, 32));
}

int main(int argc, char **argv) {
    (void)argc;
    aead_round_trips();
    aead_tampering();
    aead_buffers();
    aead_null_pointers();
    random_and_memzero();
    x25519_tests();
    ed25519_tests();
    hkdf_tests();
    overlapping_buffers();
    return check_finish(argv[0]);
}
