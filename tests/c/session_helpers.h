/*
 * session_helpers.h: envelopes as (data, len) pairs, and the set-up of a pair of sessions, for
 * the session, conversation and thread tests. Include after check.h.
 */
#ifndef DMP_TESTS_SESSION_HELPERS_H
#define DMP_TESTS_SESSION_HELPERS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dmp.h"

typedef struct {
    uint8_t *data;
    size_t len;
} envelope_t;

static inline void envelope_free(envelope_t *e) {
    free(e->data);
    e->data = NULL;
    e->len = 0;
}

static inline uint32_t helpers_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Reads an unsigned LEB128 varint (1 to 5 bytes) at *p, advancing it. */
static inline uint32_t helpers_varint(const uint8_t **p) {
    uint32_t v = 0;
    for (unsigned i = 0; i < 5; i++) {
        uint8_t b = *(*p)++;
        v |= (uint32_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) break;
    }
    return v;
}

/* Bytes of the shortest varint form of v. */
static inline size_t helpers_varint_len(uint32_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Encrypts pt with the exact size from dmp_session_encrypted_len, and checks that size. */
static inline envelope_t seal_msg_at(const char *file, int line, dmp_session_t *s, const void *pt, size_t n) {
    unsigned long failed_before = check_failed_;
    envelope_t e = {NULL, 0};
    size_t need = 0;
    if (!CHECK_OK(dmp_session_encrypted_len(s, n, &need))) return e;
    e.data = check_xmalloc(need);
    if (!CHECK_OK(dmp_session_encrypt(s, (const uint8_t *)pt, n, e.data, need, &e.len))) {
        envelope_free(&e);
        return e;
    }
    CHECK(e.len == need);
    if (check_failed_ != failed_before) fprintf(stderr, "    (in seal_msg called at %s:%d)\n", file, line);
    return e;
}
#define seal_msg(...) seal_msg_at(__FILE__, __LINE__, __VA_ARGS__)

/* Decrypts e and checks that it gives exactly (pt, n). Returns 1 on success. */
static inline int open_msg_at(const char *file, int line, dmp_session_t *s, const envelope_t *e,
                              const void *pt, size_t n) {
    size_t cap = e->len; /* always enough: the plaintext is shorter than its envelope */
    uint8_t *out = check_xmalloc(cap);
    size_t out_len = (size_t)-1;
    int ok = CHECK_OK(dmp_session_decrypt(s, e->data, e->len, out, cap, &out_len));
    if (ok) {
        CHECK(out_len == n);
        CHECK(out_len + DMP_MESSAGE_HEADER_LEN + DMP_TAG_LEN + 1 <= e->len);
        ok = out_len == n && (n == 0 || memcmp(out, pt, n) == 0);
        CHECK(ok);
    }
    free(out);
    if (!ok) fprintf(stderr, "    (in open_msg called at %s:%d)\n", file, line);
    return ok;
}
#define open_msg(...) open_msg_at(__FILE__, __LINE__, __VA_ARGS__)

static inline int32_t session_state(const dmp_session_t *s) {
    int32_t st = -1;
    CHECK_OK(dmp_session_state(s, &st));
    return st;
}

static inline dmp_identity_t *new_identity(void) {
    dmp_identity_t *id = NULL;
    CHECK_OK(dmp_identity_generate(&id));
    return id;
}

static inline dmp_identity_t *new_identity_of(int32_t suite) {
    dmp_identity_t *id = NULL;
    CHECK_OK(dmp_identity_generate_with(suite, &id));
    return id;
}

/* Header length of a first message to an identity of `suite`. */
static inline size_t first_header_len(int32_t suite) {
    return suite == DMP_SUITE_HYBRID ? DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN : DMP_PREKEY_MESSAGE_HEADER_LEN;
}

/*
 * The counters of an envelope whose shortest header (both counters below 128) is
 * `base_header_len` bytes (DMP_MESSAGE_HEADER_LEN, DMP_PREKEY_MESSAGE_HEADER_LEN or
 * DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN): the ratchet key (32) ends 2 bytes before that, then PN
 * and N follow as varints. Returns the header's actual length.
 */
static inline size_t ratchet_counters(const uint8_t *env, size_t base_header_len, uint32_t *pn, uint32_t *n) {
    const uint8_t *p = env + base_header_len - 2;
    *pn = helpers_varint(&p);
    *n = helpers_varint(&p);
    return (size_t)(p - env);
}

/* The message number (N) of an envelope (either kind, see ratchet_counters). */
static inline uint32_t message_number(const uint8_t *env, size_t base_header_len) {
    uint32_t pn = 0, n = 0;
    (void)ratchet_counters(env, base_header_len, &pn, &n);
    return n;
}

/* Initiate / accept under the policy a suite needs (classical peers must be allowed). */
static inline int32_t initiate_for(int32_t suite, const dmp_identity_t *id, const uint8_t *bundle, size_t len,
                                   dmp_session_t **out) {
    if (suite == DMP_SUITE_HYBRID) return dmp_session_initiate(id, bundle, len, out);
    return dmp_session_initiate_with(id, bundle, len, DMP_PQ_ALLOW_CLASSICAL, out);
}

static inline int32_t accept_for(int32_t suite, dmp_identity_t *id, const uint8_t *env, size_t len,
                                 dmp_session_t **out, uint8_t *pt, size_t cap, size_t *pt_len) {
    if (suite == DMP_SUITE_HYBRID) return dmp_session_accept(id, env, len, out, pt, cap, pt_len);
    return dmp_session_accept_with(id, env, len, DMP_PQ_ALLOW_CLASSICAL, out, pt, cap, pt_len);
}

/* A bundle of `id` (with a one-time prekey if `otk`), into buf (DMP_BUNDLE_MAX_LEN bytes). */
static inline size_t get_bundle(dmp_identity_t *id, int otk, uint8_t *buf) {
    size_t len = 0;
    CHECK_OK(dmp_identity_bundle(id, otk, buf, DMP_BUNDLE_MAX_LEN, &len));
    return len;
}

/*
 * Sets up a session pair: a initiates from b's bundle (with a one-time prekey), sends a first
 * message, b accepts it, b replies and a decrypts the reply. Both end ACTIVE.
 */
static inline void establish_suite(int32_t suite, dmp_identity_t *a, dmp_identity_t *b, dmp_session_t **as,
                                   dmp_session_t **bs) {
    uint8_t bundle[DMP_BUNDLE_MAX_LEN];
    size_t blen = get_bundle(b, 1, bundle);
    *as = NULL;
    *bs = NULL;
    CHECK_OK(initiate_for(suite, a, bundle, blen, as));
    envelope_t first = seal_msg(*as, "first", 5);
    uint8_t pt[16];
    size_t ptlen = 0;
    CHECK_OK(accept_for(suite, b, first.data, first.len, bs, pt, sizeof pt, &ptlen));
    CHECK(ptlen == 5 && memcmp(pt, "first", 5) == 0);
    envelope_t reply = seal_msg(*bs, "reply", 5);
    open_msg(*as, &reply, "reply", 5);
    envelope_free(&first);
    envelope_free(&reply);
    CHECK(session_state(*as) == DMP_SESSION_ACTIVE);
    CHECK(session_state(*bs) == DMP_SESSION_ACTIVE);
}

/* The default: hybrid identities (dmp_identity_generate), default policies. */
static inline void establish(dmp_identity_t *a, dmp_identity_t *b, dmp_session_t **as, dmp_session_t **bs) {
    establish_suite(DMP_SUITE_HYBRID, a, b, as, bs);
}

#endif /* DMP_TESTS_SESSION_HELPERS_H */
