#define _POSIX_C_SOURCE 200809L /* fork, alarm, waitpid (check.h) */
/*
 * test_group.c: Sender Keys groups through the C ABI: members, distributions (carried over
 * pairwise sessions), encryption once for the group, out-of-order delivery, replays, tampering,
 * key rotation and its grace window, removal, padding, limits, records, NULL pointers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dmp.h"
#include "session_helpers.h"

/* Offset of the iteration (u32 big-endian) in a group message header: version, type, group id,
 * sender, key id, iteration (wire/group.rs). */
enum { G_ITERATION = 2 + 32 + 32 + 4 };

typedef struct {
    dmp_identity_t *id;
    uint8_t agent[32];
    dmp_group_t *group;
} member_t;

typedef struct {
    uint8_t *data;
    size_t len;
} gmsg_t;

static void gmsg_free(gmsg_t *m) {
    free(m->data);
    m->data = NULL;
    m->len = 0;
}

static gmsg_t group_seal(dmp_group_t *g, const void *pt, size_t n) {
    gmsg_t m = {NULL, 0};
    size_t need = 0;
    if (!CHECK_OK(dmp_group_encrypted_len(g, n, &need))) return m;
    m.data = check_xmalloc(need);
    if (!CHECK_OK(dmp_group_encrypt(g, (const uint8_t *)pt, n, m.data, need, &m.len))) {
        gmsg_free(&m);
        return m;
    }
    CHECK(m.len == need);
    return m;
}

static int group_open_at(int line, dmp_group_t *g, const gmsg_t *m, const uint8_t *sender, const void *pt, size_t n) {
    uint8_t *out = check_xmalloc(m->len);
    uint8_t who[32];
    memset(who, 0, sizeof who);
    size_t len = (size_t)-1;
    int ok = CHECK_OK(dmp_group_decrypt(g, m->data, m->len, who, out, m->len, &len));
    if (ok) {
        ok = len == n && (n == 0 || memcmp(out, pt, n) == 0) && memcmp(who, sender, 32) == 0;
        CHECK(ok);
    }
    free(out);
    if (!ok) fprintf(stderr, "    (in group_open called at line %d)\n", line);
    return ok;
}
#define group_open(...) group_open_at(__LINE__, __VA_ARGS__)

static uint8_t *distribution_of(dmp_group_t *g, size_t *len) {
    size_t need = 0;
    CHECK_STATUS(dmp_group_distribution(g, NULL, 0, &need), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(need == DMP_DISTRIBUTION_LEN);
    uint8_t *d = check_xmalloc(need);
    CHECK_STATUS(dmp_group_distribution(g, d, need - 1, len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(*len == need);
    CHECK_OK(dmp_group_distribution(g, d, need, len));
    CHECK(*len == DMP_DISTRIBUTION_LEN);
    return d;
}

/* Sends `from`'s distribution to `to` inside their pairwise session, as the header asks. */
static void send_distribution(member_t *from, member_t *to, dmp_session_t *from_s, dmp_session_t *to_s) {
    size_t dlen = 0;
    uint8_t *d = distribution_of(from->group, &dlen);
    envelope_t e = seal_msg(from_s, d, dlen);
    uint8_t got[DMP_DISTRIBUTION_LEN + 1];
    size_t glen = 0;
    uint8_t peer[32];
    CHECK_OK(dmp_session_decrypt(to_s, e.data, e.len, got, sizeof got, &glen));
    CHECK_OK(dmp_session_peer_id(to_s, peer));
    CHECK(memcmp(peer, from->agent, 32) == 0);
    CHECK_OK(dmp_group_process_distribution(to->group, peer, got, glen));
    envelope_free(&e);
    free(d);
}

/* Hands a distribution over directly (the pairwise transport is exercised above). */
static void give_distribution(member_t *from, member_t *to) {
    size_t dlen = 0;
    uint8_t *d = distribution_of(from->group, &dlen);
    CHECK_OK(dmp_group_process_distribution(to->group, from->agent, d, dlen));
    free(d);
}

static void set_up(member_t *m, const uint8_t *gid) {
    m->id = new_identity();
    CHECK_OK(dmp_identity_public_key(m->id, m->agent));
    m->group = NULL;
    CHECK_OK(dmp_group_new(m->id, gid, &m->group));
    CHECK(m->group != NULL);
}

static void membership(member_t *a, member_t *b, member_t *c) {
    uint32_t n = 99;
    CHECK_OK(dmp_group_member_count(a->group, &n));
    CHECK(n == 0);
    size_t len = 99;
    CHECK_OK(dmp_group_members(a->group, NULL, 0, &len)); /* nothing to write */
    CHECK(len == 0);
    uint32_t kid = 0;
    CHECK_OK(dmp_group_key_id(a->group, &kid));
    CHECK(kid == 1);

    CHECK_OK(dmp_group_add_member(a->group, b->agent));
    CHECK_OK(dmp_group_add_member(a->group, c->agent));
    CHECK_OK(dmp_group_add_member(b->group, a->agent));
    CHECK_OK(dmp_group_add_member(b->group, c->agent));
    CHECK_OK(dmp_group_add_member(c->group, a->agent));
    CHECK_OK(dmp_group_add_member(c->group, b->agent));
    CHECK_OK(dmp_group_member_count(a->group, &n));
    CHECK(n == 2);

    /* Members in id order, 32 bytes each. */
    uint8_t ids[3 * 32];
    CHECK_STATUS(dmp_group_members(a->group, NULL, 0, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == 64);
    CHECK_STATUS(dmp_group_members(a->group, ids, 63, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == 64);
    CHECK_OK(dmp_group_members(a->group, ids, sizeof ids, &len));
    CHECK(len == 64);
    const uint8_t *lo = memcmp(b->agent, c->agent, 32) < 0 ? b->agent : c->agent;
    const uint8_t *hi = lo == b->agent ? c->agent : b->agent;
    CHECK(memcmp(ids, lo, 32) == 0 && memcmp(ids + 32, hi, 32) == 0);

    /* Refused additions change nothing. */
    uint8_t not_point[32] = {2}, small[32] = {1};
    CHECK_STATUS(dmp_group_add_member(a->group, a->agent), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_group_add_member(a->group, b->agent), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_group_add_member(a->group, not_point), DMP_ERR_BAD_ENVELOPE);
    CHECK_STATUS(dmp_group_add_member(a->group, small), DMP_ERR_WEAK_KEY);
    CHECK_STATUS(dmp_group_remove_member(a->group, not_point), DMP_ERR_BAD_ENVELOPE);
    dmp_identity_t *stranger = new_identity();
    uint8_t sid[32];
    CHECK_OK(dmp_identity_public_key(stranger, sid));
    CHECK_STATUS(dmp_group_remove_member(a->group, sid), DMP_ERR_UNKNOWN_SENDER);
    dmp_identity_free(stranger);
    CHECK_OK(dmp_group_member_count(a->group, &n));
    CHECK(n == 2);
    CHECK_OK(dmp_group_key_id(a->group, &kid));
    CHECK(kid == 1);

    uint8_t gid[32];
    CHECK_OK(dmp_group_id(a->group, gid));
    uint8_t gid_b[32];
    CHECK_OK(dmp_group_id(b->group, gid_b));
    CHECK(memcmp(gid, gid_b, 32) == 0);
}

static void distributions(member_t *a, member_t *b, member_t *c) {
    /* a <-> b over a real pairwise session; the rest handed over directly. */
    dmp_session_t *as = NULL, *bs = NULL;
    establish(a->id, b->id, &as, &bs);
    send_distribution(a, b, as, bs);
    send_distribution(b, a, bs, as);
    give_distribution(a, c);
    give_distribution(c, a);
    give_distribution(b, c);
    give_distribution(c, b);
    dmp_session_free(as);
    dmp_session_free(bs);

    /* Refusals: nothing changes on error. */
    size_t dlen = 0;
    uint8_t *d = distribution_of(a->group, &dlen);
    CHECK_STATUS(dmp_group_process_distribution(b->group, a->agent, d, dlen), DMP_ERR_DUPLICATE);
    /* Not the sender's own key (c claims a's distribution). */
    CHECK_STATUS(dmp_group_process_distribution(b->group, c->agent, d, dlen), DMP_ERR_UNKNOWN_SENDER);
    /* Our own distribution given back to us. */
    CHECK_STATUS(dmp_group_process_distribution(a->group, a->agent, d, dlen), DMP_ERR_UNKNOWN_SENDER);
    /* Truncated, extended, wrong type, wrong version. */
    CHECK_STATUS(dmp_group_process_distribution(b->group, a->agent, d, dlen - 1), DMP_ERR_BAD_ENVELOPE);
    uint8_t *longer = check_xmalloc(dlen + 1);
    memcpy(longer, d, dlen);
    longer[dlen] = 0;
    CHECK_STATUS(dmp_group_process_distribution(b->group, a->agent, longer, dlen + 1), DMP_ERR_BAD_ENVELOPE);
    longer[1] = 4; /* a group message type */
    CHECK_STATUS(dmp_group_process_distribution(b->group, a->agent, longer, dlen), DMP_ERR_WRONG_MESSAGE_TYPE);
    longer[1] = d[1];
    longer[0] ^= 0x40;
    CHECK_STATUS(dmp_group_process_distribution(b->group, a->agent, longer, dlen), DMP_ERR_UNSUPPORTED_VERSION);
    free(longer);
    CHECK_STATUS(dmp_group_process_distribution(b->group, a->agent, NULL, 0), DMP_ERR_BAD_ENVELOPE);

    /* Another group's distribution. */
    uint8_t other_gid[32];
    CHECK_OK(dmp_random_bytes(other_gid, sizeof other_gid));
    dmp_group_t *other = NULL;
    CHECK_OK(dmp_group_new(a->id, other_gid, &other));
    size_t olen = 0;
    uint8_t *od = distribution_of(other, &olen);
    CHECK_STATUS(dmp_group_process_distribution(b->group, a->agent, od, olen), DMP_ERR_WRONG_SESSION);
    /* From someone who is not a member. */
    dmp_identity_t *stranger = new_identity();
    uint8_t sid[32];
    CHECK_OK(dmp_identity_public_key(stranger, sid));
    dmp_group_t *sg = NULL;
    uint8_t gid[32];
    CHECK_OK(dmp_group_id(a->group, gid));
    CHECK_OK(dmp_group_new(stranger, gid, &sg));
    size_t slen = 0;
    uint8_t *sd = distribution_of(sg, &slen);
    CHECK_STATUS(dmp_group_process_distribution(b->group, sid, sd, slen), DMP_ERR_UNKNOWN_SENDER);
    /* Other kinds of input. */
    uint8_t bundle[DMP_BUNDLE_MAX_LEN];
    size_t blen = get_bundle(a->id, 0, bundle);
    CHECK_STATUS(dmp_group_process_distribution(b->group, a->agent, bundle, blen), DMP_ERR_WRONG_MESSAGE_TYPE);
    /* A distribution is not a bundle or a pairwise message either. */
    uint8_t agent[32];
    CHECK_STATUS(dmp_bundle_verify(d, dlen, agent), DMP_ERR_WRONG_MESSAGE_TYPE);

    free(d);
    free(od);
    free(sd);
    dmp_group_free(other);
    dmp_group_free(sg);
    dmp_identity_free(stranger);
}

static void messages(member_t *a, member_t *b, member_t *c) {
    size_t need = 0;
    CHECK_OK(dmp_group_encrypted_len(a->group, 5, &need));
    CHECK(need == DMP_GROUP_MESSAGE_HEADER_LEN + 5 + 1 + DMP_TAG_LEN + DMP_SIGNATURE_LEN);
    gmsg_t m = group_seal(a->group, "hello", 5);
    group_open(b->group, &m, a->agent, "hello", 5);
    group_open(c->group, &m, a->agent, "hello", 5);
    /* Replay. */
    uint8_t out[512], who[32];
    size_t len = 0;
    CHECK_STATUS(dmp_group_decrypt(b->group, m.data, m.len, who, out, sizeof out, &len), DMP_ERR_DUPLICATE);
    /* The sender cannot read its own message as a member's. */
    CHECK_STATUS(dmp_group_decrypt(a->group, m.data, m.len, who, out, sizeof out, &len), DMP_ERR_UNKNOWN_SENDER);
    gmsg_free(&m);

    /* Encrypt: too small changes nothing (the next message is readable in order). */
    CHECK_OK(dmp_group_encrypted_len(b->group, 3, &need));
    CHECK_STATUS(dmp_group_encrypt(b->group, (const uint8_t *)"abc", 3, NULL, 0, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == need);
    CHECK_STATUS(dmp_group_encrypt(b->group, (const uint8_t *)"abc", 3, out, need - 1, &len), DMP_ERR_BUFFER_TOO_SMALL);
    m = group_seal(b->group, "abc", 3);
    CHECK(helpers_be32(m.data + G_ITERATION) == 0); /* b's first message */
    /* Decrypt: too small changes nothing and writes no sender. */
    memset(who, 0xEE, sizeof who);
    CHECK_STATUS(dmp_group_decrypt(a->group, m.data, m.len, who, NULL, 0, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == 3);
    CHECK_STATUS(dmp_group_decrypt(a->group, m.data, m.len, who, out, 2, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == 3);
    CHECK(check_all_equal(who, 32, 0xEE));
    group_open(a->group, &m, b->agent, "abc", 3);
    group_open(c->group, &m, b->agent, "abc", 3);

    /* Tampering: every byte flipped is refused (mostly by the signature), then the genuine one
     * still decrypts; every truncation is refused. */
    gmsg_t t = group_seal(c->group, "xyz", 3);
    uint8_t *copy = check_xmalloc(t.len);
    unsigned refused = 0;
    for (size_t i = 0; i < t.len; i++) {
        memcpy(copy, t.data, t.len);
        copy[i] ^= (uint8_t)(1u << (i % 8));
        int32_t rc = dmp_group_decrypt(a->group, copy, t.len, who, out, sizeof out, &len);
        if (rc < 0 && rc != DMP_ERR_INTERNAL) refused++;
        else fprintf(stderr, "    group message byte %zu flipped: %d (%s)\n", i, (int)rc, check_code_name(rc));
    }
    CHECK(refused == t.len);
    memcpy(copy, t.data, t.len);
    copy[t.len - 1] ^= 0x01;
    CHECK_STATUS(dmp_group_decrypt(a->group, copy, t.len, who, out, sizeof out, &len), DMP_ERR_BAD_SIGNATURE);
    refused = 0;
    for (size_t n = 0; n < t.len; n++) {
        int32_t rc = dmp_group_decrypt(a->group, t.data, n, who, out, sizeof out, &len);
        if (rc < 0 && rc != DMP_ERR_INTERNAL) refused++;
    }
    CHECK(refused == t.len);
    group_open(a->group, &t, c->agent, "xyz", 3);
    free(copy);
    gmsg_free(&t);
    gmsg_free(&m);

    /* Out of order. */
    gmsg_t burst[6];
    char text[6][16];
    for (int i = 0; i < 6; i++) {
        snprintf(text[i], sizeof text[i], "burst %d", i);
        burst[i] = group_seal(a->group, text[i], strlen(text[i]));
    }
    const int order[6] = {4, 1, 5, 0, 3, 2};
    for (int k = 0; k < 6; k++) group_open(b->group, &burst[order[k]], a->agent, text[order[k]], strlen(text[order[k]]));
    for (int k = 5; k >= 0; k--) group_open(c->group, &burst[k], a->agent, text[k], strlen(text[k]));
    for (int i = 0; i < 6; i++) {
        CHECK_STATUS(dmp_group_decrypt(b->group, burst[i].data, burst[i].len, who, out, sizeof out, &len),
                     DMP_ERR_DUPLICATE);
        gmsg_free(&burst[i]);
    }

    /* Group messages are not pairwise messages and the other way round. */
    m = group_seal(a->group, "typed", 5);
    dmp_session_t *as = NULL, *bs = NULL;
    establish(a->id, b->id, &as, &bs);
    CHECK_STATUS(dmp_session_decrypt(bs, m.data, m.len, out, sizeof out, &len), DMP_ERR_WRONG_MESSAGE_TYPE);
    dmp_session_t *tmp = NULL;
    CHECK_STATUS(dmp_session_accept(b->id, m.data, m.len, &tmp, out, sizeof out, &len), DMP_ERR_WRONG_MESSAGE_TYPE);
    CHECK(tmp == NULL);
    envelope_t e = seal_msg(as, "pairwise", 8);
    CHECK_STATUS(dmp_group_decrypt(b->group, e.data, e.len, who, out, sizeof out, &len), DMP_ERR_WRONG_MESSAGE_TYPE);
    size_t dlen = 0;
    uint8_t *d = distribution_of(a->group, &dlen);
    CHECK_STATUS(dmp_group_decrypt(b->group, d, dlen, who, out, sizeof out, &len), DMP_ERR_WRONG_MESSAGE_TYPE);
    CHECK_STATUS(dmp_session_decrypt(bs, d, dlen, out, sizeof out, &len), DMP_ERR_WRONG_MESSAGE_TYPE);
    CHECK_STATUS(dmp_group_process_distribution(b->group, a->agent, m.data, m.len), DMP_ERR_WRONG_MESSAGE_TYPE);
    open_msg(bs, &e, "pairwise", 8);
    group_open(b->group, &m, a->agent, "typed", 5);
    group_open(c->group, &m, a->agent, "typed", 5);
    free(d);
    envelope_free(&e);
    gmsg_free(&m);
    dmp_session_free(as);
    dmp_session_free(bs);

    /* Another group with the same members: its messages belong to another group. */
    uint8_t gid2[32];
    CHECK_OK(dmp_random_bytes(gid2, sizeof gid2));
    dmp_group_t *g2 = NULL;
    CHECK_OK(dmp_group_new(a->id, gid2, &g2));
    CHECK_OK(dmp_group_add_member(g2, b->agent));
    m = group_seal(g2, "elsewhere", 9);
    CHECK_STATUS(dmp_group_decrypt(b->group, m.data, m.len, who, out, sizeof out, &len), DMP_ERR_WRONG_SESSION);
    gmsg_free(&m);
    dmp_group_free(g2);

    /* Empty plaintext, NULL with length 0. */
    CHECK_OK(dmp_group_encrypted_len(a->group, 0, &need));
    uint8_t *e0 = check_xmalloc(need);
    CHECK_OK(dmp_group_encrypt(a->group, NULL, 0, e0, need, &len));
    CHECK(len == need);
    len = 99;
    CHECK_OK(dmp_group_decrypt(b->group, e0, need, who, NULL, 0, &len));
    CHECK(len == 0 && memcmp(who, a->agent, 32) == 0);
    CHECK_OK(dmp_group_decrypt(c->group, e0, need, who, out, sizeof out, &len));
    free(e0);

    /* Too large. */
    CHECK_STATUS(dmp_group_encrypted_len(a->group, DMP_MAX_PLAINTEXT_LEN + 1, &need), DMP_ERR_TOO_LARGE);
    uint8_t *big = check_xmalloc(DMP_MAX_PLAINTEXT_LEN + 1);
    memset(big, 1, DMP_MAX_PLAINTEXT_LEN + 1);
    CHECK_STATUS(dmp_group_encrypt(a->group, big, DMP_MAX_PLAINTEXT_LEN + 1, out, sizeof out, &len), DMP_ERR_TOO_LARGE);
    free(big);
}

static void rotation_and_removal(member_t *a, member_t *b, member_t *c) {
    uint8_t out[512], who[32];
    size_t len = 0;
    /* A message under key 1 held back while a rotates. */
    gmsg_t old = group_seal(a->group, "old key", 7);
    size_t old_dlen = 0;
    uint8_t *old_d = distribution_of(a->group, &old_dlen);
    CHECK_OK(dmp_group_rotate(a->group));
    uint32_t kid = 0;
    CHECK_OK(dmp_group_key_id(a->group, &kid));
    CHECK(kid == 2);
    /* The distribution starts at the key's current iteration: take it before sending. */
    size_t d2len = 0;
    uint8_t *d2 = distribution_of(a->group, &d2len);
    gmsg_t m = group_seal(a->group, "new key", 7);
    /* No distribution for key 2 yet. */
    CHECK_STATUS(dmp_group_decrypt(b->group, m.data, m.len, who, out, sizeof out, &len), DMP_ERR_UNKNOWN_KEY_ID);
    CHECK_OK(dmp_group_process_distribution(b->group, a->agent, d2, d2len));
    CHECK_OK(dmp_group_process_distribution(c->group, a->agent, d2, d2len));
    free(d2);
    group_open(b->group, &m, a->agent, "new key", 7);
    /* A distribution taken after a message does not open that message: members read a sender's
     * messages from the distribution's iteration on, never earlier ones. */
    gmsg_t early = group_seal(a->group, "before the late distribution", 28);
    uint8_t *late = distribution_of(a->group, &d2len);
    uint8_t gid[32];
    CHECK_OK(dmp_group_id(a->group, gid));
    dmp_group_t *late_joiner = NULL;
    CHECK_OK(dmp_group_new(b->id, gid, &late_joiner));
    CHECK_OK(dmp_group_add_member(late_joiner, a->agent));
    CHECK_OK(dmp_group_process_distribution(late_joiner, a->agent, late, d2len));
    CHECK_STATUS(dmp_group_decrypt(late_joiner, early.data, early.len, who, out, sizeof out, &len), DMP_ERR_DUPLICATE);
    group_open(b->group, &early, a->agent, "before the late distribution", 28);
    group_open(c->group, &early, a->agent, "before the late distribution", 28);
    gmsg_free(&early);
    free(late);
    dmp_group_free(late_joiner);
    /* An older distribution after a newer one. */
    CHECK_STATUS(dmp_group_process_distribution(b->group, a->agent, old_d, old_dlen), DMP_ERR_SUPERSEDED_KEY);
    /* The replaced key is still accepted during its grace window... */
    group_open(c->group, &old, a->agent, "old key", 7);
    /* ... and refused after DMP_GROUP_KEY_GRACE_MESSAGES messages under the newer key. */
    CHECK(DMP_GROUP_KEY_GRACE_MESSAGES == dmp_group_key_grace_messages());
    for (uint32_t i = 0; i < DMP_GROUP_KEY_GRACE_MESSAGES; i++) {
        gmsg_t g = group_seal(a->group, "grace", 5);
        group_open(b->group, &g, a->agent, "grace", 5);
        gmsg_free(&g);
    }
    CHECK_STATUS(dmp_group_decrypt(b->group, old.data, old.len, who, out, sizeof out, &len), DMP_ERR_SUPERSEDED_KEY);
    group_open(c->group, &m, a->agent, "new key", 7);
    gmsg_free(&old);
    gmsg_free(&m);
    free(old_d);

    /* a removes c: a's key rotates; c's messages and distributions are refused by a. */
    gmsg_t from_c = group_seal(c->group, "from c", 6);
    size_t cdlen = 0;
    uint8_t *cd = distribution_of(c->group, &cdlen);
    CHECK_OK(dmp_group_remove_member(a->group, c->agent));
    CHECK_OK(dmp_group_key_id(a->group, &kid));
    CHECK(kid == 3);
    uint32_t n = 0;
    CHECK_OK(dmp_group_member_count(a->group, &n));
    CHECK(n == 1);
    CHECK_STATUS(dmp_group_decrypt(a->group, from_c.data, from_c.len, who, out, sizeof out, &len), DMP_ERR_MEMBER_REMOVED);
    CHECK_STATUS(dmp_group_process_distribution(a->group, c->agent, cd, cdlen), DMP_ERR_MEMBER_REMOVED);
    CHECK_STATUS(dmp_group_remove_member(a->group, c->agent), DMP_ERR_UNKNOWN_SENDER);
    /* c never gets key 3: it cannot read a's messages any more; b can once given the key. */
    size_t d3len = 0;
    uint8_t *d3 = distribution_of(a->group, &d3len);
    m = group_seal(a->group, "without c", 9);
    CHECK_STATUS(dmp_group_decrypt(c->group, m.data, m.len, who, out, sizeof out, &len), DMP_ERR_UNKNOWN_KEY_ID);
    CHECK_OK(dmp_group_process_distribution(b->group, a->agent, d3, d3len));
    free(d3);
    group_open(b->group, &m, a->agent, "without c", 9);
    /* b still reads c (b did not remove c). */
    group_open(b->group, &from_c, c->agent, "from c", 6);
    gmsg_free(&m);
    gmsg_free(&from_c);
    free(cd);
}

static void padding_limits_records(member_t *a, member_t *b) {
    const int32_t bad[] = {2, -1, 256, INT32_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_STATUS(dmp_group_set_padding(a->group, bad[i]), DMP_ERR_INVALID_ARGUMENT);
    CHECK_OK(dmp_group_set_padding(a->group, DMP_PADDING_BUCKETS));
    size_t need = 0;
    const size_t fixed = DMP_GROUP_MESSAGE_HEADER_LEN + DMP_TAG_LEN + DMP_SIGNATURE_LEN;
    CHECK_OK(dmp_group_encrypted_len(a->group, 10, &need));
    CHECK(need == fixed + 64);
    CHECK_OK(dmp_group_encrypted_len(a->group, 64, &need));
    CHECK(need == fixed + 128);
    gmsg_t m = group_seal(a->group, "padded", 6);
    CHECK(m.len == fixed + 64);
    group_open(b->group, &m, a->agent, "padded", 6);
    gmsg_free(&m);
    CHECK_OK(dmp_group_set_padding(a->group, DMP_PADDING_NONE));
    CHECK_OK(dmp_group_encrypted_len(a->group, 10, &need));
    CHECK(need == fixed + 11);

    CHECK_STATUS(dmp_group_set_limits(b->group, 0, 10), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_group_set_limits(b->group, 10, 0), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_group_set_limits(b->group, DMP_MAX_FORWARD_JUMP_CEILING + 1, 10), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_group_set_limits(b->group, 10, DMP_MAX_SKIPPED_KEYS_CEILING + 1), DMP_ERR_INVALID_ARGUMENT);
    CHECK_OK(dmp_group_set_limits(b->group, 2, 10));
    gmsg_t ms[4];
    for (int i = 0; i < 4; i++) ms[i] = group_seal(a->group, "lim", 3);
    uint8_t out[512], who[32];
    size_t len = 0;
    CHECK_STATUS(dmp_group_decrypt(b->group, ms[3].data, ms[3].len, who, out, sizeof out, &len), DMP_ERR_TOO_FAR_AHEAD);
    group_open(b->group, &ms[2], a->agent, "lim", 3);
    group_open(b->group, &ms[3], a->agent, "lim", 3);
    group_open(b->group, &ms[0], a->agent, "lim", 3);

    /* Records: b restored keeps members, keys, the skipped key of ms[1] and its limits. */
    uint8_t key[32], wrong[32];
    CHECK_OK(dmp_random_bytes(key, sizeof key));
    CHECK_OK(dmp_random_bytes(wrong, sizeof wrong));
    size_t rneed = 0, rlen = 0;
    CHECK_STATUS(dmp_group_serialize(b->group, key, NULL, 0, &rneed), DMP_ERR_BUFFER_TOO_SMALL);
    uint8_t *rec = check_xmalloc(rneed);
    CHECK_STATUS(dmp_group_serialize(b->group, key, rec, rneed - 1, &rlen), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(rlen == rneed);
    CHECK_OK(dmp_group_serialize(b->group, key, rec, rneed, &rlen));
    int sentinel = 0;
    dmp_group_t *back = (dmp_group_t *)(void *)&sentinel;
    CHECK_STATUS(dmp_group_deserialize(rec, rlen, wrong, &back), DMP_ERR_WRONG_STORAGE_KEY);
    CHECK(back == NULL);
    rec[rlen / 2] ^= 1;
    CHECK_STATUS(dmp_group_deserialize(rec, rlen, key, &back), DMP_ERR_WRONG_STORAGE_KEY);
    rec[rlen / 2] ^= 1;
    CHECK_STATUS(dmp_group_deserialize(rec, 1, key, &back), DMP_ERR_BAD_STATE);
    uint8_t srec[4096];
    size_t slen = 0;
    CHECK_OK(dmp_identity_serialize(a->id, key, srec, sizeof srec, &slen));
    CHECK_STATUS(dmp_group_deserialize(srec, slen, key, &back), DMP_ERR_BAD_STATE);
    dmp_identity_t *not_identity = NULL;
    CHECK_STATUS(dmp_identity_deserialize(rec, rlen, key, &not_identity), DMP_ERR_BAD_STATE);
    dmp_session_t *not_session = NULL;
    CHECK_STATUS(dmp_session_deserialize(rec, rlen, key, &not_session), DMP_ERR_BAD_STATE);
    CHECK_OK(dmp_group_deserialize(rec, rlen, key, &back));
    free(rec);
    dmp_group_free(b->group);
    b->group = back;
    uint32_t n = 0;
    CHECK_OK(dmp_group_member_count(b->group, &n));
    CHECK(n == 2);
    group_open(b->group, &ms[1], a->agent, "lim", 3);
    gmsg_t more[4];
    for (int i = 0; i < 4; i++) more[i] = group_seal(a->group, "more", 4);
    CHECK_STATUS(dmp_group_decrypt(b->group, more[3].data, more[3].len, who, out, sizeof out, &len), DMP_ERR_TOO_FAR_AHEAD);
    for (int i = 0; i < 4; i++) group_open(b->group, &more[i], a->agent, "more", 4);
    for (int i = 0; i < 4; i++) {
        gmsg_free(&ms[i]);
        gmsg_free(&more[i]);
    }
    /* b's own sending state survived too. */
    gmsg_t fb = group_seal(b->group, "from restored b", 15);
    group_open(a->group, &fb, b->agent, "from restored b", 15);
    gmsg_free(&fb);
}

static int other_kinds_child(void *arg) {
    member_t *a = arg;
    unsigned long failed_before = check_failed_;
    uint8_t who[32], gid[32] = {0}, buf[512], out[512];
    size_t len = 0;
    uint32_t n = 0;
    int32_t st = 0;
    dmp_group_t *g = NULL;
    /* A group passed as an identity or a session. */
    dmp_identity_t *as_identity = (dmp_identity_t *)(void *)a->group;
    CHECK_STATUS(dmp_identity_public_key(as_identity, who), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_group_new(as_identity, gid, &g), DMP_ERR_INVALID_ARGUMENT);
    CHECK(g == NULL);
    dmp_session_t *as_session = (dmp_session_t *)(void *)a->group;
    CHECK_STATUS(dmp_session_state(as_session, &st), DMP_ERR_INVALID_ARGUMENT);
    /* An identity and a session passed as a group. */
    dmp_group_t *as_group = (dmp_group_t *)(void *)a->id;
    CHECK_STATUS(dmp_group_key_id(as_group, &n), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_group_member_count(as_group, &n), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_group_rotate(as_group), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_group_encrypt(as_group, buf, 1, out, sizeof out, &len), DMP_ERR_INVALID_ARGUMENT);
    dmp_identity_t *peer = new_identity();
    uint8_t bundle[DMP_BUNDLE_MAX_LEN];
    size_t blen = get_bundle(peer, 0, bundle);
    dmp_session_t *s = NULL;
    CHECK_OK(dmp_session_initiate(a->id, bundle, blen, &s));
    dmp_group_t *session_as_group = (dmp_group_t *)(void *)s;
    CHECK_STATUS(dmp_group_id(session_as_group, gid), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_group_distribution(session_as_group, buf, sizeof buf, &len), DMP_ERR_INVALID_ARGUMENT);
    dmp_session_free(s);
    dmp_identity_free(peer);
    return check_failed_ != failed_before;
}

static void null_pointers_and_handles(member_t *a, member_t *b) {
    int sentinel = 0;
    dmp_group_t *g = (dmp_group_t *)(void *)&sentinel;
    uint8_t gid[32] = {5}, buf[512], who[32], key[32] = {1};
    size_t len = 0;
    uint32_t n = 0;
    CHECK_STATUS(dmp_group_new(NULL, gid, &g), DMP_ERR_NULL_POINTER);
    CHECK(g == NULL);
    g = (dmp_group_t *)(void *)&sentinel;
    CHECK_STATUS(dmp_group_new(a->id, NULL, &g), DMP_ERR_NULL_POINTER);
    CHECK(g == NULL);
    CHECK_STATUS(dmp_group_new(a->id, gid, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_id(NULL, buf), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_id(a->group, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_add_member(NULL, b->agent), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_add_member(a->group, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_remove_member(NULL, b->agent), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_remove_member(a->group, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_member_count(NULL, &n), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_member_count(a->group, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_members(NULL, buf, sizeof buf, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_members(a->group, NULL, sizeof buf, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_members(a->group, buf, sizeof buf, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_key_id(NULL, &n), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_key_id(a->group, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_rotate(NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_distribution(NULL, buf, sizeof buf, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_distribution(a->group, NULL, sizeof buf, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_distribution(a->group, buf, sizeof buf, NULL), DMP_ERR_NULL_POINTER);
    size_t dlen = 0;
    uint8_t *d = distribution_of(a->group, &dlen);
    CHECK_STATUS(dmp_group_process_distribution(NULL, a->agent, d, dlen), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_process_distribution(b->group, NULL, d, dlen), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_process_distribution(b->group, a->agent, NULL, dlen), DMP_ERR_NULL_POINTER);
    free(d);
    gmsg_t before = group_seal(a->group, "before nulls", 12);
    group_open(b->group, &before, a->agent, "before nulls", 12);
    CHECK_STATUS(dmp_group_encrypted_len(NULL, 1, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_encrypted_len(a->group, 1, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_encrypt(NULL, buf, 1, buf + 8, 400, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_encrypt(a->group, NULL, 1, buf, sizeof buf, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_encrypt(a->group, who, 1, NULL, sizeof buf, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_encrypt(a->group, who, 1, buf, sizeof buf, NULL), DMP_ERR_NULL_POINTER);
    /* None of the refused encryptions used up an iteration: b reads the next one in order. */
    gmsg_t m = group_seal(a->group, "after nulls", 11);
    uint8_t out[512];
    CHECK_STATUS(dmp_group_decrypt(NULL, m.data, m.len, who, out, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_decrypt(b->group, NULL, m.len, who, out, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_decrypt(b->group, m.data, m.len, NULL, out, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_decrypt(b->group, m.data, m.len, who, NULL, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_decrypt(b->group, m.data, m.len, who, out, sizeof out, NULL), DMP_ERR_NULL_POINTER);
    CHECK(helpers_be32(m.data + G_ITERATION) == helpers_be32(before.data + G_ITERATION) + 1);
    group_open(b->group, &m, a->agent, "after nulls", 11);
    gmsg_free(&m);
    gmsg_free(&before);
    CHECK_STATUS(dmp_group_set_padding(NULL, DMP_PADDING_NONE), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_set_limits(NULL, 5, 10), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_serialize(NULL, key, buf, sizeof buf, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_serialize(a->group, NULL, buf, sizeof buf, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_serialize(a->group, key, NULL, sizeof buf, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_group_serialize(a->group, key, buf, sizeof buf, NULL), DMP_ERR_NULL_POINTER);
    size_t rneed = 0;
    CHECK_STATUS(dmp_group_serialize(a->group, key, NULL, 0, &rneed), DMP_ERR_BUFFER_TOO_SMALL);
    uint8_t *rec = check_xmalloc(rneed);
    CHECK_OK(dmp_group_serialize(a->group, key, rec, rneed, &len));
    g = (dmp_group_t *)(void *)&sentinel;
    CHECK_STATUS(dmp_group_deserialize(NULL, len, key, &g), DMP_ERR_NULL_POINTER);
    CHECK(g == NULL);
    g = (dmp_group_t *)(void *)&sentinel;
    CHECK_STATUS(dmp_group_deserialize(rec, len, NULL, &g), DMP_ERR_NULL_POINTER);
    CHECK(g == NULL);
    CHECK_STATUS(dmp_group_deserialize(rec, len, key, NULL), DMP_ERR_NULL_POINTER);
    free(rec);
    dmp_group_free(NULL);

    /* Handles of other kinds are refused (see test_identity.c, handle_kinds). */
    CHECK_GROUP("handles of other kinds passed to the dmp_group_*, dmp_identity_* and "
                             "dmp_session_* functions", other_kinds_child, a);
}

/* Outputs overlapping an input or another output are refused before anything is written or
 * changed. a's messages reach b (who holds a's distribution). */
static void overlapping_buffers(member_t *a, member_t *b) {
    static uint64_t words[16384 / 8]; /* aligned for the pointer and size_t outputs */
    uint8_t *buf = (uint8_t *)words;
    int sentinel = 0;
    dmp_group_t *g = (dmp_group_t *)(void *)&sentinel;
    size_t len = 55;
    uint8_t gid[32];
    CHECK_OK(dmp_group_id(a->group, gid));

    memcpy(buf, gid, 32);
    CHECK_OVERLAP(dmp_group_new(a->id, buf, (dmp_group_t **)(void *)(buf + 16)), "out", "group_id32");
    CHECK(g == (dmp_group_t *)(void *)&sentinel && memcmp(buf, gid, 32) == 0);
    CHECK_OVERLAP(dmp_group_members(a->group, buf, 64, (size_t *)(void *)(buf + 56)), "out", "out_len");
    CHECK_OVERLAP(dmp_group_distribution(a->group, buf, 4096, &words[2]), "out", "out_len");
    CHECK(memcmp(buf, gid, 32) == 0);

    /* encrypt in place: refused, and the next message is still readable in order by b. */
    memcpy(buf, "group hello", 11);
    CHECK_OVERLAP(dmp_group_encrypt(a->group, buf, 11, buf, 4096, &len), "out", "pt");
    CHECK_OVERLAP(dmp_group_encrypt(a->group, buf, 11, buf + 11, 4096, (size_t *)(void *)(buf + 1024)), "out",
                  "out_len");
    CHECK(len == 55 && memcmp(buf, "group hello", 11) == 0);
    gmsg_t m = group_seal(a->group, "group hello", 11);

    /* decrypt: the plaintext or the sender id over the message; refused, then it opens. */
    memcpy(buf, m.data, m.len);
    uint8_t who[32];
    CHECK_OVERLAP(dmp_group_decrypt(b->group, buf, m.len, who, buf + 8, 4096, &len), "out", "in");
    CHECK_OVERLAP(dmp_group_decrypt(b->group, buf, m.len, buf + m.len - 1, buf + 4096, 4096, &len), "sender32_out",
                  "in");
    CHECK_OVERLAP(dmp_group_decrypt(b->group, m.data, m.len, buf + 8, buf, 4096, &len), "sender32_out", "out");
    CHECK(len == 55 && memcmp(buf, m.data, m.len) == 0);
    group_open(b->group, &m, a->agent, "group hello", 11);

    /* serialize over the key; deserialize into a handle inside the record. */
    uint8_t key[32] = {8};
    memcpy(buf + 8192, key, 32);
    CHECK_OVERLAP(dmp_group_serialize(a->group, buf + 8192, buf + 8000, 4096, &len), "out", "storage_key32");
    size_t rlen = 0;
    CHECK_OK(dmp_group_serialize(a->group, key, buf, 8192, &rlen));
    uint8_t head[8];
    memcpy(head, buf + 16, 8);
    CHECK_OVERLAP(dmp_group_deserialize(buf, rlen, key, (dmp_group_t **)(void *)(buf + 16)), "out", "record");
    CHECK(g == (dmp_group_t *)(void *)&sentinel && memcmp(buf + 16, head, 8) == 0);
    CHECK_OK(dmp_group_deserialize(buf, rlen, key, &g));
    dmp_group_free(g);
    gmsg_free(&m);
}

int main(int argc, char **argv) {
    (void)argc;
    CHECK(DMP_GROUP_ID_LEN == 32);
    uint8_t gid[DMP_GROUP_ID_LEN];
    CHECK_OK(dmp_random_bytes(gid, sizeof gid));
    member_t a, b, c;
    set_up(&a, gid);
    set_up(&b, gid);
    set_up(&c, gid);
    membership(&a, &b, &c);
    distributions(&a, &b, &c);
    messages(&a, &b, &c);
    rotation_and_removal(&a, &b, &c);
    padding_limits_records(&a, &b);
    null_pointers_and_handles(&a, &b);
    overlapping_buffers(&a, &b);
    member_t *all[3] = {&a, &b, &c};
    for (int i = 0; i < 3; i++) {
        dmp_group_free(all[i]->group);
        dmp_identity_free(all[i]->id);
    }
    return check_finish(argv[0]);
}
