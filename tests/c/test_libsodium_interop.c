#define _POSIX_C_SOURCE 200809L /* fork, alarm, waitpid (check.h) */
/*
 * test_libsodium_interop.c: DMP's raw primitives against libsodium 1.0.18 (linked directly from
 * its runtime library; the headers are not installed, so the prototypes are declared here).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dmp.h"

/* libsodium prototypes (from sodium/crypto_aead_xchacha20poly1305.h, crypto_scalarmult.h,
 * crypto_sign.h, randombytes.h of libsodium 1.0.18). */
int sodium_init(void);
int crypto_aead_xchacha20poly1305_ietf_encrypt(unsigned char *c, unsigned long long *clen_p,
                                               const unsigned char *m, unsigned long long mlen,
                                               const unsigned char *ad, unsigned long long adlen,
                                               const unsigned char *nsec, const unsigned char *npub,
                                               const unsigned char *k);
int crypto_aead_xchacha20poly1305_ietf_decrypt(unsigned char *m, unsigned long long *mlen_p,
                                               unsigned char *nsec, const unsigned char *c,
                                               unsigned long long clen, const unsigned char *ad,
                                               unsigned long long adlen, const unsigned char *npub,
                                               const unsigned char *k);
int crypto_scalarmult(unsigned char *q, const unsigned char *n, const unsigned char *p);
int crypto_scalarmult_base(unsigned char *q, const unsigned char *n);
int crypto_sign_seed_keypair(unsigned char *pk, unsigned char *sk, const unsigned char *seed);
int crypto_sign_detached(unsigned char *sig, unsigned long long *siglen_p, const unsigned char *m,
                         unsigned long long mlen, const unsigned char *sk);
int crypto_sign_verify_detached(const unsigned char *sig, const unsigned char *m,
                                unsigned long long mlen, const unsigned char *pk);
void randombytes_buf(void *buf, size_t size);

static void aead_interop(void) {
    const size_t sizes[] = {0, 1, 64, 1000, 65536};
    uint8_t key[32];
    CHECK_OK(dmp_random_bytes(key, sizeof key));
    const uint8_t ad[] = {'D', 'M', 'P', '1', 0, 0xff};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        uint8_t *pt = check_xmalloc(n);
        uint8_t *sealed = check_xmalloc(n + DMP_AEAD_OVERHEAD);
        uint8_t *back = check_xmalloc(n);
        randombytes_buf(pt, n);
        for (int with_ad = 0; with_ad < 2; with_ad++) {
            const uint8_t *a = with_ad ? ad : NULL;
            size_t alen = with_ad ? sizeof ad : 0;

            /* DMP seals, libsodium opens (nonce = first 24 bytes). */
            size_t len = 0;
            CHECK_OK(dmp_aead_seal(key, a, alen, pt, n, sealed, n + DMP_AEAD_OVERHEAD, &len));
            CHECK(len == n + DMP_AEAD_OVERHEAD);
            unsigned long long mlen = 0;
            memset(back, 0, n);
            CHECK(crypto_aead_xchacha20poly1305_ietf_decrypt(back, &mlen, NULL, sealed + DMP_NONCE_LEN,
                                                             len - DMP_NONCE_LEN, a, alen, sealed,
                                                             key) == 0);
            CHECK(mlen == n);
            CHECK(n == 0 || memcmp(back, pt, n) == 0);
            /* libsodium refuses it under another ad, as DMP would. */
            const uint8_t other_ad[] = {9};
            CHECK(crypto_aead_xchacha20poly1305_ietf_decrypt(back, &mlen, NULL, sealed + DMP_NONCE_LEN,
                                                             len - DMP_NONCE_LEN, other_ad,
                                                             sizeof other_ad, sealed, key) != 0);

            /* libsodium seals with a random nonce, DMP opens nonce || ct || tag. */
            uint8_t nonce[24];
            randombytes_buf(nonce, sizeof nonce);
            memcpy(sealed, nonce, sizeof nonce);
            unsigned long long clen = 0;
            CHECK(crypto_aead_xchacha20poly1305_ietf_encrypt(sealed + DMP_NONCE_LEN, &clen, pt, n, a, alen,
                                                             NULL, nonce, key) == 0);
            CHECK(clen == n + DMP_TAG_LEN);
            size_t blen = 0;
            memset(back, 0, n);
            CHECK_OK(dmp_aead_open(key, a, alen, sealed, DMP_NONCE_LEN + (size_t)clen, back, n, &blen));
            CHECK(blen == n);
            CHECK(n == 0 || memcmp(back, pt, n) == 0);
            /* A tampered libsodium ciphertext is refused by DMP. */
            sealed[DMP_NONCE_LEN + (size_t)clen - 1] ^= 0x01;
            CHECK_STATUS(dmp_aead_open(key, a, alen, sealed, DMP_NONCE_LEN + (size_t)clen, back, n, &blen),
                         DMP_ERR_AUTH_FAILED);
        }
        free(pt);
        free(sealed);
        free(back);
    }
}

static const char *const small_order_points[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

static void x25519_interop(void) {
    for (int i = 0; i < 16; i++) {
        uint8_t s1[32], p1[32], s2[32], p2[32], q[32], d[32];
        CHECK_OK(dmp_x25519_keypair(s1, p1));
        /* libsodium computes the same public key from DMP's secret. */
        CHECK(crypto_scalarmult_base(q, s1) == 0);
        CHECK(memcmp(q, p1, 32) == 0);
        /* And DMP the same public key from libsodium's random secret. */
        randombytes_buf(s2, sizeof s2);
        CHECK(crypto_scalarmult_base(p2, s2) == 0);
        CHECK_OK(dmp_x25519_public(s2, q));
        CHECK(memcmp(q, p2, 32) == 0);
        /* Shared secrets agree in both directions. */
        CHECK(crypto_scalarmult(q, s1, p2) == 0);
        CHECK_OK(dmp_x25519(s1, p2, d));
        CHECK(memcmp(q, d, 32) == 0);
        CHECK_OK(dmp_x25519(s2, p1, d));
        CHECK(memcmp(q, d, 32) == 0);
        /* An arbitrary (random, high bit cleared) u-coordinate gives the same result too. */
        uint8_t u[32];
        randombytes_buf(u, sizeof u);
        u[31] &= 0x7f;
        int rs = crypto_scalarmult(q, s1, u);
        int32_t rd = dmp_x25519(s1, u, d);
        CHECK((rs == 0) == (rd == DMP_OK));
        if (rs == 0 && rd == DMP_OK) CHECK(memcmp(q, d, 32) == 0);
    }
    /* Both refuse the small-order points. */
    uint8_t s[32], p[32], q[32], d[32];
    CHECK_OK(dmp_x25519_keypair(s, p));
    for (size_t i = 0; i < sizeof small_order_points / sizeof small_order_points[0]; i++) {
        uint8_t bad[32];
        check_unhex(small_order_points[i], bad, 32);
        CHECK(crypto_scalarmult(q, s, bad) != 0);
        CHECK_STATUS(dmp_x25519(s, bad, d), DMP_ERR_WEAK_KEY);
    }
}

static void ed25519_interop(void) {
    const size_t lens[] = {0, 1, 32, 100, 1000};
    for (int round = 0; round < 4; round++) {
        uint8_t seed[32], pk[32], spk[32], ssk[64];
        CHECK_OK(dmp_ed25519_keypair(seed, pk));
        CHECK(crypto_sign_seed_keypair(spk, ssk, seed) == 0);
        CHECK(memcmp(spk, pk, 32) == 0);
        for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
            size_t n = lens[i];
            uint8_t *m = check_xmalloc(n);
            randombytes_buf(m, n);
            uint8_t dsig[64], ssig[64];
            unsigned long long siglen = 0;
            CHECK_OK(dmp_ed25519_sign(seed, m, n, dsig));
            CHECK(crypto_sign_detached(ssig, &siglen, m, n, ssk) == 0);
            CHECK(siglen == 64);
            CHECK(memcmp(dsig, ssig, 64) == 0); /* Ed25519 is deterministic */
            CHECK(crypto_sign_verify_detached(dsig, m, n, pk) == 0);
            CHECK_OK(dmp_ed25519_verify(pk, m, n, ssig));
            if (n > 0) {
                m[0] ^= 1;
                CHECK(crypto_sign_verify_detached(dsig, m, n, pk) != 0);
                CHECK_STATUS(dmp_ed25519_verify(pk, m, n, dsig), DMP_ERR_BAD_SIGNATURE);
            }
            free(m);
        }
        /* DMP derives the same public key from a libsodium-chosen seed. */
        uint8_t seed2[32], out[32];
        randombytes_buf(seed2, sizeof seed2);
        CHECK(crypto_sign_seed_keypair(spk, ssk, seed2) == 0);
        CHECK_OK(dmp_ed25519_public(seed2, out));
        CHECK(memcmp(out, spk, 32) == 0);
    }

    /* An identity's signatures verify with libsodium under its agent id, and they are the plain
     * Ed25519 signatures of its seed. */
    uint8_t seed[32], agent[32], sig[64], ssig[64], spk[32], ssk[64];
    CHECK_OK(dmp_random_bytes(seed, sizeof seed));
    dmp_identity_t *id = NULL;
    CHECK_OK(dmp_identity_from_seed(seed, &id));
    CHECK_OK(dmp_identity_public_key(id, agent));
    const uint8_t msg[] = "signed by an agent";
    CHECK_OK(dmp_identity_sign(id, msg, sizeof msg, sig));
    CHECK(crypto_sign_verify_detached(sig, msg, sizeof msg, agent) == 0);
    CHECK(crypto_sign_seed_keypair(spk, ssk, seed) == 0);
    CHECK(memcmp(spk, agent, 32) == 0);
    unsigned long long siglen = 0;
    CHECK(crypto_sign_detached(ssig, &siglen, msg, sizeof msg, ssk) == 0);
    CHECK(memcmp(ssig, sig, 64) == 0);
    dmp_identity_free(id);
}

int main(int argc, char **argv) {
    (void)argc;
    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 1;
    }
    aead_interop();
    x25519_interop();
    ed25519_interop();
    return check_finish(argv[0]);
}
