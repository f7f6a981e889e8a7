#define _POSIX_C_SOURCE 200809L /* fork, alarm, waitpid (check.h) */
/*
 * test_session.c: the session lifecycle through the C ABI, buffer sizes without state change,
 * tampering, replays, wrong sessions, prekey reuse, padding, limits, records, closing and NULL
 * pointers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dmp.h"
#include "session_helpers.h"

/* Offsets in envelopes (docs/PROTOCOL.md; wire/envelope.rs). Every session message starts with
 * version, type and session id; in a first (prekey) message the initiator's id, ephemeral key,
 * signed prekey id, flags (bit 1: ML-KEM block follows) and one-time prekey id follow, then a
 * hybrid one's ML-KEM block (kind 1, id 4, ciphertext). The ratchet key and the two varint
 * counters end the header; the sealed part (ciphertext || tag, no nonce) follows. */
enum {
    E_VERSION = 0,
    E_TYPE = 1,
    E_SESSION_ID = 2,
    E_RATCHET_KEY = E_SESSION_ID + DMP_SESSION_ID_LEN, /* in a MESSAGE */
    P_INITIATOR = E_SESSION_ID + DMP_SESSION_ID_LEN,
    P_EPHEMERAL = P_INITIATOR + 32,
    P_SIGNED_PREKEY_ID = P_EPHEMERAL + 32,
    P_FLAGS = P_SIGNED_PREKEY_ID + 4,
    P_ONE_TIME_PREKEY_ID = P_FLAGS + 1,
    P_KEM_BLOCK = P_ONE_TIME_PREKEY_ID + 4,
};

static void lifecycle(int32_t suite) {
    const size_t first_hdr = first_header_len(suite);
    dmp_identity_t *alice = new_identity_of(suite), *bob = new_identity_of(suite);
    uint8_t apk[32], bpk[32], peer[32], aid[DMP_SESSION_ID_LEN], bid[DMP_SESSION_ID_LEN];
    CHECK_OK(dmp_identity_public_key(alice, apk));
    CHECK_OK(dmp_identity_public_key(bob, bpk));
    CHECK_OK(dmp_identity_generate_one_time_prekeys(bob, 3));
    uint8_t bundle[DMP_BUNDLE_MAX_LEN];
    size_t blen = get_bundle(bob, 1, bundle);

    dmp_session_t *as = NULL, *bs = NULL;
    CHECK_OK(initiate_for(suite, alice, bundle, blen, &as));
    CHECK(as != NULL);
    CHECK(session_state(as) == DMP_SESSION_DORMANT);
    CHECK_OK(dmp_session_peer_id(as, peer));
    CHECK(memcmp(peer, bpk, 32) == 0);
    CHECK_OK(dmp_session_id(as, aid));

    /* A DORMANT session sends first messages (with the prekey header) and decrypts nothing. */
    size_t need = 0;
    CHECK_OK(dmp_session_encrypted_len(as, 5, &need));
    CHECK(need == first_hdr + DMP_TAG_LEN + 5 + 1);
    uint8_t junk[200] = {1, 2};
    uint8_t out[256];
    size_t out_len = 0;
    CHECK_STATUS(dmp_session_decrypt(as, junk, sizeof junk, out, sizeof out, &out_len), DMP_ERR_WRONG_STATE);

    envelope_t m1 = seal_msg(as, "hello", 5);
    CHECK(m1.len == need);
    CHECK(m1.data[E_VERSION] == 1 && m1.data[E_TYPE] == 1);
    CHECK(memcmp(m1.data + E_SESSION_ID, aid, DMP_SESSION_ID_LEN) == 0);
    CHECK(memcmp(m1.data + P_INITIATOR, apk, 32) == 0);
    CHECK(m1.data[P_FLAGS] == (suite == DMP_SUITE_HYBRID ? 0x03 : 0x01)); /* one-time prekey used (+ ML-KEM) */
    CHECK(message_number(m1.data, first_hdr) == 0);
    CHECK(session_state(as) == DMP_SESSION_INITIATING);
    /* Until a reply arrives every message carries the prekey header. */
    envelope_t m2 = seal_msg(as, "again", 5);
    CHECK(m2.len == need && m2.data[E_TYPE] == 1);
    CHECK(message_number(m2.data, first_hdr) == 1);
    CHECK(session_state(as) == DMP_SESSION_INITIATING);

    uint32_t before = 0, after = 0;
    CHECK_OK(dmp_identity_one_time_prekey_count(bob, &before));
    uint8_t pt[64];
    size_t ptlen = 0;
    CHECK_OK(accept_for(suite, bob, m1.data, m1.len, &bs, pt, sizeof pt, &ptlen));
    CHECK(bs != NULL);
    CHECK(ptlen == 5 && memcmp(pt, "hello", 5) == 0);
    CHECK_OK(dmp_identity_one_time_prekey_count(bob, &after));
    CHECK(after == before - 1); /* the one-time prekey used is deleted */
    CHECK(session_state(bs) == DMP_SESSION_ACTIVE);
    CHECK_OK(dmp_session_peer_id(bs, peer));
    CHECK(memcmp(peer, apk, 32) == 0);
    CHECK_OK(dmp_session_id(bs, bid));
    CHECK(memcmp(aid, bid, DMP_SESSION_ID_LEN) == 0);
    /* The second first-message decrypts on the responder's session. */
    open_msg(bs, &m2, "again", 5);

    /* The responder's messages never carry the prekey header. */
    CHECK_OK(dmp_session_encrypted_len(bs, 5, &need));
    CHECK(need == DMP_MESSAGE_HEADER_LEN + DMP_TAG_LEN + 5 + 1);
    envelope_t r1 = seal_msg(bs, "world", 5);
    CHECK(r1.data[E_TYPE] == 2 && r1.len == need);
    CHECK(memcmp(r1.data + E_SESSION_ID, aid, DMP_SESSION_ID_LEN) == 0);
    CHECK(session_state(as) == DMP_SESSION_INITIATING);
    open_msg(as, &r1, "world", 5);
    CHECK(session_state(as) == DMP_SESSION_ACTIVE);
    CHECK_OK(dmp_session_encrypted_len(as, 5, &need));
    CHECK(need == DMP_MESSAGE_HEADER_LEN + DMP_TAG_LEN + 5 + 1);
    envelope_t m3 = seal_msg(as, "third", 5);
    CHECK(m3.data[E_TYPE] == 2 && m3.len == need);
    open_msg(bs, &m3, "third", 5);
    CHECK(session_state(as) == DMP_SESSION_ACTIVE && session_state(bs) == DMP_SESSION_ACTIVE);

    /* Empty plaintexts work both ways (NULL with length 0; NULL out with cap 0). */
    size_t elen = 0;
    CHECK_OK(dmp_session_encrypted_len(as, 0, &elen));
    uint8_t *e0 = check_xmalloc(elen);
    CHECK_OK(dmp_session_encrypt(as, NULL, 0, e0, elen, &out_len));
    CHECK(out_len == elen);
    out_len = 99;
    CHECK_OK(dmp_session_decrypt(bs, e0, elen, NULL, 0, &out_len));
    CHECK(out_len == 0);
    free(e0);

    /* Closing. */
    CHECK_OK(dmp_session_close(as));
    CHECK(session_state(as) == DMP_SESSION_CLOSED);
    envelope_t r2 = seal_msg(bs, "late", 4);
    CHECK_STATUS(dmp_session_encrypt(as, (const uint8_t *)"x", 1, out, sizeof out, &out_len), DMP_ERR_WRONG_STATE);
    CHECK_STATUS(dmp_session_decrypt(as, r2.data, r2.len, out, sizeof out, &out_len), DMP_ERR_WRONG_STATE);
    CHECK_STATUS(dmp_session_encrypted_len(as, 1, &need), DMP_ERR_WRONG_STATE);
    uint8_t key[32] = {3};
    uint8_t rec[4096];
    CHECK_STATUS(dmp_session_serialize(as, key, rec, sizeof rec, &out_len), DMP_ERR_WRONG_STATE);
    CHECK_STATUS(dmp_session_serialize(as, key, NULL, 0, &out_len), DMP_ERR_WRONG_STATE);
    CHECK_STATUS(dmp_session_close(as), DMP_ERR_WRONG_STATE);
    CHECK_STATUS(dmp_session_set_padding(as, DMP_PADDING_BUCKETS), DMP_ERR_WRONG_STATE);
    CHECK_STATUS(dmp_session_set_padding(as, DMP_PADDING_NONE), DMP_ERR_WRONG_STATE);
    CHECK_STATUS(dmp_session_set_limits(as, 5, 10), DMP_ERR_WRONG_STATE);
    CHECK(session_state(as) == DMP_SESSION_CLOSED);
    CHECK_OK(dmp_session_peer_id(as, peer));
    CHECK(memcmp(peer, bpk, 32) == 0);
    uint8_t cid[DMP_SESSION_ID_LEN];
    CHECK_OK(dmp_session_id(as, cid));
    CHECK(memcmp(cid, aid, DMP_SESSION_ID_LEN) == 0);
    /* The other side is unaffected, and closes too. A DORMANT session can be closed. */
    CHECK(session_state(bs) == DMP_SESSION_ACTIVE);
    CHECK_OK(dmp_session_close(bs));
    CHECK(session_state(bs) == DMP_SESSION_CLOSED);
    dmp_session_t *dormant = NULL;
    blen = get_bundle(bob, 0, bundle);
    CHECK_OK(initiate_for(suite, alice, bundle, blen, &dormant));
    CHECK_OK(dmp_session_close(dormant));
    CHECK(session_state(dormant) == DMP_SESSION_CLOSED);

    envelope_free(&m1);
    envelope_free(&m2);
    envelope_free(&m3);
    envelope_free(&r1);
    envelope_free(&r2);
    dmp_session_free(as);
    dmp_session_free(bs);
    dmp_session_free(dormant);
    dmp_identity_free(alice);
    dmp_identity_free(bob);
}

static void buffers_change_nothing(void) {
    dmp_identity_t *alice = new_identity(), *bob = new_identity();
    uint8_t bundle[DMP_BUNDLE_MAX_LEN];
    size_t blen = get_bundle(bob, 1, bundle);
    dmp_session_t *as = NULL, *bs = NULL;
    CHECK_OK(dmp_session_initiate(alice, bundle, blen, &as));

    /* encrypt: size query and one byte short leave the DORMANT session DORMANT. */
    const uint8_t msg[] = "a first message of some length";
    size_t need = 0, len = 0;
    CHECK_OK(dmp_session_encrypted_len(as, sizeof msg, &need));
    CHECK_STATUS(dmp_session_encrypt(as, msg, sizeof msg, NULL, 0, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == need);
    uint8_t *first = check_xmalloc(need);
    len = 0;
    memset(first, 0x5C, need);
    CHECK_STATUS(dmp_session_encrypt(as, msg, sizeof msg, first, need - 1, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == need);
    CHECK(check_all_equal(first, need, 0x5C));
    CHECK(session_state(as) == DMP_SESSION_DORMANT);
    CHECK_OK(dmp_session_encrypt(as, msg, sizeof msg, first, need, &len));
    CHECK(len == need);
    CHECK(message_number(first, DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN) == 0); /* the refused calls used no message number */
    CHECK(session_state(as) == DMP_SESSION_INITIATING);

    /* accept: size query and one byte short create nothing and consume no one-time prekey. */
    uint32_t before = 0, now = 0;
    CHECK_OK(dmp_identity_one_time_prekey_count(bob, &before));
    uint8_t pt[64];
    size_t ptlen = 0;
    int sentinel = 0;
    bs = (dmp_session_t *)(void *)&sentinel;
    CHECK_STATUS(dmp_session_accept(bob, first, len, &bs, NULL, 0, &ptlen), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(ptlen == sizeof msg);
    CHECK(bs == NULL);
    ptlen = 0;
    bs = (dmp_session_t *)(void *)&sentinel;
    CHECK_STATUS(dmp_session_accept(bob, first, len, &bs, pt, sizeof msg - 1, &ptlen), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(ptlen == sizeof msg);
    CHECK(bs == NULL);
    CHECK_OK(dmp_identity_one_time_prekey_count(bob, &now));
    CHECK(now == before);
    CHECK_OK(dmp_session_accept(bob, first, len, &bs, pt, sizeof msg, &ptlen));
    CHECK(ptlen == sizeof msg && memcmp(pt, msg, sizeof msg) == 0);
    CHECK_OK(dmp_identity_one_time_prekey_count(bob, &now));
    CHECK(now == before - 1);

    /* decrypt: size query and one byte short leave the INITIATING session INITIATING, and the
     * same envelope decrypts afterwards. */
    const uint8_t reply[] = "the reply, longer than the message";
    envelope_t r = seal_msg(bs, reply, sizeof reply);
    size_t out_len = 0;
    CHECK_STATUS(dmp_session_decrypt(as, r.data, r.len, NULL, 0, &out_len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(out_len == sizeof reply);
    out_len = 0;
    CHECK_STATUS(dmp_session_decrypt(as, r.data, r.len, pt, sizeof reply - 1, &out_len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(out_len == sizeof reply);
    CHECK(session_state(as) == DMP_SESSION_INITIATING);
    CHECK_OK(dmp_session_encrypted_len(as, 1, &need));
    CHECK(need == DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN + DMP_TAG_LEN + 2); /* still the prekey header */
    CHECK_OK(dmp_session_decrypt(as, r.data, r.len, pt, sizeof reply, &out_len));
    CHECK(out_len == sizeof reply && memcmp(pt, reply, sizeof reply) == 0);
    CHECK(session_state(as) == DMP_SESSION_ACTIVE);

    /* The same through a skipped (out-of-order) key, and through a new chain. */
    envelope_t s1 = seal_msg(bs, "skipped one", 11);
    envelope_t s2 = seal_msg(bs, "skipped two", 11);
    open_msg(as, &s2, "skipped two", 11);
    CHECK_STATUS(dmp_session_decrypt(as, s1.data, s1.len, pt, 10, &out_len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(out_len == 11);
    CHECK_STATUS(dmp_session_decrypt(as, s1.data, s1.len, NULL, 0, &out_len), DMP_ERR_BUFFER_TOO_SMALL);
    open_msg(as, &s1, "skipped one", 11);
    envelope_t a1 = seal_msg(as, "new chain", 9);
    CHECK_STATUS(dmp_session_decrypt(bs, a1.data, a1.len, pt, 8, &out_len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(out_len == 9);
    open_msg(bs, &a1, "new chain", 9);

    /* encrypt one byte short on an ACTIVE session: the next message number is not used up. */
    envelope_t a2 = seal_msg(as, "n1", 2);
    CHECK_OK(dmp_session_encrypted_len(as, 2, &need));
    uint8_t buf[256];
    CHECK_STATUS(dmp_session_encrypt(as, (const uint8_t *)"n2", 2, buf, need - 1, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK_STATUS(dmp_session_encrypt(as, (const uint8_t *)"n2", 2, NULL, 0, &len), DMP_ERR_BUFFER_TOO_SMALL);
    envelope_t a3 = seal_msg(as, "n2", 2);
    CHECK(message_number(a3.data, DMP_MESSAGE_HEADER_LEN) == message_number(a2.data, DMP_MESSAGE_HEADER_LEN) + 1);
    open_msg(bs, &a2, "n1", 2);
    open_msg(bs, &a3, "n2", 2);

    free(first);
    envelope_free(&r);
    envelope_free(&s1);
    envelope_free(&s2);
    envelope_free(&a1);
    envelope_free(&a2);
    envelope_free(&a3);
    dmp_session_free(as);
    dmp_session_free(bs);
    dmp_identity_free(alice);
    dmp_identity_free(bob);
}

static void tampering_and_replays(void) {
    dmp_identity_t *alice = new_identity(), *bob = new_identity(), *carol = new_identity();
    dmp_session_t *as = NULL, *bs = NULL;
    establish(alice, bob, &as, &bs);

    /* Every single-bit flip of a short envelope is refused; the genuine one decrypts after. */
    envelope_t m = seal_msg(bs, "abc", 3);
    CHECK(m.len == DMP_MESSAGE_HEADER_LEN + DMP_TAG_LEN + 4);
    uint8_t *t = check_xmalloc(m.len + 1);
    uint8_t out[256];
    size_t out_len = 0;
    unsigned refused = 0;
    for (size_t bit = 0; bit < 8 * m.len; bit++) {
        memcpy(t, m.data, m.len);
        t[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        int32_t rc = dmp_session_decrypt(as, t, m.len, out, sizeof out, &out_len);
        if (rc < 0 && rc != DMP_ERR_INTERNAL) refused++;
        else fprintf(stderr, "    bit %zu flipped: %d (%s)\n", bit, (int)rc, check_code_name(rc));
    }
    CHECK(refused == 8 * m.len);
    /* Every truncation, and an extension. */
    refused = 0;
    for (size_t n = 0; n < m.len; n++) {
        int32_t rc = dmp_session_decrypt(as, m.data, n, out, sizeof out, &out_len);
        if (rc < 0 && rc != DMP_ERR_INTERNAL) refused++;
    }
    CHECK(refused == m.len);
    memcpy(t, m.data, m.len);
    t[m.len] = 0;
    CHECK_FAILS(dmp_session_decrypt(as, t, m.len + 1, out, sizeof out, &out_len));
    CHECK(session_state(as) == DMP_SESSION_ACTIVE);
    open_msg(as, &m, "abc", 3);

    /* Replays. */
    CHECK_STATUS(dmp_session_decrypt(as, m.data, m.len, out, sizeof out, &out_len), DMP_ERR_DUPLICATE);
    envelope_t x1 = seal_msg(as, "x1", 2);
    open_msg(bs, &x1, "x1", 2);
    envelope_t y1 = seal_msg(bs, "y1", 2);
    open_msg(as, &y1, "y1", 2);
    /* A replay from a finished chain (the direction changed since). */
    CHECK_STATUS(dmp_session_decrypt(as, m.data, m.len, out, sizeof out, &out_len), DMP_ERR_DUPLICATE);
    CHECK_STATUS(dmp_session_decrypt(bs, x1.data, x1.len, out, sizeof out, &out_len), DMP_ERR_DUPLICATE);
    CHECK_STATUS(dmp_session_decrypt(as, y1.data, y1.len, out, sizeof out, &out_len), DMP_ERR_DUPLICATE);

    /* An envelope of another session. */
    dmp_session_t *cs = NULL, *bs2 = NULL;
    establish(carol, bob, &cs, &bs2);
    envelope_t other = seal_msg(bs2, "for carol", 9);
    CHECK_STATUS(dmp_session_decrypt(as, other.data, other.len, out, sizeof out, &out_len), DMP_ERR_WRONG_SESSION);
    open_msg(cs, &other, "for carol", 9);

    /* A bundle is not a message; a message is not a first message. */
    uint8_t bundle[DMP_BUNDLE_MAX_LEN];
    size_t blen = get_bundle(bob, 0, bundle);
    CHECK_STATUS(dmp_session_decrypt(as, bundle, blen, out, sizeof out, &out_len), DMP_ERR_WRONG_MESSAGE_TYPE);
    dmp_session_t *ns = NULL;
    envelope_t y2 = seal_msg(bs, "y2", 2);
    CHECK_STATUS(dmp_session_accept(alice, y2.data, y2.len, &ns, out, sizeof out, &out_len),
                 DMP_ERR_WRONG_MESSAGE_TYPE);
    CHECK(ns == NULL);
    CHECK_STATUS(dmp_session_accept(alice, bundle, blen, &ns, out, sizeof out, &out_len),
                 DMP_ERR_WRONG_MESSAGE_TYPE);
    open_msg(as, &y2, "y2", 2);

    /* A message reflected back to its sender is refused and changes nothing. */
    envelope_t x2 = seal_msg(as, "x2", 2);
    CHECK_FAILS(dmp_session_decrypt(as, x2.data, x2.len, out, sizeof out, &out_len));
    open_msg(bs, &x2, "x2", 2);
    envelope_t y3 = seal_msg(bs, "y3", 2);
    open_msg(as, &y3, "y3", 2);

    /* One-time prekey reuse, tampered first messages, first messages from oneself. */
    dmp_identity_t *dave = new_identity();
    blen = get_bundle(bob, 1, bundle);
    dmp_session_t *ds = NULL, *bds = NULL, *bds2 = NULL;
    CHECK_OK(dmp_session_initiate(dave, bundle, blen, &ds));
    envelope_t f = seal_msg(ds, "first", 5);
    uint32_t before = 0, now = 0;
    CHECK_OK(dmp_identity_one_time_prekey_count(bob, &before));
    CHECK_OK(dmp_identity_one_time_prekey_count(bob, &now));
    CHECK(now == before);
    /* Dave accepting his own first message. */
    CHECK_STATUS(dmp_session_accept(dave, f.data, f.len, &bds, out, sizeof out, &out_len), DMP_ERR_INVALID_ARGUMENT);
    CHECK(bds == NULL);
    CHECK_OK(dmp_session_accept(bob, f.data, f.len, &bds, out, sizeof out, &out_len));
    CHECK(out_len == 5 && memcmp(out, "first", 5) == 0);
    CHECK_OK(dmp_identity_one_time_prekey_count(bob, &now));
    CHECK(now == before - 1);
    CHECK_STATUS(dmp_session_accept(bob, f.data, f.len, &bds2, out, sizeof out, &out_len), DMP_ERR_UNKNOWN_PREKEY);
    CHECK(bds2 == NULL);
    /* The first message given to the responder's session is a replay. */
    CHECK_STATUS(dmp_session_decrypt(bds, f.data, f.len, out, sizeof out, &out_len), DMP_ERR_DUPLICATE);
    /* A first message given back to the initiator's session is refused. */
    envelope_t f2 = seal_msg(ds, "second", 6);
    CHECK_STATUS(dmp_session_decrypt(ds, f2.data, f2.len, out, sizeof out, &out_len), DMP_ERR_WRONG_MESSAGE_TYPE);
    open_msg(bds, &f2, "second", 6);

    /* A session with oneself, and a tampered bundle. */
    dmp_session_t *self = NULL;
    blen = get_bundle(alice, 0, bundle);
    CHECK_STATUS(dmp_session_initiate(alice, bundle, blen, &self), DMP_ERR_INVALID_ARGUMENT);
    CHECK(self == NULL);
    blen = get_bundle(bob, 0, bundle);
    bundle[100] ^= 1; /* in the signature */
    int sentinel = 0;
    self = (dmp_session_t *)(void *)&sentinel;
    CHECK_STATUS(dmp_session_initiate(alice, bundle, blen, &self), DMP_ERR_BAD_SIGNATURE);
    CHECK(self == NULL);
    bundle[100] ^= 1;
    CHECK_STATUS(dmp_session_initiate(alice, bundle, blen - 1, &self), DMP_ERR_BAD_ENVELOPE);
    bundle[0] = 9;
    CHECK_STATUS(dmp_session_initiate(alice, bundle, blen, &self), DMP_ERR_UNSUPPORTED_VERSION);
    CHECK(self == NULL);

    free(t);
    envelope_free(&m);
    envelope_free(&x1);
    envelope_free(&x2);
    envelope_free(&y1);
    envelope_free(&y2);
    envelope_free(&y3);
    envelope_free(&other);
    envelope_free(&f);
    envelope_free(&f2);
    dmp_session_free(as);
    dmp_session_free(bs);
    dmp_session_free(cs);
    dmp_session_free(bs2);
    dmp_session_free(ds);
    dmp_session_free(bds);
    dmp_identity_free(alice);
    dmp_identity_free(bob);
    dmp_identity_free(carol);
    dmp_identity_free(dave);
}

/*
 * A first message with any byte flipped, or truncated, is refused by dmp_session_accept, and no
 * one-time prekey is consumed; the genuine one is accepted afterwards. In a hybrid first message
 * the 1,093-byte ML-KEM block (from offset 83, P_KEM_BLOCK) is sampled (every 16th byte) to keep
 * the run short.
 */
static void first_message_tampering(int32_t suite) {
    dmp_identity_t *alice = new_identity_of(suite), *bob = new_identity_of(suite);
    uint8_t bundle[DMP_BUNDLE_MAX_LEN];
    size_t blen = get_bundle(bob, 1, bundle);
    dmp_session_t *as = NULL, *bs = NULL;
    CHECK_OK(initiate_for(suite, alice, bundle, blen, &as));
    envelope_t f = seal_msg(as, "first", 5);
    CHECK(f.len == first_header_len(suite) + DMP_TAG_LEN + 6);
    const size_t kem_from = P_KEM_BLOCK;
    const size_t kem_to = P_KEM_BLOCK + (first_header_len(suite) - DMP_PREKEY_MESSAGE_HEADER_LEN);
    uint32_t before = 0, now = 0;
    CHECK_OK(dmp_identity_one_time_prekey_count(bob, &before));
    uint8_t *ft = check_xmalloc(f.len);
    uint8_t out[64];
    size_t out_len = 0;
    unsigned refused = 0, tried = 0;
    for (size_t i = 0; i < f.len; i++) {
        if (i >= kem_from && i < kem_to && (i - kem_from) % 16 != 0) continue;
        memcpy(ft, f.data, f.len);
        ft[i] ^= (uint8_t)(1u << (i % 8));
        dmp_session_t *tmp = NULL;
        int32_t rc = accept_for(suite, bob, ft, f.len, &tmp, out, sizeof out, &out_len);
        tried++;
        if (rc < 0 && rc != DMP_ERR_INTERNAL && tmp == NULL) refused++;
        else fprintf(stderr, "    first message byte %zu flipped: %d (%s)\n", i, (int)rc, check_code_name(rc));
        dmp_session_free(tmp);
    }
    CHECK(refused == tried);
    refused = 0;
    for (size_t n = 0; n < f.len; n++) {
        dmp_session_t *tmp = NULL;
        int32_t rc = accept_for(suite, bob, f.data, n, &tmp, out, sizeof out, &out_len);
        if (rc < 0 && rc != DMP_ERR_INTERNAL && tmp == NULL) refused++;
        dmp_session_free(tmp);
    }
    CHECK(refused == f.len);
    CHECK_OK(dmp_identity_one_time_prekey_count(bob, &now));
    CHECK(now == before);
    CHECK_OK(accept_for(suite, bob, f.data, f.len, &bs, out, sizeof out, &out_len));
    CHECK(out_len == 5 && memcmp(out, "first", 5) == 0);
    CHECK_OK(dmp_identity_one_time_prekey_count(bob, &now));
    CHECK(now == before - 1);
    free(ft);
    envelope_free(&f);
    dmp_session_free(as);
    dmp_session_free(bs);
    dmp_identity_free(alice);
    dmp_identity_free(bob);
}

/*
 * Post-quantum policy: hybrid is required by default; classical peers only with
 * DMP_PQ_ALLOW_CLASSICAL; a hybrid bundle or first message stripped of its ML-KEM part is a
 * downgrade, refused under any policy.
 */
static void pq_policy(void) {
    dmp_identity_t *h1 = new_identity_of(DMP_SUITE_HYBRID), *h2 = new_identity_of(DMP_SUITE_HYBRID);
    dmp_identity_t *c1 = new_identity_of(DMP_SUITE_CLASSICAL), *c2 = new_identity_of(DMP_SUITE_CLASSICAL);
    uint8_t bundle[DMP_BUNDLE_MAX_LEN], out[64];
    size_t blen = 0, out_len = 0;
    int sentinel = 0;
    dmp_session_t *s = NULL, *r = NULL;

    /* Invalid policies. */
    const int32_t bad[] = {2, -1, INT32_MIN, INT32_MAX};
    blen = get_bundle(h2, 0, bundle);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s = (dmp_session_t *)(void *)&sentinel;
        CHECK_STATUS(dmp_session_initiate_with(h1, bundle, blen, bad[i], &s), DMP_ERR_INVALID_ARGUMENT);
        CHECK(s == NULL);
    }

    /* A classical bundle: refused by default, accepted when allowed (from either suite). */
    blen = get_bundle(c2, 1, bundle);
    s = (dmp_session_t *)(void *)&sentinel;
    CHECK_STATUS(dmp_session_initiate(h1, bundle, blen, &s), DMP_ERR_PQ_REQUIRED);
    CHECK(s == NULL);
    CHECK_STATUS(dmp_session_initiate_with(h1, bundle, blen, DMP_PQ_REQUIRE_HYBRID, &s), DMP_ERR_PQ_REQUIRED);
    CHECK_STATUS(dmp_session_initiate(c1, bundle, blen, &s), DMP_ERR_PQ_REQUIRED);
    CHECK_OK(dmp_session_initiate_with(h1, bundle, blen, DMP_PQ_ALLOW_CLASSICAL, &s));
    envelope_t f = seal_msg(s, "classical", 9);
    CHECK(f.len == DMP_PREKEY_MESSAGE_HEADER_LEN + DMP_TAG_LEN + 10);
    /* The classical first message: refused by default, accepted when allowed. */
    uint32_t before = 0, now = 0;
    CHECK_OK(dmp_identity_one_time_prekey_count(c2, &before));
    r = (dmp_session_t *)(void *)&sentinel;
    CHECK_STATUS(dmp_session_accept(c2, f.data, f.len, &r, out, sizeof out, &out_len), DMP_ERR_PQ_REQUIRED);
    CHECK(r == NULL);
    CHECK_STATUS(dmp_session_accept_with(c2, f.data, f.len, DMP_PQ_REQUIRE_HYBRID, &r, out, sizeof out, &out_len),
                 DMP_ERR_PQ_REQUIRED);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = (dmp_session_t *)(void *)&sentinel;
        CHECK_STATUS(dmp_session_accept_with(c2, f.data, f.len, bad[i], &r, out, sizeof out, &out_len),
                     DMP_ERR_INVALID_ARGUMENT);
        CHECK(r == NULL);
    }
    CHECK_OK(dmp_identity_one_time_prekey_count(c2, &now));
    CHECK(now == before);
    CHECK_OK(dmp_session_accept_with(c2, f.data, f.len, DMP_PQ_ALLOW_CLASSICAL, &r, out, sizeof out, &out_len));
    CHECK(out_len == 9 && memcmp(out, "classical", 9) == 0);
    envelope_t reply = seal_msg(r, "ok", 2);
    open_msg(s, &reply, "ok", 2);
    envelope_free(&reply);
    envelope_free(&f);
    dmp_session_free(s);
    dmp_session_free(r);

    /* A hybrid bundle is used as hybrid even when classical is allowed. */
    blen = get_bundle(h2, 1, bundle);
    CHECK_OK(dmp_session_initiate_with(h1, bundle, blen, DMP_PQ_ALLOW_CLASSICAL, &s));
    f = seal_msg(s, "hybrid", 6);
    CHECK(f.len == DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN + DMP_TAG_LEN + 7);
    /* Stripped of its ML-KEM block (flags bit 1 at offset 78, the block from offset 83): a
     * classical message naming a hybrid signed prekey is a downgrade, under any policy. */
    const size_t kem_len = DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN - DMP_PREKEY_MESSAGE_HEADER_LEN;
    CHECK(P_FLAGS == 78 && P_KEM_BLOCK == 83 && kem_len == 1 + 4 + DMP_KEM_CIPHERTEXT_LEN);
    CHECK((f.data[P_FLAGS] & 0x02) != 0);
    uint8_t *stripped = check_xmalloc(f.len);
    memcpy(stripped, f.data, P_KEM_BLOCK);
    memcpy(stripped + P_KEM_BLOCK, f.data + P_KEM_BLOCK + kem_len, f.len - P_KEM_BLOCK - kem_len);
    stripped[P_FLAGS] &= (uint8_t)~0x02;
    size_t slen = f.len - kem_len;
    CHECK_OK(dmp_identity_one_time_prekey_count(h2, &before));
    r = (dmp_session_t *)(void *)&sentinel;
    CHECK_STATUS(dmp_session_accept_with(h2, stripped, slen, DMP_PQ_ALLOW_CLASSICAL, &r, out, sizeof out, &out_len),
                 DMP_ERR_DOWNGRADE);
    CHECK(r == NULL);
    CHECK_STATUS(dmp_session_accept(h2, stripped, slen, &r, out, sizeof out, &out_len), DMP_ERR_DOWNGRADE);
    /* A tampered ML-KEM ciphertext fails authentication. */
    memcpy(stripped, f.data, f.len);
    stripped[P_KEM_BLOCK + 5 + 100] ^= 0x01;
    CHECK_STATUS(dmp_session_accept(h2, stripped, f.len, &r, out, sizeof out, &out_len), DMP_ERR_AUTH_FAILED);
    CHECK_OK(dmp_identity_one_time_prekey_count(h2, &now));
    CHECK(now == before);
    CHECK_OK(dmp_session_accept(h2, f.data, f.len, &r, out, sizeof out, &out_len));
    CHECK(out_len == 6 && memcmp(out, "hybrid", 6) == 0);
    free(stripped);
    envelope_free(&f);
    dmp_session_free(s);
    dmp_session_free(r);

    /* A hybrid bundle stripped of its ML-KEM block: its signature (over the whole bundle) fails,
     * whatever the policy. */
    blen = get_bundle(h2, 0, bundle);
    CHECK(blen == DMP_HYBRID_BUNDLE_LEN);
    bundle[142] &= (uint8_t)~0x02; /* the flags (docs/PROTOCOL.md 4.2) */
    s = (dmp_session_t *)(void *)&sentinel;
    CHECK_STATUS(dmp_session_initiate(h1, bundle, DMP_BUNDLE_LEN, &s), DMP_ERR_BAD_SIGNATURE);
    CHECK(s == NULL);
    CHECK_STATUS(dmp_session_initiate_with(h1, bundle, DMP_BUNDLE_LEN, DMP_PQ_ALLOW_CLASSICAL, &s),
                 DMP_ERR_BAD_SIGNATURE);
    CHECK(s == NULL);

    /* A classical identity can reach a hybrid peer: the bundle's ML-KEM key is used. */
    blen = get_bundle(h2, 1, bundle);
    CHECK_OK(dmp_session_initiate(c1, bundle, blen, &s));
    f = seal_msg(s, "mixed", 5);
    CHECK(f.len == DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN + DMP_TAG_LEN + 6);
    CHECK_OK(dmp_session_accept(h2, f.data, f.len, &r, out, sizeof out, &out_len));
    CHECK(out_len == 5 && memcmp(out, "mixed", 5) == 0);
    envelope_free(&f);
    dmp_session_free(s);
    dmp_session_free(r);

    /* NULL pointers of the _with variants. */
    blen = get_bundle(h2, 1, bundle);
    CHECK_STATUS(dmp_session_initiate_with(NULL, bundle, blen, DMP_PQ_REQUIRE_HYBRID, &s), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_initiate_with(h1, NULL, blen, DMP_PQ_REQUIRE_HYBRID, &s), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_initiate_with(h1, bundle, blen, DMP_PQ_REQUIRE_HYBRID, NULL), DMP_ERR_NULL_POINTER);
    CHECK_OK(dmp_session_initiate_with(h1, bundle, blen, DMP_PQ_REQUIRE_HYBRID, &s));
    f = seal_msg(s, "n", 1);
    CHECK_STATUS(dmp_session_accept_with(NULL, f.data, f.len, DMP_PQ_REQUIRE_HYBRID, &r, out, sizeof out, &out_len),
                 DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_accept_with(h2, NULL, f.len, DMP_PQ_REQUIRE_HYBRID, &r, out, sizeof out, &out_len),
                 DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_accept_with(h2, f.data, f.len, DMP_PQ_REQUIRE_HYBRID, NULL, out, sizeof out, &out_len),
                 DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_accept_with(h2, f.data, f.len, DMP_PQ_REQUIRE_HYBRID, &r, NULL, sizeof out, &out_len),
                 DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_accept_with(h2, f.data, f.len, DMP_PQ_REQUIRE_HYBRID, &r, out, sizeof out, NULL),
                 DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_accept_with(h2, f.data, f.len, DMP_PQ_REQUIRE_HYBRID, &r, NULL, 0, &out_len),
                 DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(out_len == 1);
    CHECK_OK(dmp_session_accept_with(h2, f.data, f.len, DMP_PQ_REQUIRE_HYBRID, &r, out, sizeof out, &out_len));
    envelope_free(&f);
    dmp_session_free(s);
    dmp_session_free(r);

    dmp_identity_free(h1);
    dmp_identity_free(h2);
    dmp_identity_free(c1);
    dmp_identity_free(c2);
}

/*
 * The counters PN and N are varints: a header grows by a byte when one of them reaches 128, and
 * dmp_session_encrypted_len follows (seal_msg checks the exact size). A counter written in a
 * longer form than needed is refused.
 */
static void varint_counters(void) {
    dmp_identity_t *alice = new_identity(), *bob = new_identity();
    dmp_session_t *as = NULL, *bs = NULL;
    establish(alice, bob, &as, &bs); /* bob's chain has sent N = 0 ("reply") */
    uint8_t out[64];
    size_t out_len = 0;
    uint32_t pn = 0, n = 0;
    enum { COUNT = 131 };
    static envelope_t m[COUNT];
    for (uint32_t i = 1; i < COUNT; i++) {
        char text[16];
        int tl = snprintf(text, sizeof text, "n %u", (unsigned)i);
        m[i] = seal_msg(bs, text, (size_t)tl);
        size_t hl = ratchet_counters(m[i].data, DMP_MESSAGE_HEADER_LEN, &pn, &n);
        CHECK(n == i);
        CHECK(hl == DMP_MESSAGE_HEADER_LEN - 1 + helpers_varint_len(i));
        CHECK(hl == DMP_MESSAGE_HEADER_LEN + (i >= 128));
        CHECK(m[i].len == hl + (size_t)tl + 1 + DMP_TAG_LEN);
    }
    /* Delivered newest first: every one through a skipped key but the last sent. */
    for (uint32_t i = COUNT - 1; i >= 1; i--) {
        char text[16];
        int tl = snprintf(text, sizeof text, "n %u", (unsigned)i);
        open_msg(as, &m[i], text, (size_t)tl);
    }
    /* A new chain of bob's: PN = 131 (two bytes), N = 0. */
    envelope_t a = seal_msg(as, "turn", 4);
    open_msg(bs, &a, "turn", 4);
    envelope_t b = seal_msg(bs, "next", 4);
    size_t hl = ratchet_counters(b.data, DMP_MESSAGE_HEADER_LEN, &pn, &n);
    CHECK(pn == COUNT && n == 0);
    CHECK(hl == DMP_MESSAGE_HEADER_LEN + 1);
    CHECK(b.data[E_RATCHET_KEY + 32] == (0x80 | (COUNT & 0x7F)) && b.data[E_RATCHET_KEY + 33] == (COUNT >> 7));
    /* N = 1 rewritten as 0x81 0x00 (the same value, overlong): refused as a bad envelope. */
    envelope_t c = seal_msg(bs, "over", 4);
    CHECK(message_number(c.data, DMP_MESSAGE_HEADER_LEN) == 1);
    uint8_t *t = check_xmalloc(c.len + 1);
    memcpy(t, c.data, hl - 1);
    t[hl - 1] = 0x81;
    t[hl] = 0x00;
    memcpy(t + hl + 1, c.data + hl, c.len - hl);
    CHECK_STATUS(dmp_session_decrypt(as, t, c.len + 1, out, sizeof out, &out_len), DMP_ERR_BAD_ENVELOPE);
    open_msg(as, &b, "next", 4);
    open_msg(as, &c, "over", 4);
    free(t);
    for (uint32_t i = 1; i < COUNT; i++) envelope_free(&m[i]);
    envelope_free(&a);
    envelope_free(&b);
    envelope_free(&c);
    dmp_session_free(as);
    dmp_session_free(bs);
    dmp_identity_free(alice);
    dmp_identity_free(bob);
}

static void padding_and_limits(void) {
    dmp_identity_t *alice = new_identity(), *bob = new_identity();
    dmp_session_t *as = NULL, *bs = NULL;
    establish(alice, bob, &as, &bs);

    const int32_t bad_modes[] = {2, 3, -1, 255, 256, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof bad_modes / sizeof bad_modes[0]; i++)
        CHECK_STATUS(dmp_session_set_padding(as, bad_modes[i]), DMP_ERR_INVALID_ARGUMENT);

    /* Buckets: powers of two from 64 bytes for the framed plaintext (plaintext + 1 marker). */
    CHECK_OK(dmp_session_set_padding(as, DMP_PADDING_BUCKETS));
    const size_t h = DMP_MESSAGE_HEADER_LEN + DMP_TAG_LEN;
    const struct {
        size_t pt, framed;
    } cases[] = {{0, 64}, {10, 64}, {63, 64}, {64, 128}, {127, 128}, {128, 256}, {1000, 1024}, {5000, 8192}};
    uint8_t *pt = check_xmalloc(8192);
    for (size_t i = 0; i < 8192; i++) pt[i] = (uint8_t)(i * 13);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t need = 0;
        CHECK_OK(dmp_session_encrypted_len(as, cases[i].pt, &need));
        CHECK(need == h + cases[i].framed);
        envelope_t e = seal_msg(as, pt, cases[i].pt);
        CHECK(e.len == h + cases[i].framed);
        open_msg(bs, &e, pt, cases[i].pt);
        envelope_free(&e);
    }
    CHECK_OK(dmp_session_set_padding(as, DMP_PADDING_NONE));
    envelope_t e = seal_msg(as, pt, 10);
    CHECK(e.len == h + 11);
    open_msg(bs, &e, pt, 10);
    envelope_free(&e);
    /* Invalid modes did not change the mode. */
    CHECK_STATUS(dmp_session_set_padding(as, 7), DMP_ERR_INVALID_ARGUMENT);
    e = seal_msg(as, pt, 10);
    CHECK(e.len == h + 11);
    open_msg(bs, &e, pt, 10);
    envelope_free(&e);

    /* Limits out of range. */
    CHECK_STATUS(dmp_session_set_limits(as, 0, 10), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_session_set_limits(as, 0, 0), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_session_set_limits(as, 10, 0), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_session_set_limits(as, DMP_MAX_FORWARD_JUMP_CEILING + 1, 10), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_session_set_limits(as, 10, DMP_MAX_SKIPPED_KEYS_CEILING + 1), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_session_set_limits(as, UINT32_MAX, UINT32_MAX), DMP_ERR_INVALID_ARGUMENT);
    CHECK_OK(dmp_session_set_limits(as, DMP_MAX_FORWARD_JUMP_CEILING, DMP_MAX_SKIPPED_KEYS_CEILING));
    CHECK_OK(dmp_session_set_limits(as, 1, 1));
    CHECK_OK(dmp_session_set_limits(as, DMP_DEFAULT_MAX_FORWARD_JUMP, DMP_DEFAULT_MAX_SKIPPED_KEYS));

    /* Forward jump: with (5, 10), a message 6 ahead is refused, one 5 ahead is not. */
    CHECK_OK(dmp_session_set_limits(as, 5, 10));
    envelope_t m[7];
    char text[7][8];
    for (int i = 0; i < 7; i++) {
        snprintf(text[i], sizeof text[i], "jump %d", i);
        m[i] = seal_msg(bs, text[i], strlen(text[i]));
    }
    uint8_t out[64];
    size_t out_len = 0;
    CHECK_STATUS(dmp_session_decrypt(as, m[6].data, m[6].len, out, sizeof out, &out_len), DMP_ERR_TOO_FAR_AHEAD);
    open_msg(as, &m[5], text[5], strlen(text[5]));
    open_msg(as, &m[6], text[6], strlen(text[6]));
    for (int i = 0; i < 5; i++) open_msg(as, &m[i], text[i], strlen(text[i]));
    for (int i = 0; i < 7; i++) envelope_free(&m[i]);

    /* The skipped-key cap: with (5, 2), skipping 4 keeps only the 2 newest; the others are
     * refused as duplicates (their keys were discarded). */
    CHECK_OK(dmp_session_set_limits(as, 5, 2));
    for (int i = 0; i < 5; i++) {
        snprintf(text[i], sizeof text[i], "cap %d", i);
        m[i] = seal_msg(bs, text[i], strlen(text[i]));
    }
    open_msg(as, &m[4], text[4], strlen(text[4])); /* skips 0..3, keeps 2 and 3 */
    CHECK_STATUS(dmp_session_decrypt(as, m[0].data, m[0].len, out, sizeof out, &out_len), DMP_ERR_DUPLICATE);
    CHECK_STATUS(dmp_session_decrypt(as, m[1].data, m[1].len, out, sizeof out, &out_len), DMP_ERR_DUPLICATE);
    open_msg(as, &m[3], text[3], strlen(text[3]));
    open_msg(as, &m[2], text[2], strlen(text[2]));
    for (int i = 0; i < 5; i++) envelope_free(&m[i]);

    /* Lowering the cap evicts stored keys at once. */
    CHECK_OK(dmp_session_set_limits(as, 10, 10));
    for (int i = 0; i < 5; i++) {
        snprintf(text[i], sizeof text[i], "low %d", i);
        m[i] = seal_msg(bs, text[i], strlen(text[i]));
    }
    open_msg(as, &m[4], text[4], strlen(text[4])); /* stores 0..3 */
    CHECK_OK(dmp_session_set_limits(as, 10, 1));   /* keeps 3 */
    CHECK_STATUS(dmp_session_decrypt(as, m[2].data, m[2].len, out, sizeof out, &out_len), DMP_ERR_DUPLICATE);
    open_msg(as, &m[3], text[3], strlen(text[3]));
    for (int i = 0; i < 5; i++) envelope_free(&m[i]);

    /* Limits and padding are kept in the session record. */
    CHECK_OK(dmp_session_set_limits(as, 2, 10));
    CHECK_OK(dmp_session_set_padding(as, DMP_PADDING_BUCKETS));
    uint8_t key[32];
    CHECK_OK(dmp_random_bytes(key, sizeof key));
    uint8_t rec[8192];
    size_t rlen = 0;
    CHECK_OK(dmp_session_serialize(as, key, rec, sizeof rec, &rlen));
    dmp_session_t *as2 = NULL;
    CHECK_OK(dmp_session_deserialize(rec, rlen, key, &as2));
    for (int i = 0; i < 4; i++) {
        snprintf(text[i], sizeof text[i], "rec %d", i);
        m[i] = seal_msg(bs, text[i], strlen(text[i]));
    }
    CHECK_STATUS(dmp_session_decrypt(as2, m[3].data, m[3].len, out, sizeof out, &out_len), DMP_ERR_TOO_FAR_AHEAD);
    open_msg(as2, &m[2], text[2], strlen(text[2]));
    size_t need = 0;
    CHECK_OK(dmp_session_encrypted_len(as2, 10, &need));
    CHECK(need == h + 64);
    for (int i = 0; i < 4; i++) envelope_free(&m[i]);

    free(pt);
    dmp_session_free(as);
    dmp_session_free(as2);
    dmp_session_free(bs);
    dmp_identity_free(alice);
    dmp_identity_free(bob);
}

static void large_messages(void) {
    dmp_identity_t *alice = new_identity(), *bob = new_identity();
    dmp_session_t *as = NULL, *bs = NULL;
    establish(alice, bob, &as, &bs);
    size_t need = 0, len = 0;
    uint8_t *big = check_xmalloc(DMP_MAX_PLAINTEXT_LEN + 1);
    for (size_t i = 0; i <= DMP_MAX_PLAINTEXT_LEN; i++) big[i] = (uint8_t)(i ^ (i >> 8));
    uint8_t small[64];

    CHECK_STATUS(dmp_session_encrypted_len(as, DMP_MAX_PLAINTEXT_LEN + 1, &need), DMP_ERR_TOO_LARGE);
    CHECK_STATUS(dmp_session_encrypted_len(as, SIZE_MAX, &need), DMP_ERR_TOO_LARGE);
    CHECK_STATUS(dmp_session_encrypt(as, big, DMP_MAX_PLAINTEXT_LEN + 1, small, sizeof small, &len), DMP_ERR_TOO_LARGE);

    /* The largest plaintext, unpadded: fits in DMP_MAX_ENVELOPE_LEN and round-trips. */
    CHECK_OK(dmp_session_encrypted_len(as, DMP_MAX_PLAINTEXT_LEN, &need));
    CHECK(need == DMP_MESSAGE_HEADER_LEN + DMP_TAG_LEN + DMP_MAX_PLAINTEXT_LEN + 1);
    CHECK(need <= DMP_MAX_ENVELOPE_LEN);
    envelope_t e = seal_msg(as, big, DMP_MAX_PLAINTEXT_LEN);
    open_msg(bs, &e, big, DMP_MAX_PLAINTEXT_LEN);
    envelope_free(&e);

    /* The largest plaintext, padded to its bucket: "DMP_MAX_ENVELOPE_LEN: largest envelope a
     * session accepts", so an envelope the library itself produces should not exceed it. */
    CHECK_OK(dmp_session_set_padding(as, DMP_PADDING_BUCKETS));
    CHECK_OK(dmp_session_encrypted_len(as, DMP_MAX_PLAINTEXT_LEN, &need));
    CHECK(need <= DMP_MAX_ENVELOPE_LEN);
    if (need > DMP_MAX_ENVELOPE_LEN)
        fprintf(stderr, "    envelope of the largest padded plaintext: %zu bytes; DMP_MAX_ENVELOPE_LEN = %d\n",
                need, DMP_MAX_ENVELOPE_LEN);
    e = seal_msg(as, big, DMP_MAX_PLAINTEXT_LEN);
    CHECK(e.len == need);
    /* ... and the peer accepts it. */
    open_msg(bs, &e, big, DMP_MAX_PLAINTEXT_LEN);
    envelope_free(&e);

    /* The largest envelope of all: a first (hybrid prekey) message of the largest plaintext,
     * padded. It still fits. */
    {
        uint8_t bundle[DMP_BUNDLE_MAX_LEN];
        size_t blen = get_bundle(bob, 1, bundle);
        dmp_session_t *ds = NULL;
        CHECK_OK(dmp_session_initiate(alice, bundle, blen, &ds));
        CHECK_OK(dmp_session_set_padding(ds, DMP_PADDING_BUCKETS));
        CHECK_OK(dmp_session_encrypted_len(ds, DMP_MAX_PLAINTEXT_LEN, &need));
        CHECK(need <= DMP_MAX_ENVELOPE_LEN);
        dmp_session_free(ds);
    }

    /* An envelope larger than DMP_MAX_ENVELOPE_LEN is refused as TOO_LARGE (a MESSAGE header of
     * this session, then garbage). */
    CHECK_OK(dmp_session_set_padding(as, DMP_PADDING_NONE));
    envelope_t hdr = seal_msg(as, "h", 1);
    size_t over = (size_t)DMP_MAX_ENVELOPE_LEN + 1;
    uint8_t *huge = check_xmalloc(over);
    memset(huge, 0x41, over);
    memcpy(huge, hdr.data, DMP_MESSAGE_HEADER_LEN);
    int32_t rc = dmp_session_decrypt(bs, huge, over, big, DMP_MAX_PLAINTEXT_LEN + 1, &len);
    CHECK(rc < 0 && rc != DMP_ERR_INTERNAL);
    if (!CHECK_STATUS(rc, DMP_ERR_TOO_LARGE))
        fprintf(stderr, "    (decrypt of a %zu-byte envelope)\n", over);
    open_msg(bs, &hdr, "h", 1);
    envelope_free(&hdr);
    free(huge);

    free(big);
    dmp_session_free(as);
    dmp_session_free(bs);
    dmp_identity_free(alice);
    dmp_identity_free(bob);
}

static void records(void) {
    dmp_identity_t *alice = new_identity(), *bob = new_identity();
    uint8_t key[32], wrong[32];
    CHECK_OK(dmp_random_bytes(key, sizeof key));
    CHECK_OK(dmp_random_bytes(wrong, sizeof wrong));
    uint8_t rec[8192];
    size_t rlen = 0, need = 0;

    /* A DORMANT session restored still starts the session. */
    uint8_t bundle[DMP_BUNDLE_MAX_LEN];
    size_t blen = get_bundle(bob, 1, bundle);
    dmp_session_t *as = NULL, *bs = NULL, *tmp = NULL;
    CHECK_OK(dmp_session_initiate(alice, bundle, blen, &as));
    CHECK_STATUS(dmp_session_serialize(as, key, NULL, 0, &need), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(need > 0 && need <= sizeof rec);
    CHECK_STATUS(dmp_session_serialize(as, key, rec, need - 1, &rlen), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(rlen == need);
    CHECK_OK(dmp_session_serialize(as, key, rec, sizeof rec, &rlen));
    CHECK(rlen == need);
    dmp_session_free(as);
    as = NULL;
    CHECK_OK(dmp_session_deserialize(rec, rlen, key, &as));
    CHECK(session_state(as) == DMP_SESSION_DORMANT);
    envelope_t f = seal_msg(as, "from a restored dormant session", 31);
    CHECK(session_state(as) == DMP_SESSION_INITIATING);
    /* An INITIATING session restored still carries the prekey header. */
    CHECK_OK(dmp_session_serialize(as, key, rec, sizeof rec, &rlen));
    dmp_session_free(as);
    as = NULL;
    CHECK_OK(dmp_session_deserialize(rec, rlen, key, &as));
    CHECK(session_state(as) == DMP_SESSION_INITIATING);
    envelope_t f2 = seal_msg(as, "second", 6);
    CHECK(f2.data[E_TYPE] == 1);
    uint8_t out[256];
    size_t out_len = 0;
    CHECK_OK(dmp_session_accept(bob, f.data, f.len, &bs, out, sizeof out, &out_len));
    CHECK(out_len == 31 && memcmp(out, "from a restored dormant session", 31) == 0);
    open_msg(bs, &f2, "second", 6);

    /* Mid-conversation, both sides restored, ids and state preserved. */
    envelope_t r = seal_msg(bs, "reply", 5);
    open_msg(as, &r, "reply", 5);
    envelope_t held = seal_msg(bs, "held back across the restore", 28);
    envelope_t r2 = seal_msg(bs, "after held", 10);
    open_msg(as, &r2, "after held", 10);
    uint8_t id_before[DMP_SESSION_ID_LEN], id_after[DMP_SESSION_ID_LEN], p1[32], p2[32];
    CHECK_OK(dmp_session_id(as, id_before));
    CHECK_OK(dmp_session_peer_id(as, p1));
    CHECK_OK(dmp_session_serialize(as, key, rec, sizeof rec, &rlen));
    dmp_session_free(as);
    as = NULL;
    CHECK_OK(dmp_session_deserialize(rec, rlen, key, &as));
    CHECK(session_state(as) == DMP_SESSION_ACTIVE);
    CHECK_OK(dmp_session_id(as, id_after));
    CHECK_OK(dmp_session_peer_id(as, p2));
    CHECK(memcmp(id_before, id_after, sizeof id_before) == 0 && memcmp(p1, p2, 32) == 0);
    CHECK_OK(dmp_session_serialize(bs, key, rec, sizeof rec, &rlen));
    dmp_session_free(bs);
    bs = NULL;
    CHECK_OK(dmp_session_deserialize(rec, rlen, key, &bs));
    /* The skipped key survived the restore. */
    open_msg(as, &held, "held back across the restore", 28);
    CHECK_STATUS(dmp_session_decrypt(as, r2.data, r2.len, out, sizeof out, &out_len), DMP_ERR_DUPLICATE);
    for (int i = 0; i < 3; i++) {
        envelope_t a = seal_msg(as, "ping", 4);
        open_msg(bs, &a, "ping", 4);
        envelope_t b = seal_msg(bs, "pong", 4);
        open_msg(as, &b, "pong", 4);
        envelope_free(&a);
        envelope_free(&b);
    }

    /* Wrong key, corruption, truncation, other kinds: refused, *out NULL. */
    CHECK_OK(dmp_session_serialize(as, key, rec, sizeof rec, &rlen));
    int sentinel = 0;
    tmp = (dmp_session_t *)(void *)&sentinel;
    CHECK_STATUS(dmp_session_deserialize(rec, rlen, wrong, &tmp), DMP_ERR_WRONG_STORAGE_KEY);
    CHECK(tmp == NULL);
    unsigned refused = 0;
    for (size_t i = 2; i < rlen; i += 3) {
        rec[i] ^= 0x01;
        tmp = (dmp_session_t *)(void *)&sentinel;
        if (dmp_session_deserialize(rec, rlen, key, &tmp) == DMP_ERR_WRONG_STORAGE_KEY && tmp == NULL) refused++;
        rec[i] ^= 0x01;
    }
    CHECK(refused == (rlen - 2 + 2) / 3);
    for (size_t n = 0; n < rlen; n += 7) {
        tmp = (dmp_session_t *)(void *)&sentinel;
        CHECK_FAILS(dmp_session_deserialize(rec, n, key, &tmp));
        CHECK(tmp == NULL);
    }
    rec[0] ^= 0x40;
    CHECK_STATUS(dmp_session_deserialize(rec, rlen, key, &tmp), DMP_ERR_UNSUPPORTED_VERSION);
    rec[0] ^= 0x40;
    uint8_t idrec[4096];
    size_t idlen = 0;
    CHECK_OK(dmp_identity_serialize(alice, key, idrec, sizeof idrec, &idlen));
    CHECK_STATUS(dmp_session_deserialize(idrec, idlen, key, &tmp), DMP_ERR_BAD_STATE);
    CHECK(tmp == NULL);
    dmp_identity_t *idtmp = NULL;
    CHECK_STATUS(dmp_identity_deserialize(rec, rlen, key, &idtmp), DMP_ERR_BAD_STATE);
    CHECK(idtmp == NULL);
    CHECK_OK(dmp_session_deserialize(rec, rlen, key, &tmp)); /* the record itself is still fine */
    dmp_session_free(tmp);

    envelope_free(&f);
    envelope_free(&f2);
    envelope_free(&r);
    envelope_free(&r2);
    envelope_free(&held);
    dmp_session_free(as);
    dmp_session_free(bs);
    dmp_identity_free(alice);
    dmp_identity_free(bob);
}

struct identity_as_session_args {
    dmp_identity_t *identity;
    const uint8_t *env;
    size_t env_len;
};

static int identity_as_session_child(void *arg) {
    struct identity_as_session_args *x = arg;
    unsigned long failed_before = check_failed_;
    dmp_session_t *fake = (dmp_session_t *)(void *)x->identity;
    int32_t st = 0;
    uint8_t buf32[32], out[512], rec[4096], key[32] = {9};
    size_t need = 0, len = 0;
    CHECK_STATUS(dmp_session_state(fake, &st), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_session_peer_id(fake, buf32), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_session_id(fake, buf32), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_session_encrypted_len(fake, 1, &need), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_session_encrypt(fake, out, 1, rec, sizeof rec, &len), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_session_decrypt(fake, x->env, x->env_len, out, sizeof out, &len), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_session_set_padding(fake, DMP_PADDING_NONE), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_session_set_limits(fake, 5, 10), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_session_close(fake), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_session_serialize(fake, key, rec, sizeof rec, &len), DMP_ERR_INVALID_ARGUMENT);
    /* The identity still works. */
    CHECK_OK(dmp_identity_public_key(x->identity, buf32));
    return check_failed_ != failed_before;
}

static void null_pointers_and_handles(void) {
    dmp_identity_t *alice = new_identity(), *bob = new_identity();
    uint8_t bundle[DMP_BUNDLE_MAX_LEN];
    size_t blen = get_bundle(bob, 1, bundle);
    int sentinel = 0;
    dmp_session_t *as = (dmp_session_t *)(void *)&sentinel, *bs = NULL;
    uint8_t out[512], buf32[32], key[32] = {9};
    size_t len = 0, need = 0;

    /* initiate */
    CHECK_STATUS(dmp_session_initiate(NULL, bundle, blen, &as), DMP_ERR_NULL_POINTER);
    CHECK(as == NULL);
    as = (dmp_session_t *)(void *)&sentinel;
    CHECK_STATUS(dmp_session_initiate(alice, NULL, blen, &as), DMP_ERR_NULL_POINTER);
    CHECK(as == NULL);
    CHECK_STATUS(dmp_session_initiate(alice, bundle, blen, NULL), DMP_ERR_NULL_POINTER);
    CHECK_OK(dmp_session_initiate(alice, bundle, blen, &as));

    /* encrypted_len, encrypt: refused calls leave the session DORMANT. */
    CHECK_STATUS(dmp_session_encrypted_len(NULL, 4, &need), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_encrypted_len(as, 4, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_encrypt(NULL, (const uint8_t *)"ping", 4, out, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_encrypt(as, NULL, 4, out, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_encrypt(as, (const uint8_t *)"ping", 4, NULL, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_encrypt(as, (const uint8_t *)"ping", 4, out, sizeof out, NULL), DMP_ERR_NULL_POINTER);
    CHECK(session_state(as) == DMP_SESSION_DORMANT);
    envelope_t f = seal_msg(as, "ping", 4);
    CHECK(message_number(f.data, DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN) == 0);

    /* accept: refused calls consume nothing. */
    uint32_t before = 0, now = 0;
    CHECK_OK(dmp_identity_one_time_prekey_count(bob, &before));
    bs = (dmp_session_t *)(void *)&sentinel;
    CHECK_STATUS(dmp_session_accept(NULL, f.data, f.len, &bs, out, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK(bs == NULL);
    bs = (dmp_session_t *)(void *)&sentinel;
    CHECK_STATUS(dmp_session_accept(bob, NULL, f.len, &bs, out, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK(bs == NULL);
    CHECK_STATUS(dmp_session_accept(bob, f.data, f.len, NULL, out, sizeof out, &len), DMP_ERR_NULL_POINTER);
    bs = (dmp_session_t *)(void *)&sentinel;
    CHECK_STATUS(dmp_session_accept(bob, f.data, f.len, &bs, NULL, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK(bs == NULL);
    bs = (dmp_session_t *)(void *)&sentinel;
    CHECK_STATUS(dmp_session_accept(bob, f.data, f.len, &bs, out, sizeof out, NULL), DMP_ERR_NULL_POINTER);
    CHECK(bs == NULL);
    CHECK_OK(dmp_identity_one_time_prekey_count(bob, &now));
    CHECK(now == before);
    CHECK_OK(dmp_session_accept(bob, f.data, f.len, &bs, out, sizeof out, &len));
    CHECK(len == 4 && memcmp(out, "ping", 4) == 0);

    /* decrypt: refused calls change nothing, the envelope decrypts afterwards. */
    envelope_t r = seal_msg(bs, "pong", 4);
    CHECK_STATUS(dmp_session_decrypt(NULL, r.data, r.len, out, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_decrypt(as, NULL, r.len, out, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_decrypt(as, r.data, r.len, NULL, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_decrypt(as, r.data, r.len, out, sizeof out, NULL), DMP_ERR_NULL_POINTER);
    CHECK(session_state(as) == DMP_SESSION_INITIATING);
    open_msg(as, &r, "pong", 4);

    /* state, peer_id, id */
    int32_t st = 0;
    CHECK_STATUS(dmp_session_state(NULL, &st), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_state(as, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_peer_id(NULL, buf32), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_peer_id(as, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_id(NULL, buf32), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_id(as, NULL), DMP_ERR_NULL_POINTER);

    /* padding, limits, close */
    CHECK_STATUS(dmp_session_set_padding(NULL, DMP_PADDING_NONE), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_set_limits(NULL, 5, 10), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_close(NULL), DMP_ERR_NULL_POINTER);

    /* serialize, deserialize */
    uint8_t rec[4096];
    size_t rlen = 0;
    CHECK_STATUS(dmp_session_serialize(NULL, key, rec, sizeof rec, &rlen), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_serialize(as, NULL, rec, sizeof rec, &rlen), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_serialize(as, key, NULL, sizeof rec, &rlen), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_session_serialize(as, key, rec, sizeof rec, NULL), DMP_ERR_NULL_POINTER);
    CHECK_OK(dmp_session_serialize(as, key, rec, sizeof rec, &rlen));
    dmp_session_t *tmp = (dmp_session_t *)(void *)&sentinel;
    CHECK_STATUS(dmp_session_deserialize(NULL, rlen, key, &tmp), DMP_ERR_NULL_POINTER);
    CHECK(tmp == NULL);
    tmp = (dmp_session_t *)(void *)&sentinel;
    CHECK_STATUS(dmp_session_deserialize(rec, rlen, NULL, &tmp), DMP_ERR_NULL_POINTER);
    CHECK(tmp == NULL);
    CHECK_STATUS(dmp_session_deserialize(rec, rlen, key, NULL), DMP_ERR_NULL_POINTER);

    dmp_session_free(NULL);

    /* An identity handle passed as a session is refused, not used (see
     * test_identity.c, handle_kinds). */
    struct identity_as_session_args args = {alice, r.data, r.len};
    CHECK_GROUP("an identity handle passed to the dmp_session_* functions", identity_as_session_child, &args);
    /* The identity still works. */
    CHECK_OK(dmp_identity_public_key(alice, buf32));

    envelope_free(&f);
    envelope_free(&r);
    dmp_session_free(as);
    dmp_session_free(bs);
    dmp_identity_free(alice);
    dmp_identity_free(bob);
}

/* Outputs overlapping an input or another output are refused before anything is written or
 * changed. The in-place encrypt of issue 17 used to succeed and send header bytes as the
 * authenticated plaintext. */
static void overlapping_buffers(void) {
    dmp_identity_t *alice = new_identity(), *bob = new_identity();
    static uint64_t words[(4096 + 256) / 8]; /* aligned for the pointer outputs */
    uint8_t *buf = (uint8_t *)words;
    uint8_t bundle[DMP_BUNDLE_MAX_LEN], key[32] = {9}, out[512];
    size_t blen = get_bundle(bob, 1, bundle), len = 777;
    int sentinel = 0;
    dmp_session_t *as = (dmp_session_t *)(void *)&sentinel, *bs = NULL;

    /* initiate: *out inside the bundle would be cleared over it. */
    memcpy(buf, bundle, blen);
    CHECK_OVERLAP(dmp_session_initiate(alice, buf, blen, (dmp_session_t **)(void *)(buf + 8)), "out", "bundle");
    CHECK_OVERLAP(dmp_session_initiate_with(alice, buf, blen, DMP_PQ_ALLOW_CLASSICAL, (dmp_session_t **)(void *)buf),
                  "out", "bundle");
    CHECK(memcmp(buf, bundle, blen) == 0);
    CHECK_OK(dmp_session_initiate(alice, bundle, blen, &as));

    /* encrypt in place: refused, the session still DORMANT and its first message number 0. */
    memcpy(buf, "hello", 5);
    CHECK_OVERLAP(dmp_session_encrypt(as, buf, 5, buf, 4096, &len), "out", "pt");
    CHECK_OVERLAP(dmp_session_encrypt(as, buf + 4000, 5, buf, 4096, &len), "out", "pt");
    CHECK_OVERLAP(dmp_session_encrypt(as, buf, 5, buf + 8, 4000, (size_t *)(void *)(buf + 64)), "out", "out_len");
    CHECK(len == 777 && memcmp(buf, "hello", 5) == 0);
    CHECK(session_state(as) == DMP_SESSION_DORMANT);
    envelope_t first = seal_msg(as, "hello", 5);
    CHECK(message_number(first.data, DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN) == 0);

    /* accept: the plaintext over the envelope, the handle over either, pt_len inside pt_out. */
    uint32_t otks = 0, now = 0;
    CHECK_OK(dmp_identity_one_time_prekey_count(bob, &otks));
    memcpy(buf, first.data, first.len);
    bs = (dmp_session_t *)(void *)&sentinel;
    CHECK_OVERLAP(dmp_session_accept(bob, buf, first.len, &bs, buf + first.len - 1, 64, &len), "pt_out", "envelope");
    CHECK_OVERLAP(dmp_session_accept(bob, buf, first.len, (dmp_session_t **)(void *)buf, out, sizeof out, &len),
                  "session_out", "envelope");
    CHECK_OVERLAP(dmp_session_accept_with(bob, first.data, first.len, DMP_PQ_REQUIRE_HYBRID,
                                          (dmp_session_t **)(void *)(buf + 8), buf, 64, &len),
                  "session_out", "pt_out");
    CHECK_OVERLAP(dmp_session_accept(bob, first.data, first.len, &bs, buf, 64, (size_t *)(void *)(buf + 8)),
                  "pt_out", "pt_len");
    CHECK(bs == (dmp_session_t *)(void *)&sentinel); /* not even cleared */
    CHECK(memcmp(buf, first.data, 8) == 0 && len == 777);
    CHECK_OK(dmp_identity_one_time_prekey_count(bob, &now));
    CHECK(now == otks);
    CHECK_OK(dmp_session_accept(bob, first.data, first.len, &bs, out, sizeof out, &len));
    CHECK(len == 5 && memcmp(out, "hello", 5) == 0);

    /* decrypt in place: refused, the same envelope decrypts afterwards. */
    envelope_t reply = seal_msg(bs, "world", 5);
    memcpy(buf, reply.data, reply.len);
    len = 777;
    CHECK_OVERLAP(dmp_session_decrypt(as, buf, reply.len, buf, 4096, &len), "out", "envelope");
    CHECK_OVERLAP(dmp_session_decrypt(as, buf, reply.len, out, sizeof out, (size_t *)(void *)(buf + 16)), "out_len",
                  "envelope");
    CHECK(len == 777 && memcmp(buf, reply.data, reply.len) == 0);
    CHECK(session_state(as) == DMP_SESSION_INITIATING);
    open_msg(as, &reply, "world", 5);

    /* serialize over the storage key; deserialize with the handle inside the record. */
    memcpy(buf, key, sizeof key);
    CHECK_OVERLAP(dmp_session_serialize(as, buf, buf + 16, 4000, &len), "out", "storage_key32");
    CHECK_OK(dmp_session_serialize(as, key, buf, 4096, &len));
    uint8_t first_bytes[8];
    memcpy(first_bytes, buf + 8, 8);
    dmp_session_t *restored = (dmp_session_t *)(void *)&sentinel;
    CHECK_OVERLAP(dmp_session_deserialize(buf, len, key, (dmp_session_t **)(void *)(buf + 8)), "out", "record");
    uint8_t *key_copy = buf + 4096 + 64; /* after the record, 8-aligned */
    memcpy(key_copy, key, sizeof key);
    CHECK_OVERLAP(dmp_session_deserialize(buf, len, key_copy, (dmp_session_t **)(void *)(key_copy + 24)), "out",
                  "storage_key32");
    CHECK(restored == (dmp_session_t *)(void *)&sentinel && memcmp(buf + 8, first_bytes, 8) == 0);
    CHECK(memcmp(key_copy, key, sizeof key) == 0);
    CHECK_OK(dmp_session_deserialize(buf, len, key, &restored));

    envelope_free(&first);
    envelope_free(&reply);
    dmp_session_free(restored);
    dmp_session_free(as);
    dmp_session_free(bs);
    dmp_identity_free(alice);
    dmp_identity_free(bob);
}

int main(int argc, char **argv) {
    (void)argc;
    lifecycle(DMP_SUITE_HYBRID);
    lifecycle(DMP_SUITE_CLASSICAL);
    buffers_change_nothing();
    tampering_and_replays();
    first_message_tampering(DMP_SUITE_CLASSICAL);
    first_message_tampering(DMP_SUITE_HYBRID);
    pq_policy();
    varint_counters();
    padding_and_limits();
    large_messages();
    records();
    null_pointers_and_handles();
    overlapping_buffers();
    return check_finish(argv[0]);
}
