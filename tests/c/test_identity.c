/*
 * test_identity.c: identities, fingerprints, signatures, prekey bundles, prekey management and
 * identity records.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "dmp.h"

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t be64(const uint8_t *p) {
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* Offsets in a bundle (docs/PROTOCOL.md; wire/bundle.rs). */
enum {
    B_IDENTITY = 2, B_SPK_ID = 34, B_SPK = 38, B_EXPIRES = 70, B_SIGNATURE = 78, B_FLAGS = 142,
    B_OTK_ID = 143, B_OTK_KEY = 147
};
/* Flags: bit 0 a one-time prekey block (36 bytes, right after the flags), bit 1 an ML-KEM block. */
enum { F_OTK = 1, F_KEM = 2 };

static int fingerprint_well_formed(const uint8_t *fp, size_t len) {
    if (len != DMP_FINGERPRINT_LEN) return 0;
    for (size_t i = 0; i < len; i++) {
        if (i % 5 == 4) {
            if (fp[i] != ' ') return 0;
        } else if (!isxdigit(fp[i]) || isupper(fp[i])) {
            return 0;
        }
    }
    return 1;
}

static uint32_t otk_count(const dmp_identity_t *id) {
    uint32_t n = 0xdeadbeef;
    CHECK_OK(dmp_identity_one_time_prekey_count(id, &n));
    return n;
}

static int32_t suite_of(const dmp_identity_t *id) {
    int32_t suite = -1;
    CHECK_OK(dmp_identity_suite(id, &suite));
    return suite;
}

static void generate_and_seed(void) {
    dmp_identity_t *a = NULL, *b = NULL;
    CHECK_OK(dmp_identity_generate(&a));
    CHECK_OK(dmp_identity_generate(&b));
    CHECK(a != NULL && b != NULL && a != b);
    CHECK(suite_of(a) == DMP_SUITE_HYBRID); /* the default */
    uint8_t pa[32], pb[32];
    CHECK_OK(dmp_identity_public_key(a, pa));
    CHECK_OK(dmp_identity_public_key(b, pb));
    CHECK(memcmp(pa, pb, 32) != 0);
    /* A fresh identity has one signed prekey, its id drawn from 1..2^31 (two identities
     * almost surely differ), and no one-time prekeys. */
    uint32_t spk = 0, spk_b = 0;
    CHECK_OK(dmp_identity_signed_prekey_id(a, &spk));
    CHECK_OK(dmp_identity_signed_prekey_id(b, &spk_b));
    CHECK(spk >= 1 && spk <= 0x80000000u && spk != spk_b);
    CHECK(otk_count(a) == 0);
    dmp_identity_free(a);
    dmp_identity_free(b);

    /* Explicit suites. */
    dmp_identity_t *c = NULL, *h = NULL;
    CHECK_OK(dmp_identity_generate_with(DMP_SUITE_CLASSICAL, &c));
    CHECK_OK(dmp_identity_generate_with(DMP_SUITE_HYBRID, &h));
    CHECK(suite_of(c) == DMP_SUITE_CLASSICAL);
    CHECK(suite_of(h) == DMP_SUITE_HYBRID);
    dmp_identity_free(c);
    dmp_identity_free(h);
    const int32_t bad_suites[] = {0, 3, -1, INT32_MIN, INT32_MAX};
    uint8_t seed[32] = {9};
    int sentinel = 0;
    for (size_t i = 0; i < sizeof bad_suites / sizeof bad_suites[0]; i++) {
        dmp_identity_t *x = (dmp_identity_t *)(void *)&sentinel;
        CHECK_STATUS(dmp_identity_generate_with(bad_suites[i], &x), DMP_ERR_INVALID_ARGUMENT);
        CHECK(x == NULL);
        x = (dmp_identity_t *)(void *)&sentinel;
        CHECK_STATUS(dmp_identity_from_seed_with(seed, bad_suites[i], &x), DMP_ERR_INVALID_ARGUMENT);
        CHECK(x == NULL);
    }

    /* Seeds: the same seed gives the same agent id (the Ed25519 public key of the seed) in
     * both suites, and nothing else: every prekey, and its id, is fresh. */
    uint8_t seed1[32], seed2[32];
    memset(seed1, 0x01, sizeof seed1);
    memset(seed2, 0x02, sizeof seed2);
    uint8_t ed[32];
    CHECK_OK(dmp_ed25519_public(seed1, ed));
    const int32_t suites[2] = {DMP_SUITE_HYBRID, DMP_SUITE_CLASSICAL};
    for (int k = 0; k < 2; k++) {
        dmp_identity_t *s1 = NULL, *s1b = NULL, *s2 = NULL;
        if (suites[k] == DMP_SUITE_HYBRID) {
            CHECK_OK(dmp_identity_from_seed(seed1, &s1));
        } else {
            CHECK_OK(dmp_identity_from_seed_with(seed1, suites[k], &s1));
        }
        CHECK_OK(dmp_identity_from_seed_with(seed1, suites[k], &s1b));
        CHECK_OK(dmp_identity_from_seed_with(seed2, suites[k], &s2));
        CHECK(suite_of(s1) == suites[k] && suite_of(s1b) == suites[k]);
        uint8_t k1[32], k1b[32], k2[32];
        CHECK_OK(dmp_identity_public_key(s1, k1));
        CHECK_OK(dmp_identity_public_key(s1b, k1b));
        CHECK_OK(dmp_identity_public_key(s2, k2));
        CHECK(memcmp(k1, k1b, 32) == 0);
        CHECK(memcmp(k1, k2, 32) != 0);
        CHECK(memcmp(ed, k1, 32) == 0);
        uint8_t b1[DMP_BUNDLE_MAX_LEN], b1b[DMP_BUNDLE_MAX_LEN];
        size_t l1 = 0, l1b = 0;
        CHECK_OK(dmp_identity_bundle(s1, 0, b1, sizeof b1, &l1));
        CHECK_OK(dmp_identity_bundle(s1b, 0, b1b, sizeof b1b, &l1b));
        CHECK(l1 == l1b && memcmp(b1 + B_IDENTITY, b1b + B_IDENTITY, 32) == 0);
        CHECK(memcmp(b1 + B_SPK, b1b + B_SPK, 32) != 0);
        CHECK(be32(b1 + B_SPK_ID) != be32(b1b + B_SPK_ID)); /* random starts: 2^-31 to coincide */
        dmp_identity_free(s1);
        dmp_identity_free(s1b);
        dmp_identity_free(s2);
    }
}

static void fingerprints(void) {
    dmp_identity_t *id = NULL;
    CHECK_OK(dmp_identity_generate(&id));
    uint8_t pk[32];
    CHECK_OK(dmp_identity_public_key(id, pk));

    uint8_t fp[DMP_FINGERPRINT_LEN + 8];
    size_t len = 0;
    memset(fp, 0x7E, sizeof fp);
    CHECK_OK(dmp_identity_fingerprint(id, fp, sizeof fp, &len));
    CHECK(len == DMP_FINGERPRINT_LEN);
    CHECK(fingerprint_well_formed(fp, len));
    CHECK(check_all_equal(fp + DMP_FINGERPRINT_LEN, 8, 0x7E)); /* not NUL-terminated, nothing more */

    uint8_t fp2[DMP_FINGERPRINT_LEN];
    size_t len2 = 0;
    CHECK_OK(dmp_fingerprint(pk, fp2, sizeof fp2, &len2)); /* exact size */
    CHECK(len2 == DMP_FINGERPRINT_LEN);
    CHECK(memcmp(fp, fp2, DMP_FINGERPRINT_LEN) == 0);

    /* Size query and one byte short. */
    len = 0;
    CHECK_STATUS(dmp_identity_fingerprint(id, NULL, 0, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == DMP_FINGERPRINT_LEN);
    len = 0;
    CHECK_STATUS(dmp_identity_fingerprint(id, fp2, DMP_FINGERPRINT_LEN - 1, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == DMP_FINGERPRINT_LEN);
    len = 0;
    CHECK_STATUS(dmp_fingerprint(pk, NULL, 0, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == DMP_FINGERPRINT_LEN);
    len = 0;
    CHECK_STATUS(dmp_fingerprint(pk, fp2, DMP_FINGERPRINT_LEN - 1, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == DMP_FINGERPRINT_LEN);

    /* Another identity has another fingerprint; the same seed the same one. */
    dmp_identity_t *other = NULL;
    CHECK_OK(dmp_identity_generate(&other));
    uint8_t fpo[DMP_FINGERPRINT_LEN];
    CHECK_OK(dmp_identity_fingerprint(other, fpo, sizeof fpo, &len));
    CHECK(memcmp(fp, fpo, DMP_FINGERPRINT_LEN) != 0);
    dmp_identity_free(other);

    /* Not a point (y = 2 does not decompress), and a small-order point (the identity). */
    uint8_t not_point[32] = {2};
    uint8_t small[32] = {1};
    CHECK_STATUS(dmp_fingerprint(not_point, fp2, sizeof fp2, &len), DMP_ERR_BAD_ENVELOPE);
    CHECK_STATUS(dmp_fingerprint(small, fp2, sizeof fp2, &len), DMP_ERR_WEAK_KEY);

    /* NULL pointers. */
    CHECK_STATUS(dmp_identity_fingerprint(NULL, fp2, sizeof fp2, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_identity_fingerprint(id, NULL, sizeof fp2, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_identity_fingerprint(id, fp2, sizeof fp2, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_fingerprint(NULL, fp2, sizeof fp2, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_fingerprint(pk, NULL, sizeof fp2, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_fingerprint(pk, fp2, sizeof fp2, NULL), DMP_ERR_NULL_POINTER);
    dmp_identity_free(id);
}

static void signing(void) {
    uint8_t seed[32];
    CHECK_OK(dmp_random_bytes(seed, sizeof seed));
    dmp_identity_t *id = NULL;
    CHECK_OK(dmp_identity_from_seed(seed, &id));
    uint8_t pk[32], sig[64], sig2[64];
    CHECK_OK(dmp_identity_public_key(id, pk));
    const uint8_t msg[] = "a message to sign";
    CHECK_OK(dmp_identity_sign(id, msg, sizeof msg, sig));
    CHECK_OK(dmp_ed25519_verify(pk, msg, sizeof msg, sig));
    /* The same as a plain Ed25519 signature with the seed. */
    CHECK_OK(dmp_ed25519_sign(seed, msg, sizeof msg, sig2));
    CHECK(memcmp(sig, sig2, 64) == 0);
    /* Tampered message or signature. */
    uint8_t m2[sizeof msg];
    memcpy(m2, msg, sizeof msg);
    m2[0] ^= 0x20;
    CHECK_STATUS(dmp_ed25519_verify(pk, m2, sizeof m2, sig), DMP_ERR_BAD_SIGNATURE);
    sig2[10] ^= 0x04;
    CHECK_STATUS(dmp_ed25519_verify(pk, msg, sizeof msg, sig2), DMP_ERR_BAD_SIGNATURE);
    /* Empty message, NULL allowed. */
    CHECK_OK(dmp_identity_sign(id, NULL, 0, sig));
    CHECK_OK(dmp_ed25519_verify(pk, NULL, 0, sig));
    /* NULL pointers. */
    CHECK_STATUS(dmp_identity_sign(NULL, msg, sizeof msg, sig), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_identity_sign(id, NULL, sizeof msg, sig), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_identity_sign(id, msg, sizeof msg, NULL), DMP_ERR_NULL_POINTER);
    /* Messages that begin with "DMP" are the protocol's own (a bundle's signature covers
     * "DMP1 prekey bundle" || bundle bytes): refused, nothing written. */
    uint8_t bundle[DMP_BUNDLE_MAX_LEN + 32];
    size_t blen = 0;
    CHECK_OK(dmp_identity_bundle(id, 0, bundle + 18, sizeof bundle - 18, &blen));
    memcpy(bundle, "DMP1 prekey bundle", 18);
    const char *reserved[] = {(const char *)bundle, "DMP", "DMP2 anything"};
    const size_t reserved_len[] = {18 + blen, 3, 13};
    for (size_t i = 0; i < 3; i++) {
        memset(sig, 0xAB, sizeof sig);
        CHECK_STATUS(dmp_identity_sign(id, (const uint8_t *)reserved[i], reserved_len[i], sig),
                     DMP_ERR_INVALID_ARGUMENT);
        CHECK(strstr(dmp_last_error_message(), "reserved for the protocol's own signatures") != NULL);
        for (size_t j = 0; j < sizeof sig; j++) CHECK(sig[j] == 0xAB);
        /* The same rule for a raw signature with the identity's seed, which would otherwise sign
         * a bundle that verifies under the agent id. */
        CHECK_STATUS(dmp_ed25519_sign(seed, (const uint8_t *)reserved[i], reserved_len[i], sig),
                     DMP_ERR_INVALID_ARGUMENT);
        CHECK(strstr(dmp_last_error_message(), "reserved for the protocol's own signatures") != NULL);
        for (size_t j = 0; j < sizeof sig; j++) CHECK(sig[j] == 0xAB);
    }
    /* Close to it but not reserved: signed. */
    CHECK_OK(dmp_identity_sign(id, (const uint8_t *)"DM", 2, sig));
    CHECK_OK(dmp_ed25519_verify(pk, (const uint8_t *)"DM", 2, sig));
    CHECK_OK(dmp_identity_sign(id, (const uint8_t *)"dmp1", 4, sig));
    CHECK_OK(dmp_ed25519_sign(seed, (const uint8_t *)"DM", 2, sig2));
    CHECK_OK(dmp_ed25519_verify(pk, (const uint8_t *)"DM", 2, sig2));
    CHECK_OK(dmp_ed25519_sign(seed, (const uint8_t *)"dmp1", 4, sig2));
    CHECK_OK(dmp_ed25519_sign(seed, (const uint8_t *)"xDMP", 4, sig2));
    dmp_identity_free(id);
}

/* Sizes of an identity's bundles without and with a one-time prekey (dmp_identity_bundle). */
static size_t bundle_len(int32_t suite, int otk) {
    if (suite == DMP_SUITE_HYBRID) return otk ? DMP_BUNDLE_MAX_LEN : DMP_HYBRID_BUNDLE_LEN;
    return otk ? DMP_BUNDLE_LEN + 36 : DMP_BUNDLE_LEN;
}

static void bundles(int32_t suite) {
    const int hybrid = suite == DMP_SUITE_HYBRID;
    const size_t len0 = bundle_len(suite, 0), len1 = bundle_len(suite, 1);
    dmp_identity_t *id = NULL;
    CHECK_OK(dmp_identity_generate_with(suite, &id));
    uint8_t pk[32], agent[32];
    CHECK_OK(dmp_identity_public_key(id, pk));

    /* Without a one-time prekey. */
    uint8_t b[DMP_BUNDLE_MAX_LEN + 4];
    size_t len = 0;
    CHECK_STATUS(dmp_identity_bundle(id, 0, NULL, 0, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == len0);
    CHECK_STATUS(dmp_identity_bundle(id, 0, b, len0 - 1, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == len0);
    CHECK_OK(dmp_identity_bundle(id, 0, b, len0, &len));
    CHECK(len == len0);
    CHECK(b[B_FLAGS] == (hybrid ? F_KEM : 0));
    CHECK(memcmp(b + B_IDENTITY, pk, 32) == 0);
    uint32_t spk_id = 0;
    CHECK_OK(dmp_identity_signed_prekey_id(id, &spk_id));
    CHECK(spk_id >= 1 && spk_id <= 0x80000000u); /* a random start */
    CHECK(be32(b + B_SPK_ID) == spk_id);
    /* Valid for 14 days from now (the signed expiry; a minute of slack for a slow run). */
    const uint64_t expires = be64(b + B_EXPIRES), now = (uint64_t)time(NULL);
    CHECK(expires >= now + 14 * 86400 - 60 && expires <= now + 14 * 86400 + 60);
    CHECK_OK(dmp_bundle_verify(b, len, agent));
    CHECK(memcmp(agent, pk, 32) == 0);
    CHECK(otk_count(id) == 0); /* no one-time prekey used or generated */

    /* With one: none exists yet, so one is generated. A too-small buffer changes nothing. */
    CHECK_STATUS(dmp_identity_bundle(id, 1, NULL, 0, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == len1);
    CHECK(otk_count(id) == 0);
    CHECK_STATUS(dmp_identity_bundle(id, 1, b, len1 - 1, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == len1);
    CHECK(otk_count(id) == 0);
    CHECK_STATUS(dmp_identity_bundle(id, 1, b, len0, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(otk_count(id) == 0);
    CHECK_OK(dmp_identity_bundle(id, 1, b, sizeof b, &len));
    CHECK(len == len1);
    CHECK(b[B_FLAGS] == (hybrid ? F_KEM | F_OTK : F_OTK));
    const uint32_t first = be32(b + B_OTK_ID); /* a random start */
    CHECK(first >= 1 && first <= 0x80000000u);
    CHECK(otk_count(id) == 1);
    CHECK_OK(dmp_bundle_verify(b, len, agent));
    CHECK(memcmp(agent, pk, 32) == 0);

    /* With a pool: a too-small buffer does not hand out (mark) a prekey, so the next bundle
     * carries the oldest one not yet handed out; each one-time prekey goes out once. */
    CHECK_OK(dmp_identity_generate_one_time_prekeys(id, 5)); /* ids first + 1 .. first + 5 */
    CHECK(otk_count(id) == 6);
    CHECK_STATUS(dmp_identity_bundle(id, 1, b, len1 - 1, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK_STATUS(dmp_identity_bundle(id, 1, NULL, 0, &len), DMP_ERR_BUFFER_TOO_SMALL);
    for (uint32_t want = first + 1; want <= first + 5; want++) {
        CHECK_OK(dmp_identity_bundle(id, 1, b, len1, &len));
        CHECK(be32(b + B_OTK_ID) == want);
        CHECK_STATUS(dmp_identity_bundle(id, 1, b, 10, &len), DMP_ERR_BUFFER_TOO_SMALL);
    }
    CHECK(otk_count(id) == 6);
    CHECK_OK(dmp_identity_bundle(id, 1, b, len1, &len)); /* all handed out: a new one */
    CHECK(be32(b + B_OTK_ID) == first + 6);
    CHECK(otk_count(id) == 7);

    /* Invalid flag values; nothing handed out or generated. */
    CHECK_STATUS(dmp_identity_bundle(id, 2, b, sizeof b, &len), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_identity_bundle(id, -1, b, sizeof b, &len), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_identity_bundle(id, INT32_MIN, b, sizeof b, &len), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_identity_bundle(id, INT32_MAX, b, sizeof b, &len), DMP_ERR_INVALID_ARGUMENT);
    CHECK(otk_count(id) == 7);

    /* dmp_bundle_verify against tampering: one signature covers the whole bundle, so every byte
     * (in a hybrid bundle's ML-KEM block, a sample: every 5th byte) is refused, the one-time
     * prekey block included. */
    uint8_t good[DMP_BUNDLE_MAX_LEN];
    CHECK_OK(dmp_identity_bundle(id, 1, good, sizeof good, &len));
    CHECK(len == len1);
    CHECK_OK(dmp_bundle_verify(good, len1, agent));
    unsigned refused = 0, tried = 0;
    for (size_t i = 0; i < len1; i++) {
        if (i >= B_OTK_ID + 36 && (i - B_OTK_ID) % 5 != 0) continue;
        uint8_t t[DMP_BUNDLE_MAX_LEN];
        memcpy(t, good, len1);
        t[i] ^= (uint8_t)(1u << (i % 8));
        int32_t rc = dmp_bundle_verify(t, len1, agent);
        tried++;
        if (rc != DMP_OK && rc != DMP_ERR_INTERNAL) refused++;
        else fprintf(stderr, "    bundle byte %zu flipped: %d (%s)\n", i, (int)rc, check_code_name(rc));
    }
    CHECK(refused == tried);
    uint8_t t[DMP_BUNDLE_MAX_LEN + 1];
    memcpy(t, good, len1);
    t[0] = 2;
    CHECK_STATUS(dmp_bundle_verify(t, len1, agent), DMP_ERR_UNSUPPORTED_VERSION);
    memcpy(t, good, len1);
    t[1] = 2; /* a MESSAGE type byte */
    CHECK_STATUS(dmp_bundle_verify(t, len1, agent), DMP_ERR_WRONG_MESSAGE_TYPE);
    memcpy(t, good, len1);
    t[B_SIGNATURE] ^= 1; /* signature R */
    CHECK_STATUS(dmp_bundle_verify(t, len1, agent), DMP_ERR_BAD_SIGNATURE);
    memcpy(t, good, len1);
    t[40] ^= 1; /* signed prekey */
    CHECK_STATUS(dmp_bundle_verify(t, len1, agent), DMP_ERR_BAD_SIGNATURE);
    memcpy(t, good, len1);
    t[B_SPK_ID + 3] ^= 1; /* signed prekey id */
    CHECK_STATUS(dmp_bundle_verify(t, len1, agent), DMP_ERR_BAD_SIGNATURE);
    memcpy(t, good, len1);
    t[B_FLAGS] |= 0x04; /* an unknown flag */
    CHECK_STATUS(dmp_bundle_verify(t, len1, agent), DMP_ERR_BAD_ENVELOPE);
    /* A one-time prekey swapped for another (here: all zero, of small order) is caught by the
     * signature, and no session starts from the bundle. (A publisher that signs a small-order
     * prekey itself gets DMP_ERR_WEAK_KEY where it is used: prekey.rs tests that.) */
    memcpy(t, good, len1);
    memset(t + B_OTK_KEY, 0, 32);
    CHECK_STATUS(dmp_bundle_verify(t, len1, agent), DMP_ERR_BAD_SIGNATURE);
    {
        dmp_identity_t *peer = NULL;
        dmp_session_t *ps = NULL;
        CHECK_OK(dmp_identity_generate_with(suite, &peer));
        CHECK_STATUS(dmp_session_initiate_with(peer, t, len1, DMP_PQ_ALLOW_CLASSICAL, &ps), DMP_ERR_BAD_SIGNATURE);
        CHECK(ps == NULL);
        dmp_identity_free(peer);
    }
    if (hybrid) {
        /* The one-time prekey's id pairs it with the signed one-time ML-KEM prekey. */
        memcpy(t, good, len1);
        t[B_OTK_ID + 3] ^= 0x01;
        CHECK_FAILS(dmp_bundle_verify(t, len1, agent));
        /* Stripped of its ML-KEM block (an attempted downgrade): the signature no longer
         * matches. */
        uint8_t h0[DMP_BUNDLE_MAX_LEN];
        CHECK_OK(dmp_identity_bundle(id, 0, h0, sizeof h0, &len));
        h0[B_FLAGS] &= (uint8_t)~F_KEM;
        CHECK_STATUS(dmp_bundle_verify(h0, DMP_BUNDLE_LEN, agent), DMP_ERR_BAD_SIGNATURE);
        CHECK_OK(dmp_identity_bundle(id, 1, h0, sizeof h0, &len));
        h0[B_FLAGS] &= (uint8_t)~F_KEM;
        CHECK_STATUS(dmp_bundle_verify(h0, DMP_BUNDLE_LEN + 36, agent), DMP_ERR_BAD_SIGNATURE);
    } else {
        /* A classical bundle claiming an ML-KEM block it does not have. */
        memcpy(t, good, len1);
        t[B_FLAGS] |= F_KEM;
        CHECK_FAILS(dmp_bundle_verify(t, len1, agent));
    }
    /* Every truncation, and an extension. */
    refused = 0;
    for (size_t n = 0; n < len1; n++) {
        int32_t rc = dmp_bundle_verify(good, n, agent);
        if (rc != DMP_OK && rc != DMP_ERR_INTERNAL) refused++;
        else fprintf(stderr, "    bundle truncated to %zu: %d (%s)\n", n, (int)rc, check_code_name(rc));
    }
    CHECK(refused == len1);
    memcpy(t, good, len1);
    t[len1] = 0;
    CHECK_STATUS(dmp_bundle_verify(t, len1 + 1, agent), DMP_ERR_BAD_ENVELOPE);
    CHECK_STATUS(dmp_bundle_verify(NULL, 0, agent), DMP_ERR_BAD_ENVELOPE);
    /* Another identity's bundle with this identity's key substituted. */
    dmp_identity_t *other = NULL;
    CHECK_OK(dmp_identity_generate_with(suite, &other));
    uint8_t ob[DMP_BUNDLE_MAX_LEN];
    CHECK_OK(dmp_identity_bundle(other, 0, ob, sizeof ob, &len));
    memcpy(ob + B_IDENTITY, pk, 32);
    CHECK_STATUS(dmp_bundle_verify(ob, len, agent), DMP_ERR_BAD_SIGNATURE);
    dmp_identity_free(other);

    /* NULL pointers; nothing is handed out on a refused call. */
    uint32_t before = otk_count(id);
    CHECK_STATUS(dmp_identity_bundle(NULL, 1, b, sizeof b, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_identity_bundle(id, 1, NULL, sizeof b, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_identity_bundle(id, 1, b, sizeof b, NULL), DMP_ERR_NULL_POINTER);
    CHECK(otk_count(id) == before);
    uint32_t last_out = 0;
    {
        uint8_t probe[DMP_BUNDLE_MAX_LEN];
        CHECK_OK(dmp_identity_bundle(id, 1, probe, sizeof probe, &len));
        last_out = be32(probe + B_OTK_ID);
    }
    CHECK_STATUS(dmp_identity_bundle(NULL, 1, b, sizeof b, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_identity_bundle(id, 1, NULL, sizeof b, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_identity_bundle(id, 1, b, sizeof b, NULL), DMP_ERR_NULL_POINTER);
    CHECK_OK(dmp_identity_bundle(id, 1, b, sizeof b, &len));
    CHECK(be32(b + B_OTK_ID) == last_out + 1);
    CHECK_STATUS(dmp_bundle_verify(NULL, len1, agent), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_bundle_verify(good, len1, NULL), DMP_ERR_NULL_POINTER);
    dmp_identity_free(id);
}

static void prekey_management(void) {
    dmp_identity_t *id = NULL;
    CHECK_OK(dmp_identity_generate(&id));
    uint32_t cur = 0, next = 0;
    CHECK_OK(dmp_identity_signed_prekey_id(id, &cur));
    const uint32_t first = cur;
    for (int i = 0; i < 5; i++) {
        CHECK_OK(dmp_identity_rotate_signed_prekey(id, &next));
        CHECK(next > cur);
        uint32_t now = 0;
        CHECK_OK(dmp_identity_signed_prekey_id(id, &now));
        CHECK(now == next);
        uint8_t b[DMP_BUNDLE_MAX_LEN];
        size_t len = 0;
        CHECK_OK(dmp_identity_bundle(id, 0, b, sizeof b, &len));
        CHECK(be32(b + B_SPK_ID) == next);
        uint8_t agent[32];
        CHECK_OK(dmp_bundle_verify(b, len, agent));
        cur = next;
    }
    CHECK(cur == first + 5);

    CHECK(otk_count(id) == 0);
    CHECK_OK(dmp_identity_generate_one_time_prekeys(id, 10));
    CHECK(otk_count(id) == 10);
    CHECK_OK(dmp_identity_generate_one_time_prekeys(id, 0));
    CHECK(otk_count(id) == 10);
    /* More than the pool holds: refused, nothing generated. */
    CHECK_STATUS(dmp_identity_generate_one_time_prekeys(id, (uint32_t)DMP_MAX_ONE_TIME_PREKEYS - 9),
                 DMP_ERR_TOO_LARGE);
    CHECK(otk_count(id) == 10);
    CHECK_STATUS(dmp_identity_generate_one_time_prekeys(id, UINT32_MAX), DMP_ERR_TOO_LARGE);
    CHECK(otk_count(id) == 10);

    /* NULL pointers: nothing changes. */
    CHECK_STATUS(dmp_identity_rotate_signed_prekey(NULL, &next), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_identity_rotate_signed_prekey(id, NULL), DMP_ERR_NULL_POINTER);
    uint32_t now = 0;
    CHECK_OK(dmp_identity_signed_prekey_id(id, &now));
    CHECK(now == cur);
    CHECK_STATUS(dmp_identity_signed_prekey_id(NULL, &now), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_identity_signed_prekey_id(id, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_identity_generate_one_time_prekeys(NULL, 1), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_identity_one_time_prekey_count(NULL, &now), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_identity_one_time_prekey_count(id, NULL), DMP_ERR_NULL_POINTER);
    CHECK(otk_count(id) == 10);
    dmp_identity_free(id);
}

static void records(void) {
    dmp_identity_t *id = NULL;
    CHECK_OK(dmp_identity_generate(&id));
    CHECK_OK(dmp_identity_generate_one_time_prekeys(id, 4));
    uint32_t spk = 0;
    CHECK_OK(dmp_identity_rotate_signed_prekey(id, &spk));
    /* Hand one one-time prekey out, so the record must remember which. */
    uint8_t bundle[DMP_BUNDLE_MAX_LEN];
    size_t blen = 0;
    CHECK_OK(dmp_identity_bundle(id, 1, bundle, sizeof bundle, &blen));
    uint8_t key[32], wrong[32];
    CHECK_OK(dmp_random_bytes(key, sizeof key));
    memcpy(wrong, key, sizeof wrong);
    wrong[31] ^= 0x80;

    size_t need = 0;
    CHECK_STATUS(dmp_identity_serialize(id, key, NULL, 0, &need), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(need > 2 + DMP_AEAD_OVERHEAD + 32);
    uint8_t *rec = check_xmalloc(need + 16);
    size_t len = 0;
    CHECK_STATUS(dmp_identity_serialize(id, key, rec, need - 1, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == need);
    CHECK_OK(dmp_identity_serialize(id, key, rec, need + 16, &len));
    CHECK(len == need);

    dmp_identity_t *back = NULL;
    CHECK_OK(dmp_identity_deserialize(rec, len, key, &back));
    CHECK(back != NULL);
    uint8_t p1[32], p2[32];
    CHECK_OK(dmp_identity_public_key(id, p1));
    CHECK_OK(dmp_identity_public_key(back, p2));
    CHECK(memcmp(p1, p2, 32) == 0);
    uint32_t spk2 = 0;
    CHECK_OK(dmp_identity_signed_prekey_id(back, &spk2));
    CHECK(spk2 == spk);
    CHECK(otk_count(back) == 4);
    /* The restored identity hands out the next one-time prekey, not the one already out. */
    uint8_t b2[DMP_BUNDLE_MAX_LEN];
    CHECK_OK(dmp_identity_bundle(back, 1, b2, sizeof b2, &blen));
    CHECK(be32(b2 + B_OTK_ID) == be32(bundle + B_OTK_ID) + 1);
    /* Its signed prekey is the same key (same bundle bytes up to the expiry; the signature
     * covers the whole bundle and so differs with the one-time prekey). */
    CHECK_OK(dmp_identity_bundle(back, 0, b2, sizeof b2, &blen));
    CHECK(memcmp(b2, bundle, B_EXPIRES) == 0);
    /* The restored identity serializes to a record of the same size. */
    size_t len2 = 0;
    CHECK_STATUS(dmp_identity_serialize(back, key, NULL, 0, &len2), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len2 == len);
    /* It can accept a session started from the bundle the original handed out. */
    dmp_identity_t *peer = NULL;
    CHECK_OK(dmp_identity_generate(&peer));
    dmp_session_t *ps = NULL, *bs = NULL;
    CHECK_OK(dmp_session_initiate(peer, bundle, sizeof bundle, &ps));
    uint8_t env[4096], pt[16];
    size_t elen = 0, ptlen = 0;
    CHECK_OK(dmp_session_encrypt(ps, (const uint8_t *)"hi", 2, env, sizeof env, &elen));
    CHECK_OK(dmp_session_accept(back, env, elen, &bs, pt, sizeof pt, &ptlen));
    CHECK(ptlen == 2 && memcmp(pt, "hi", 2) == 0);
    CHECK(otk_count(back) == 3);
    dmp_session_free(ps);
    dmp_session_free(bs);
    dmp_identity_free(peer);
    dmp_identity_free(back);

    /* Wrong storage key, and a corrupted record: refused, *out NULL. */
    int sentinel = 0;
    back = (dmp_identity_t *)(void *)&sentinel;
    CHECK_STATUS(dmp_identity_deserialize(rec, len, wrong, &back), DMP_ERR_WRONG_STORAGE_KEY);
    CHECK(back == NULL);
    unsigned refused = 0;
    for (size_t i = 2; i < len; i++) {
        rec[i] ^= 0x10;
        back = (dmp_identity_t *)(void *)&sentinel;
        if (dmp_identity_deserialize(rec, len, key, &back) == DMP_ERR_WRONG_STORAGE_KEY && back == NULL)
            refused++;
        rec[i] ^= 0x10;
    }
    CHECK(refused == len - 2);
    /* Truncated records. */
    for (size_t n = 0; n < len; n += (n < 64 ? 1 : 37)) {
        back = (dmp_identity_t *)(void *)&sentinel;
        CHECK_FAILS(dmp_identity_deserialize(rec, n, key, &back));
        CHECK(back == NULL);
    }
    /* Another record format version, another record kind. */
    rec[0] ^= 0x7f;
    CHECK_STATUS(dmp_identity_deserialize(rec, len, key, &back), DMP_ERR_UNSUPPORTED_VERSION);
    rec[0] ^= 0x7f;
    uint8_t kind = rec[1];
    rec[1] = 1; /* a session record */
    CHECK_STATUS(dmp_identity_deserialize(rec, len, key, &back), DMP_ERR_BAD_STATE);
    rec[1] = kind;
    CHECK_STATUS(dmp_identity_deserialize(rec, 1, key, &back), DMP_ERR_BAD_STATE);
    CHECK(back == NULL);
    CHECK_OK(dmp_identity_deserialize(rec, len, key, &back)); /* still fine */
    dmp_identity_free(back);

    /* NULL pointers. */
    CHECK_STATUS(dmp_identity_serialize(NULL, key, rec, len, &len2), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_identity_serialize(id, NULL, rec, len, &len2), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_identity_serialize(id, key, NULL, len, &len2), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_identity_serialize(id, key, rec, len, NULL), DMP_ERR_NULL_POINTER);
    back = (dmp_identity_t *)(void *)&sentinel;
    CHECK_STATUS(dmp_identity_deserialize(NULL, len, key, &back), DMP_ERR_NULL_POINTER);
    CHECK(back == NULL);
    back = (dmp_identity_t *)(void *)&sentinel;
    CHECK_STATUS(dmp_identity_deserialize(rec, len, NULL, &back), DMP_ERR_NULL_POINTER);
    CHECK(back == NULL);
    CHECK_STATUS(dmp_identity_deserialize(rec, len, key, NULL), DMP_ERR_NULL_POINTER);
    free(rec);
    dmp_identity_free(id);

    /* A classical identity stays classical through its record. */
    CHECK_OK(dmp_identity_generate_with(DMP_SUITE_CLASSICAL, &id));
    uint8_t crec[4096];
    size_t clen = 0;
    CHECK_OK(dmp_identity_serialize(id, key, crec, sizeof crec, &clen));
    CHECK_OK(dmp_identity_deserialize(crec, clen, key, &back));
    CHECK(suite_of(back) == DMP_SUITE_CLASSICAL);
    uint8_t cb[DMP_BUNDLE_MAX_LEN];
    CHECK_OK(dmp_identity_bundle(back, 0, cb, sizeof cb, &clen));
    CHECK(clen == DMP_BUNDLE_LEN);
    dmp_identity_free(back);
    dmp_identity_free(id);
}

static void creation_nulls_and_handles(void) {
    int sentinel = 0;
    dmp_identity_t *out = (dmp_identity_t *)(void *)&sentinel;
    uint8_t seed[32] = {7};
    CHECK_STATUS(dmp_identity_generate(NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_identity_from_seed(NULL, &out), DMP_ERR_NULL_POINTER);
    CHECK(out == NULL);
    CHECK_STATUS(dmp_identity_from_seed(seed, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_identity_generate_with(DMP_SUITE_CLASSICAL, NULL), DMP_ERR_NULL_POINTER);
    out = (dmp_identity_t *)(void *)&sentinel;
    CHECK_STATUS(dmp_identity_from_seed_with(NULL, DMP_SUITE_CLASSICAL, &out), DMP_ERR_NULL_POINTER);
    CHECK(out == NULL);
    CHECK_STATUS(dmp_identity_from_seed_with(seed, DMP_SUITE_HYBRID, NULL), DMP_ERR_NULL_POINTER);
    int32_t suite = 0;
    CHECK_STATUS(dmp_identity_suite(NULL, &suite), DMP_ERR_NULL_POINTER);
    uint8_t pk[32];
    CHECK_STATUS(dmp_identity_public_key(NULL, pk), DMP_ERR_NULL_POINTER);
    dmp_identity_t *id = NULL;
    CHECK_OK(dmp_identity_generate(&id));
    CHECK_STATUS(dmp_identity_public_key(id, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_identity_suite(id, NULL), DMP_ERR_NULL_POINTER);

    dmp_identity_free(NULL);

    dmp_identity_free(id);
}

/*
 * A session handle passed as an identity must be refused with DMP_ERR_INVALID_ARGUMENT (the
 * library's registry knows each live handle's type; see src/ffi/mod.rs, Handle::lock). Run in a
 * child process: a wrong answer here may be a hang or a memory error. The identity freed just
 * before the session is created may leave its address to the session (the usual malloc reuse),
 * which is the case that goes wrong when a stale entry or the memory itself decides the type.
 */
static int session_as_identity_child(void *unused) {
    (void)unused;
    unsigned long failed_before = check_failed_;
    dmp_identity_t *id = NULL, *peer = NULL, *spare = NULL;
    CHECK_OK(dmp_identity_generate(&id));
    CHECK_OK(dmp_identity_generate(&peer));
    uint8_t b[DMP_BUNDLE_MAX_LEN];
    size_t len = 0;
    CHECK_OK(dmp_identity_bundle(peer, 0, b, sizeof b, &len));
    CHECK_OK(dmp_identity_generate(&spare));
    dmp_identity_free(spare);
    dmp_session_t *s = NULL;
    CHECK_OK(dmp_session_initiate(id, b, len, &s));
    dmp_identity_t *fake = (dmp_identity_t *)(void *)s;
    uint32_t n = 0;
    int32_t suite = 0;
    uint8_t pk[32], buf[DMP_BUNDLE_MAX_LEN], sig[64], key[32] = {0};
    CHECK_STATUS(dmp_identity_public_key(fake, pk), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_identity_fingerprint(fake, buf, sizeof buf, &len), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_identity_sign(fake, buf, 4, sig), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_identity_bundle(fake, 0, buf, sizeof buf, &len), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_identity_rotate_signed_prekey(fake, &n), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_identity_signed_prekey_id(fake, &n), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_identity_generate_one_time_prekeys(fake, 1), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_identity_one_time_prekey_count(fake, &n), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_identity_suite(fake, &suite), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_identity_serialize(fake, key, buf, sizeof buf, &len), DMP_ERR_INVALID_ARGUMENT);
    dmp_session_t *s2 = NULL;
    CHECK_STATUS(dmp_session_initiate(fake, b, len, &s2), DMP_ERR_INVALID_ARGUMENT);
    CHECK(s2 == NULL);
    /* The session still works. */
    int32_t st = -1;
    CHECK_OK(dmp_session_state(s, &st));
    CHECK(st == DMP_SESSION_DORMANT);
    dmp_session_free(s);
    dmp_identity_free(peer);
    dmp_identity_free(id);
    return check_failed_ != failed_before;
}

static void handle_kinds(void) {
    /* A handle of another kind is refused with DMP_ERR_INVALID_ARGUMENT, never read: the library
     * keeps a registry of live handles and checks it before touching one. */
    CHECK_GROUP("a session handle passed to the dmp_identity_* functions", session_as_identity_child, NULL);
    /* A freed handle and a stray pointer are refused too, and a second free is harmless. */
    dmp_identity_t *id = NULL;
    CHECK_OK(dmp_identity_generate(&id));
    uint8_t pk[32];
    CHECK_OK(dmp_identity_public_key(id, pk));
    CHECK_STATUS(dmp_identity_public_key((const dmp_identity_t *)pk, pk), DMP_ERR_INVALID_ARGUMENT);
    dmp_identity_free(id);
    CHECK_STATUS(dmp_identity_public_key(id, pk), DMP_ERR_INVALID_ARGUMENT);
    dmp_identity_free(id);
}

/* Outputs overlapping an input or another output are refused before anything is written. */
static void overlapping_buffers(void) {
    static uint64_t words[16384 / 8]; /* aligned for the pointer and size_t outputs */
    uint8_t *buf = (uint8_t *)words, before[sizeof words];
    for (size_t i = 0; i < sizeof words; i++) buf[i] = (uint8_t)(i * 7);
    memcpy(before, buf, sizeof before);
    int sentinel = 0;
    dmp_identity_t *out = (dmp_identity_t *)(void *)&sentinel;
    size_t len = 99;

    CHECK_OVERLAP(dmp_identity_from_seed(buf, (dmp_identity_t **)(void *)(buf + 8)), "out", "seed32");
    CHECK_OVERLAP(dmp_identity_from_seed_with(buf, DMP_SUITE_CLASSICAL, (dmp_identity_t **)(void *)(buf + 24)), "out",
                  "seed32");
    CHECK(memcmp(buf, before, sizeof before) == 0);
    CHECK_OK(dmp_identity_from_seed(buf, &out));
    uint32_t otks = otk_count(out);

    CHECK_OVERLAP(dmp_identity_fingerprint(out, buf, 64, (size_t *)(void *)(buf + 32)), "out", "out_len");
    uint8_t agent[32];
    CHECK_OK(dmp_identity_public_key(out, agent));
    memcpy(buf, agent, 32);
    CHECK_OVERLAP(dmp_fingerprint(buf, buf + 16, 64, &len), "out", "agent_id32");
    CHECK_OVERLAP(dmp_identity_sign(out, buf, 100, buf + 99), "sig64_out", "msg");
    /* A bundle with a one-time prekey over its own out_len: no prekey is handed out. */
    CHECK_OVERLAP(dmp_identity_bundle(out, 1, buf, 2048, &words[100]), "out", "out_len");
    CHECK(otk_count(out) == otks && len == 99);
    CHECK(memcmp(buf, agent, 32) == 0 && memcmp(buf + 32, before + 32, sizeof before - 32) == 0);

    size_t blen = 0;
    CHECK_OK(dmp_identity_bundle(out, 0, buf, 2048, &blen));
    CHECK_OVERLAP(dmp_bundle_verify(buf, blen, buf + blen - 32 + 1), "agent_id32_out", "bundle");
    CHECK_OK(dmp_bundle_verify(buf, blen, buf + blen)); /* right after it */
    CHECK(memcmp(buf + blen, agent, 32) == 0);

    uint8_t key[32] = {5};
    memcpy(buf + 2048, key, 32);
    CHECK_OVERLAP(dmp_identity_serialize(out, buf + 2048, buf, 2049, &len), "out", "storage_key32");
    CHECK(len == 99);
    size_t rlen = 0;
    CHECK_OK(dmp_identity_serialize(out, key, buf, sizeof words, &rlen));
    dmp_identity_t *back = (dmp_identity_t *)(void *)&sentinel;
    uint8_t head[8];
    memcpy(head, buf, 8);
    CHECK_OVERLAP(dmp_identity_deserialize(buf, rlen, key, (dmp_identity_t **)(void *)buf), "out", "record");
    CHECK(back == (dmp_identity_t *)(void *)&sentinel && memcmp(buf, head, 8) == 0);
    CHECK_OK(dmp_identity_deserialize(buf, rlen, key, &back));
    dmp_identity_free(back);
    dmp_identity_free(out);
}

int main(int argc, char **argv) {
    (void)argc;
    generate_and_seed();
    fingerprints();
    signing();
    bundles(DMP_SUITE_CLASSICAL);
    bundles(DMP_SUITE_HYBRID);
    prekey_management();
    records();
    creation_nulls_and_handles();
    handle_kinds();
    overlapping_buffers();
    return check_finish(argv[0]);
}
