#define _POSIX_C_SOURCE 200809L /* mkdtemp, fork, alarm, waitpid (check.h) */
/*
 * test_agent.c: the agent layer through the C ABI: agents in memory and in a store, bundles,
 * sending and receiving (events), connecting, retained events and acknowledgements, groups with
 * their outbox (entries by number), strangers and accepted peers, closing sessions and forgetting
 * peers, agent signatures, unanswered sessions, maintenance, store locking and keys, NULL
 * pointers.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "dmp.h"
#include "session_helpers.h"

typedef struct {
    uint8_t *data;
    size_t len;
} blob_t;

static void blob_free(blob_t *b) {
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

static dmp_agent_t *open_memory(int32_t flags) {
    uint8_t key[32];
    CHECK_OK(dmp_random_bytes(key, sizeof key));
    dmp_agent_t *a = NULL;
    CHECK_OK(dmp_agent_open(NULL, 0, key, flags, &a));
    CHECK(a != NULL);
    return a;
}

static void agent_id(const dmp_agent_t *a, uint8_t *id) { CHECK_OK(dmp_agent_id(a, id)); }

static blob_t agent_bundle(dmp_agent_t *a, int otk) {
    blob_t b = {NULL, 0};
    size_t need = 0;
    CHECK_STATUS(dmp_agent_bundle(a, otk, NULL, 0, &need), DMP_ERR_BUFFER_TOO_SMALL);
    b.data = check_xmalloc(need);
    CHECK_OK(dmp_agent_bundle(a, otk, b.data, need, &b.len));
    CHECK(b.len == need);
    return b;
}

/* from learns to's bundle. */
static void introduce(dmp_agent_t *from, dmp_agent_t *to) {
    blob_t b = agent_bundle(to, 1);
    uint8_t peer[32], want[32];
    CHECK_OK(dmp_agent_add_bundle(from, b.data, b.len, peer));
    agent_id(to, want);
    CHECK(memcmp(peer, want, 32) == 0);
    blob_free(&b);
}

static blob_t agent_send(dmp_agent_t *a, const uint8_t *peer, const void *pt, size_t n) {
    blob_t e = {NULL, 0};
    size_t need = 0;
    if (!CHECK_STATUS(dmp_agent_send(a, peer, (const uint8_t *)pt, n, NULL, 0, &need), DMP_ERR_BUFFER_TOO_SMALL))
        return e;
    e.data = check_xmalloc(need);
    if (!CHECK_OK(dmp_agent_send(a, peer, (const uint8_t *)pt, n, e.data, need, &e.len))) blob_free(&e);
    else CHECK(e.len == need);
    return e;
}

/* Receives e on a and checks the event: kind, sender, plaintext. Returns the event (to free). */
static dmp_event_t *receive_expect(dmp_agent_t *a, const blob_t *e, int32_t kind, const uint8_t *from,
                                   const void *pt, size_t n, int line) {
    dmp_event_t *ev = NULL;
    unsigned long failed_before = check_failed_;
    if (!CHECK_OK(dmp_agent_receive(a, e->data, e->len, &ev))) {
        fprintf(stderr, "    (receive at line %d)\n", line);
        return NULL;
    }
    int32_t k = -1;
    uint8_t peer[32];
    CHECK_OK(dmp_event_kind(ev, &k));
    CHECK(k == kind);
    CHECK_OK(dmp_event_peer(ev, peer));
    CHECK(memcmp(peer, from, 32) == 0);
    size_t len = 0;
    CHECK_STATUS(dmp_event_plaintext(ev, NULL, 0, &len), n == 0 ? DMP_OK : DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == n);
    uint8_t *buf = check_xmalloc(n + 1);
    CHECK_OK(dmp_event_plaintext(ev, buf, n + 1, &len));
    CHECK(len == n && (n == 0 || memcmp(buf, pt, n) == 0));
    free(buf);
    if (check_failed_ != failed_before) fprintf(stderr, "    (event received at line %d)\n", line);
    return ev;
}
#define RECEIVE(a, e, kind, from, pt, n) receive_expect((a), (e), (kind), (from), (pt), (n), __LINE__)

static int32_t state_with(const dmp_agent_t *a, const uint8_t *peer) {
    int32_t st = -1;
    CHECK_OK(dmp_agent_session_state(a, peer, &st));
    return st;
}

static void pairwise(void) {
    dmp_agent_t *a = open_memory(0), *b = open_memory(0), *c = open_memory(0);
    uint8_t ida[32], idb[32], idc[32];
    agent_id(a, ida);
    agent_id(b, idb);
    agent_id(c, idc);
    CHECK(memcmp(ida, idb, 32) != 0);

    /* The fingerprint is the one of the agent id. */
    uint8_t fp[DMP_FINGERPRINT_LEN], fp2[DMP_FINGERPRINT_LEN];
    size_t len = 0;
    CHECK_STATUS(dmp_agent_fingerprint(a, NULL, 0, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == DMP_FINGERPRINT_LEN);
    CHECK_OK(dmp_agent_fingerprint(a, fp, sizeof fp, &len));
    CHECK_OK(dmp_fingerprint(ida, fp2, sizeof fp2, &len));
    CHECK(memcmp(fp, fp2, sizeof fp) == 0);

    /* Bundles: a hybrid identity's; a too-small buffer hands out nothing. */
    blob_t bb = agent_bundle(b, 0);
    CHECK(bb.len == DMP_HYBRID_BUNDLE_LEN);
    uint8_t who[32];
    CHECK_OK(dmp_bundle_verify(bb.data, bb.len, who));
    CHECK(memcmp(who, idb, 32) == 0);
    blob_free(&bb);
    CHECK_STATUS(dmp_agent_bundle(b, 1, who, sizeof who, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == DMP_BUNDLE_MAX_LEN);
    CHECK_STATUS(dmp_agent_bundle(b, 2, NULL, 0, &len), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_agent_bundle(b, -1, NULL, 0, &len), DMP_ERR_INVALID_ARGUMENT);
    /* Our own bundle, a tampered one. */
    blob_t own = agent_bundle(a, 0);
    CHECK_STATUS(dmp_agent_add_bundle(a, own.data, own.len, who), DMP_ERR_INVALID_ARGUMENT);
    own.data[100] ^= 1;
    CHECK_STATUS(dmp_agent_add_bundle(b, own.data, own.len, who), DMP_ERR_BAD_SIGNATURE);
    blob_free(&own);

    /* Nobody known yet. */
    uint8_t out[4096];
    CHECK_STATUS(dmp_agent_send(a, idb, (const uint8_t *)"x", 1, out, sizeof out, &len), DMP_ERR_NO_SESSION);
    int32_t st = 0;
    CHECK_STATUS(dmp_agent_session_state(a, idb, &st), DMP_ERR_NO_SESSION);
    CHECK_STATUS(dmp_agent_connect(a, idb, out, sizeof out, &len), DMP_ERR_NO_SESSION);
    CHECK_OK(dmp_agent_peers(a, NULL, 0, &len));
    CHECK(len == 0);

    /* a writes to b from b's bundle. Knowing a bundle is not having a session. */
    introduce(a, b);
    CHECK_STATUS(dmp_agent_session_state(a, idb, &st), DMP_ERR_NO_SESSION);
    CHECK_OK(dmp_agent_peers(a, NULL, 0, &len));
    CHECK(len == 0);
    blob_t m1 = agent_send(a, idb, "hello b", 7);
    CHECK(m1.len == DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN + DMP_TAG_LEN + 1 + 7 + 1);
    CHECK(state_with(a, idb) == DMP_SESSION_INITIATING);
    dmp_event_t *ev = RECEIVE(b, &m1, DMP_EVENT_MESSAGE, ida, "hello b", 7);
    uint64_t seq = 99;
    int32_t fresh = -1;
    CHECK_OK(dmp_event_seq(ev, &seq, &fresh));
    CHECK(fresh == 1);
    uint8_t gid[32];
    CHECK_STATUS(dmp_event_group_id(ev, gid), DMP_ERR_WRONG_STATE);
    dmp_event_free(ev);
    CHECK(state_with(b, ida) == DMP_SESSION_ACTIVE);
    /* Replays and other inputs change nothing. */
    dmp_event_t *none = (dmp_event_t *)(void *)&len;
    CHECK_STATUS(dmp_agent_receive(b, m1.data, m1.len, &none), DMP_ERR_DUPLICATE);
    CHECK(none == NULL);
    blob_t bundle_c = agent_bundle(c, 0);
    CHECK_STATUS(dmp_agent_receive(b, bundle_c.data, bundle_c.len, &none), DMP_ERR_WRONG_MESSAGE_TYPE);
    blob_free(&bundle_c);
    CHECK_FAILS(dmp_agent_receive(b, m1.data, 40, &none));
    CHECK_FAILS(dmp_agent_receive(b, NULL, 0, &none));

    /* b replies over the same session; both ACTIVE; the sequence numbers increase. */
    blob_t r1 = agent_send(b, ida, "hello a", 7);
    CHECK(r1.len == DMP_MESSAGE_HEADER_LEN + DMP_TAG_LEN + 1 + 7 + 1);
    ev = RECEIVE(a, &r1, DMP_EVENT_MESSAGE, idb, "hello a", 7);
    uint64_t seq_a = 0;
    CHECK_OK(dmp_event_seq(ev, &seq_a, &fresh));
    CHECK(fresh == 0);
    dmp_event_free(ev);
    CHECK(state_with(a, idb) == DMP_SESSION_ACTIVE);
    blob_t m2 = agent_send(a, idb, "", 0);
    ev = RECEIVE(b, &m2, DMP_EVENT_MESSAGE, ida, "", 0);
    uint64_t seq2 = 0;
    CHECK_OK(dmp_event_seq(ev, &seq2, &fresh));
    CHECK(seq2 > seq);
    dmp_event_free(ev);
    /* A pairwise envelope of a session the agent does not have. */
    CHECK_STATUS(dmp_agent_receive(c, m2.data, m2.len, &none), DMP_ERR_WRONG_SESSION);
    /* Peers, in id order. */
    uint8_t peers[64];
    CHECK_OK(dmp_agent_peers(a, peers, sizeof peers, &len));
    CHECK(len == 32 && memcmp(peers, idb, 32) == 0);
    CHECK_STATUS(dmp_agent_peers(a, peers, 31, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == 32);

    /* Sending: too small changes nothing (the next envelope still decrypts in order). */
    CHECK_STATUS(dmp_agent_send(a, idb, (const uint8_t *)"abc", 3, out, 10, &len), DMP_ERR_BUFFER_TOO_SMALL);
    blob_t m3 = agent_send(a, idb, "abc", 3);
    ev = RECEIVE(b, &m3, DMP_EVENT_MESSAGE, ida, "abc", 3);
    dmp_event_free(ev);
    /* The largest plaintext is DMP_MAX_PLAINTEXT_LEN - 1. */
    uint8_t *big = check_xmalloc(DMP_MAX_PLAINTEXT_LEN);
    memset(big, 7, DMP_MAX_PLAINTEXT_LEN);
    CHECK_STATUS(dmp_agent_send(a, idb, big, DMP_MAX_PLAINTEXT_LEN, out, sizeof out, &len), DMP_ERR_TOO_LARGE);
    free(big);

    /* connect: a session without a message. */
    introduce(a, c);
    size_t need = 0;
    CHECK_STATUS(dmp_agent_connect(a, idc, NULL, 0, &need), DMP_ERR_BUFFER_TOO_SMALL);
    blob_t hello = {check_xmalloc(need), 0};
    CHECK_OK(dmp_agent_connect(a, idc, hello.data, need, &hello.len));
    CHECK(hello.len == need);
    ev = RECEIVE(c, &hello, DMP_EVENT_SESSION_ESTABLISHED, ida, "", 0);
    CHECK_OK(dmp_event_seq(ev, &seq, &fresh));
    CHECK(fresh == 1);
    dmp_event_free(ev);
    CHECK(state_with(c, ida) == DMP_SESSION_ACTIVE);
    /* Without retention nothing is pending. */
    size_t pending = 99;
    CHECK_OK(dmp_agent_pending_count(c, &pending));
    CHECK(pending == 0);
    CHECK_STATUS(dmp_agent_pending_event(c, 0, &none), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_agent_ack(c, seq), DMP_ERR_INVALID_ARGUMENT);

    /* Maintenance: far in the future the signed prekey is rotated. */
    blob_t before = agent_bundle(b, 0);
    const uint64_t now = (uint64_t)time(NULL);
    CHECK_OK(dmp_agent_maintain(b, now));
    blob_t same = agent_bundle(b, 0);
    CHECK(helpers_be32(same.data + 34) == helpers_be32(before.data + 34)); /* not due yet */
    blob_free(&same);
    CHECK_OK(dmp_agent_maintain(b, now + 30ull * 24 * 3600));
    blob_t after = agent_bundle(b, 0);
    CHECK(helpers_be32(after.data + 34) > helpers_be32(before.data + 34));
    blob_free(&before);
    blob_free(&after);
    /* The session with a goes on. */
    blob_t m4 = agent_send(a, idb, "still here", 10);
    ev = RECEIVE(b, &m4, DMP_EVENT_MESSAGE, ida, "still here", 10);
    dmp_event_free(ev);

    blob_free(&m1);
    blob_free(&m2);
    blob_free(&m3);
    blob_free(&m4);
    blob_free(&r1);
    blob_free(&hello);
    dmp_agent_free(a);
    dmp_agent_free(b);
    dmp_agent_free(c);
}

/* Both agents start a session at the same time: both settle on the same one, whatever the
 * order of delivery, and the conversation goes on. */
static void simultaneous_start(int deliver_a_first) {
    dmp_agent_t *a = open_memory(0), *b = open_memory(0);
    uint8_t ida[32], idb[32];
    agent_id(a, ida);
    agent_id(b, idb);
    introduce(a, b);
    introduce(b, a);
    blob_t a1 = agent_send(a, idb, "a1", 2);
    blob_t b1 = agent_send(b, ida, "b1", 2);
    dmp_event_t *ev;
    if (deliver_a_first) {
        ev = RECEIVE(b, &a1, DMP_EVENT_MESSAGE, ida, "a1", 2);
        dmp_event_free(ev);
        ev = RECEIVE(a, &b1, DMP_EVENT_MESSAGE, idb, "b1", 2);
        dmp_event_free(ev);
    } else {
        ev = RECEIVE(a, &b1, DMP_EVENT_MESSAGE, idb, "b1", 2);
        dmp_event_free(ev);
        ev = RECEIVE(b, &a1, DMP_EVENT_MESSAGE, ida, "a1", 2);
        dmp_event_free(ev);
    }
    for (int round = 0; round < 3; round++) {
        blob_t x = agent_send(a, idb, "from a", 6);
        blob_t y = agent_send(b, ida, "from b", 6);
        ev = RECEIVE(b, &x, DMP_EVENT_MESSAGE, ida, "from a", 6);
        dmp_event_free(ev);
        ev = RECEIVE(a, &y, DMP_EVENT_MESSAGE, idb, "from b", 6);
        dmp_event_free(ev);
        blob_free(&x);
        blob_free(&y);
    }
    CHECK(state_with(a, idb) == DMP_SESSION_ACTIVE);
    CHECK(state_with(b, ida) == DMP_SESSION_ACTIVE);
    /* Both use one session: b's next envelope is a MESSAGE of the session a sends on. */
    blob_t x = agent_send(a, idb, "x", 1);
    blob_t y = agent_send(b, ida, "y", 1);
    CHECK(x.len > 2 + DMP_SESSION_ID_LEN && y.len > 2 + DMP_SESSION_ID_LEN &&
          memcmp(x.data + 2, y.data + 2, DMP_SESSION_ID_LEN) == 0);
    ev = RECEIVE(b, &x, DMP_EVENT_MESSAGE, ida, "x", 1);
    dmp_event_free(ev);
    ev = RECEIVE(a, &y, DMP_EVENT_MESSAGE, idb, "y", 1);
    dmp_event_free(ev);
    blob_free(&x);
    blob_free(&y);
    blob_free(&a1);
    blob_free(&b1);
    dmp_agent_free(a);
    dmp_agent_free(b);
}

static void retained_events(void) {
    dmp_agent_t *a = open_memory(0), *d = open_memory(DMP_AGENT_RETAIN_EVENTS);
    uint8_t ida[32], idd[32];
    agent_id(a, ida);
    agent_id(d, idd);
    introduce(a, d);
    blob_t e1 = agent_send(a, idd, "one", 3);
    blob_t e2 = agent_send(a, idd, "two", 3);
    size_t pending = 99;
    CHECK_OK(dmp_agent_pending_count(d, &pending));
    CHECK(pending == 0);
    dmp_event_t *ev1 = RECEIVE(d, &e1, DMP_EVENT_MESSAGE, ida, "one", 3);
    dmp_event_t *ev2 = RECEIVE(d, &e2, DMP_EVENT_MESSAGE, ida, "two", 3);
    uint64_t s1 = 0, s2 = 0;
    int32_t fresh = 0;
    CHECK_OK(dmp_event_seq(ev1, &s1, &fresh));
    CHECK_OK(dmp_event_seq(ev2, &s2, &fresh));
    CHECK(s2 > s1);
    dmp_event_free(ev1);
    dmp_event_free(ev2);
    CHECK_OK(dmp_agent_pending_count(d, &pending));
    CHECK(pending == 2);
    /* The oldest first; a copy each time. */
    dmp_event_t *p0 = NULL, *p1 = NULL;
    CHECK_OK(dmp_agent_pending_event(d, 0, &p0));
    CHECK_OK(dmp_agent_pending_event(d, 1, &p1));
    uint64_t q0 = 0, q1 = 0;
    CHECK_OK(dmp_event_seq(p0, &q0, &fresh));
    CHECK_OK(dmp_event_seq(p1, &q1, &fresh));
    CHECK(q0 == s1 && q1 == s2);
    uint8_t buf[8];
    size_t len = 0;
    CHECK_OK(dmp_event_plaintext(p1, buf, sizeof buf, &len));
    CHECK(len == 3 && memcmp(buf, "two", 3) == 0);
    dmp_event_free(p0);
    dmp_event_free(p1);
    dmp_event_t *none = NULL;
    CHECK_STATUS(dmp_agent_pending_event(d, 2, &none), DMP_ERR_INVALID_ARGUMENT);
    CHECK(none == NULL);
    CHECK_STATUS(dmp_agent_pending_event(d, SIZE_MAX, &none), DMP_ERR_INVALID_ARGUMENT);
    /* Acknowledging forgets; twice is an error. */
    CHECK_OK(dmp_agent_ack(d, s1));
    CHECK_STATUS(dmp_agent_ack(d, s1), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_agent_ack(d, UINT64_MAX), DMP_ERR_INVALID_ARGUMENT);
    CHECK_OK(dmp_agent_pending_count(d, &pending));
    CHECK(pending == 1);
    CHECK_OK(dmp_agent_pending_event(d, 0, &p0));
    CHECK_OK(dmp_event_seq(p0, &q0, &fresh));
    CHECK(q0 == s2);
    dmp_event_free(p0);
    CHECK_OK(dmp_agent_ack(d, s2));
    CHECK_OK(dmp_agent_pending_count(d, &pending));
    CHECK(pending == 0);
    blob_free(&e1);
    blob_free(&e2);
    dmp_agent_free(a);
    dmp_agent_free(d);
}

/* Delivers every outbox envelope of `from` to the agents in `to` (by agent id). */
static void flush_outbox(dmp_agent_t *from, dmp_agent_t **to, size_t n_to, int32_t expect_kind,
                         int32_t expect_new_group) {
    uint8_t from_id[32];
    agent_id(from, from_id);
    size_t count = 0;
    CHECK_OK(dmp_agent_outbox_count(from, &count));
    for (size_t k = 0; k < count; k++) {
        uint8_t peer[32];
        size_t need = 0;
        uint64_t seq = UINT64_MAX;
        CHECK_STATUS(dmp_agent_outbox_next(from, peer, NULL, 0, &need, &seq), DMP_ERR_BUFFER_TOO_SMALL);
        CHECK(seq == UINT64_MAX); /* the size query writes no number */
        blob_t e = {check_xmalloc(need), 0};
        CHECK_OK(dmp_agent_outbox_next(from, peer, e.data, need, &e.len, &seq));
        /* Not removed until done. */
        size_t again = 0;
        CHECK_OK(dmp_agent_outbox_count(from, &again));
        CHECK(again == count - k);
        int delivered = 0;
        for (size_t i = 0; i < n_to; i++) {
            uint8_t id[32];
            agent_id(to[i], id);
            if (memcmp(id, peer, 32) != 0) continue;
            dmp_event_t *ev = RECEIVE(to[i], &e, expect_kind, from_id, "", 0);
            int32_t new_group = -1;
            CHECK_OK(dmp_event_new_group(ev, &new_group));
            CHECK(new_group == expect_new_group);
            dmp_event_free(ev);
            delivered = 1;
        }
        CHECK(delivered);
        CHECK_OK(dmp_agent_outbox_done(from, seq));
        blob_free(&e);
    }
    CHECK_OK(dmp_agent_outbox_count(from, &count));
    CHECK(count == 0);
}

static void groups(void) {
    dmp_agent_t *a = open_memory(0), *b = open_memory(0), *c = open_memory(0);
    dmp_agent_t *e = open_memory(DMP_AGENT_REFUSE_GROUP_INVITES);
    uint8_t ida[32], idb[32], idc[32], ide[32];
    agent_id(a, ida);
    agent_id(b, idb);
    agent_id(c, idc);
    agent_id(e, ide);
    introduce(a, b);
    introduce(a, c);
    introduce(a, e);

    uint8_t gid[32];
    CHECK_OK(dmp_agent_group_create(a, gid));
    size_t len = 99;
    CHECK_OK(dmp_agent_group_members(a, gid, NULL, 0, &len));
    CHECK(len == 0);
    uint8_t nogroup[32] = {1};
    CHECK_STATUS(dmp_agent_group_members(a, nogroup, NULL, 0, &len), DMP_ERR_WRONG_SESSION);
    CHECK_STATUS(dmp_agent_group_add(a, nogroup, idb), DMP_ERR_WRONG_SESSION);
    /* Adding queues our sender key for the new member. */
    size_t count = 99;
    CHECK_OK(dmp_agent_outbox_count(a, &count));
    CHECK(count == 0);
    uint8_t peer[32], out[8192];
    uint64_t seq = 0;
    CHECK_STATUS(dmp_agent_outbox_next(a, peer, out, sizeof out, &len, &seq), DMP_ERR_WRONG_STATE);
    CHECK_STATUS(dmp_agent_outbox_done(a, 0), DMP_ERR_INVALID_ARGUMENT); /* no number given yet */
    CHECK_OK(dmp_agent_group_add(a, gid, idb));
    CHECK_OK(dmp_agent_group_add(a, gid, idc));
    CHECK_STATUS(dmp_agent_group_add(a, gid, idb), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_agent_group_add(a, gid, ida), DMP_ERR_INVALID_ARGUMENT);
    CHECK_OK(dmp_agent_outbox_count(a, &count));
    CHECK(count == 2);
    uint8_t members[96];
    CHECK_OK(dmp_agent_group_members(a, gid, members, sizeof members, &len));
    CHECK(len == 64);
    CHECK_STATUS(dmp_agent_group_members(a, gid, members, 63, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == 64);

    /* b and c take a's sender key (and, invited, reciprocate with theirs via their outboxes). */
    dmp_agent_t *bc[2] = {b, c};
    flush_outbox(a, bc, 2, DMP_EVENT_DISTRIBUTION_CONSUMED, 1); /* invitations: new groups */
    dmp_agent_t *aa[1] = {a};
    flush_outbox(b, aa, 1, DMP_EVENT_DISTRIBUTION_CONSUMED, 0); /* members' keys */
    flush_outbox(c, aa, 1, DMP_EVENT_DISTRIBUTION_CONSUMED, 0);

    /* Group messages. */
    size_t need = 0;
    CHECK_STATUS(dmp_agent_group_send(a, gid, (const uint8_t *)"to all", 6, NULL, 0, &need), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(need == DMP_GROUP_MESSAGE_HEADER_LEN + 7 + DMP_TAG_LEN + DMP_SIGNATURE_LEN);
    blob_t gm = {check_xmalloc(need), 0};
    CHECK_OK(dmp_agent_group_send(a, gid, (const uint8_t *)"to all", 6, gm.data, need, &gm.len));
    dmp_event_t *ev = RECEIVE(b, &gm, DMP_EVENT_GROUP_MESSAGE, ida, "to all", 6);
    uint8_t egid[32];
    CHECK_OK(dmp_event_group_id(ev, egid));
    CHECK(memcmp(egid, gid, 32) == 0);
    dmp_event_free(ev);
    ev = RECEIVE(c, &gm, DMP_EVENT_GROUP_MESSAGE, ida, "to all", 6);
    dmp_event_free(ev);
    dmp_event_t *none = NULL;
    CHECK_STATUS(dmp_agent_receive(b, gm.data, gm.len, &none), DMP_ERR_DUPLICATE);
    /* An agent outside the group. */
    CHECK_STATUS(dmp_agent_receive(e, gm.data, gm.len, &none), DMP_ERR_WRONG_SESSION);
    blob_free(&gm);
    /* b writes to the group: a (and c, who got b's key? no: only a, who invited b) read it. */
    CHECK_OK(dmp_agent_group_send(b, gid, (const uint8_t *)"from b", 6, out, sizeof out, &len));
    blob_t gb = {out, len};
    ev = RECEIVE(a, &gb, DMP_EVENT_GROUP_MESSAGE, idb, "from b", 6);
    dmp_event_free(ev);
    CHECK_STATUS(dmp_agent_group_send(a, nogroup, (const uint8_t *)"x", 1, out, sizeof out, &len), DMP_ERR_WRONG_SESSION);

    /* An agent that refuses invitations. */
    uint8_t gid2[32];
    CHECK_OK(dmp_agent_group_create(a, gid2));
    CHECK_OK(dmp_agent_group_add(a, gid2, ide));
    CHECK_OK(dmp_agent_outbox_next(a, peer, out, sizeof out, &len, &seq));
    CHECK(memcmp(peer, ide, 32) == 0);
    CHECK_STATUS(dmp_agent_receive(e, out, len, &none), DMP_ERR_UNKNOWN_SENDER);
    CHECK(none == NULL);
    CHECK_OK(dmp_agent_outbox_done(a, seq));

    /* Removing c: a's key rotates and goes to b only. */
    CHECK_OK(dmp_agent_group_remove(a, gid, idc));
    CHECK_STATUS(dmp_agent_group_remove(a, gid, idc), DMP_ERR_UNKNOWN_SENDER);
    CHECK_STATUS(dmp_agent_group_remove(a, nogroup, idb), DMP_ERR_WRONG_SESSION);
    CHECK_OK(dmp_agent_group_members(a, gid, members, sizeof members, &len));
    CHECK(len == 32 && memcmp(members, idb, 32) == 0);
    CHECK_OK(dmp_agent_outbox_count(a, &count));
    CHECK(count == 1);
    dmp_agent_t *bonly[1] = {b};
    flush_outbox(a, bonly, 1, DMP_EVENT_DISTRIBUTION_CONSUMED, 0);
    CHECK_OK(dmp_agent_group_send(a, gid, (const uint8_t *)"without c", 9, out, sizeof out, &len));
    blob_t gw = {out, len};
    ev = RECEIVE(b, &gw, DMP_EVENT_GROUP_MESSAGE, ida, "without c", 9);
    int32_t new_group = -1;
    CHECK_OK(dmp_event_new_group(ev, &new_group));
    CHECK(new_group == 0);
    CHECK_STATUS(dmp_event_new_group(NULL, &new_group), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_event_new_group(ev, NULL), DMP_ERR_NULL_POINTER);
    dmp_event_free(ev);
    CHECK_STATUS(dmp_agent_receive(c, gw.data, gw.len, &none), DMP_ERR_UNKNOWN_KEY_ID);

    /* b leaves: the group and its keys are gone there; a's messages are for no group b holds. */
    CHECK_OK(dmp_agent_group_leave(b, gid));
    CHECK_STATUS(dmp_agent_group_leave(b, gid), DMP_ERR_WRONG_SESSION);
    CHECK_STATUS(dmp_agent_group_members(b, gid, members, sizeof members, &len), DMP_ERR_WRONG_SESSION);
    CHECK_STATUS(dmp_agent_receive(b, gw.data, gw.len, &none), DMP_ERR_WRONG_SESSION);
    CHECK_STATUS(dmp_agent_group_leave(NULL, gid), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_group_leave(b, NULL), DMP_ERR_NULL_POINTER);

    dmp_agent_free(a);
    dmp_agent_free(b);
    dmp_agent_free(c);
    dmp_agent_free(e);
}

/* Two threads drain one outbox: both read its first entry, one sent the second and marks it done
 * first. Only the entry named is removed, so the first, not sent yet, stays. */
static void outbox_numbers(void) {
    dmp_agent_t *a = open_memory(0), *b = open_memory(0), *c = open_memory(0);
    uint8_t ida[32], idb[32], idc[32], gid[32], peer[32], out[8192];
    agent_id(a, ida);
    agent_id(b, idb);
    agent_id(c, idc);
    introduce(a, b);
    introduce(a, c);
    CHECK_OK(dmp_agent_group_create(a, gid));
    CHECK_OK(dmp_agent_group_add(a, gid, idb));
    CHECK_OK(dmp_agent_group_add(a, gid, idc));
    size_t len = 0, count = 0;
    uint64_t first = 0, again = 0;
    CHECK_OK(dmp_agent_outbox_next(a, peer, out, sizeof out, &len, &first));
    CHECK(memcmp(peer, idb, 32) == 0);
    blob_t first_env = {check_xmalloc(len), len};
    memcpy(first_env.data, out, len);
    /* One agent numbers its entries consecutively: the second is first + 1. */
    CHECK_OK(dmp_agent_outbox_done(a, first + 1));
    CHECK_OK(dmp_agent_outbox_count(a, &count));
    CHECK(count == 1);
    CHECK_OK(dmp_agent_outbox_next(a, peer, out, sizeof out, &len, &again));
    CHECK(again == first && memcmp(peer, idb, 32) == 0);
    CHECK(len == first_env.len && memcmp(out, first_env.data, len) == 0);
    /* Done twice (both threads sent it) is fine; a number never given is refused. */
    CHECK_OK(dmp_agent_outbox_done(a, first + 1));
    CHECK_STATUS(dmp_agent_outbox_done(a, first + 2), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_agent_outbox_done(a, UINT64_MAX), DMP_ERR_INVALID_ARGUMENT);
    CHECK_OK(dmp_agent_outbox_count(a, &count));
    CHECK(count == 1);
    dmp_event_t *ev = RECEIVE(b, &first_env, DMP_EVENT_DISTRIBUTION_CONSUMED, ida, "", 0);
    dmp_event_free(ev);
    CHECK_OK(dmp_agent_outbox_done(a, first));
    CHECK_OK(dmp_agent_outbox_count(a, &count));
    CHECK(count == 0);
    CHECK_STATUS(dmp_agent_outbox_next(a, peer, out, sizeof out, &len, &again), DMP_ERR_WRONG_STATE);
    blob_free(&first_env);
    dmp_agent_free(a);
    dmp_agent_free(b);
    dmp_agent_free(c);
}

/* dmp_agent_sign: plain Ed25519 under the agent id; messages beginning with "DMP" are refused. */
static void agent_signatures(void) {
    dmp_agent_t *a = open_memory(0), *b = open_memory(0);
    uint8_t ida[32], idb[32], sig[64];
    agent_id(a, ida);
    agent_id(b, idb);
    const uint8_t msg[] = "I, agent A, agree";
    CHECK_OK(dmp_agent_sign(a, msg, sizeof msg - 1, sig));
    CHECK_OK(dmp_ed25519_verify(ida, msg, sizeof msg - 1, sig));
    CHECK_STATUS(dmp_ed25519_verify(idb, msg, sizeof msg - 1, sig), DMP_ERR_BAD_SIGNATURE);
    CHECK_STATUS(dmp_ed25519_verify(ida, msg, sizeof msg - 2, sig), DMP_ERR_BAD_SIGNATURE);
    CHECK_OK(dmp_agent_sign(a, NULL, 0, sig)); /* the empty message */
    CHECK_OK(dmp_ed25519_verify(ida, NULL, 0, sig));
    CHECK_OK(dmp_agent_sign(a, (const uint8_t *)"DM", 2, sig)); /* not the reserved prefix */
    CHECK_OK(dmp_ed25519_verify(ida, (const uint8_t *)"DM", 2, sig));
    /* The protocol's own signatures (a bundle's) begin with "DMP": refused, nothing written. */
    const char *reserved[] = {"DMP", "DMP1 bundle", "DMPx"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        memset(sig, 0xA5, sizeof sig);
        CHECK_STATUS(dmp_agent_sign(a, (const uint8_t *)reserved[i], strlen(reserved[i]), sig),
                     DMP_ERR_INVALID_ARGUMENT);
        CHECK(check_all_equal(sig, sizeof sig, 0xA5));
    }
    CHECK_STATUS(dmp_agent_sign(NULL, msg, sizeof msg - 1, sig), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_sign(a, NULL, 1, sig), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_sign(a, msg, sizeof msg - 1, NULL), DMP_ERR_NULL_POINTER);
    dmp_agent_free(a);
    dmp_agent_free(b);
}

static int32_t accepted(const dmp_agent_t *a, const uint8_t *peer) {
    int32_t v = -1;
    CHECK_OK(dmp_agent_is_accepted(a, peer, &v));
    return v;
}

/* A peer known only from its first message is a stranger until accepted (accept_peer, or a
 * send); close_session keeps the peer and its bundle, forget_peer forgets both. */
static void strangers_close_forget(void) {
    dmp_agent_t *a = open_memory(0), *b = open_memory(0), *c = open_memory(0);
    uint8_t ida[32], idb[32], idc[32];
    agent_id(a, ida);
    agent_id(b, idb);
    agent_id(c, idc);

    /* a adds b's bundle (without a one-time prekey, so that it can start a session again). */
    blob_t bb = agent_bundle(b, 0);
    uint8_t peer[32];
    CHECK_OK(dmp_agent_add_bundle(a, bb.data, bb.len, peer));
    blob_free(&bb);
    CHECK(accepted(a, idb) == 1); /* adding a bundle accepts */
    blob_t m = agent_send(a, idb, "hi", 2);
    dmp_event_t *ev = RECEIVE(b, &m, DMP_EVENT_MESSAGE, ida, "hi", 2);
    dmp_event_free(ev);
    blob_free(&m);
    CHECK(accepted(b, ida) == 0); /* b knows a only from its first message */
    CHECK_OK(dmp_agent_accept_peer(b, ida));
    CHECK(accepted(b, ida) == 1);
    CHECK_OK(dmp_agent_accept_peer(b, ida)); /* again: nothing to do */
    int32_t v = 7;
    CHECK_STATUS(dmp_agent_is_accepted(a, idc, &v), DMP_ERR_NO_SESSION);
    CHECK(v == 7);
    CHECK_STATUS(dmp_agent_accept_peer(a, idc), DMP_ERR_NO_SESSION);

    /* A second stranger is accepted by our reply. */
    introduce(c, b);
    m = agent_send(c, idb, "me too", 6);
    ev = RECEIVE(b, &m, DMP_EVENT_MESSAGE, idc, "me too", 6);
    dmp_event_free(ev);
    blob_free(&m);
    CHECK(accepted(b, idc) == 0);
    m = agent_send(b, idc, "answered", 8);
    blob_free(&m);
    CHECK(accepted(b, idc) == 1);

    /* b answers a; then a closes its sessions with b and starts a new one from the bundle. */
    m = agent_send(b, ida, "hello", 5);
    ev = RECEIVE(a, &m, DMP_EVENT_MESSAGE, idb, "hello", 5);
    dmp_event_free(ev);
    blob_free(&m);
    CHECK(state_with(a, idb) == DMP_SESSION_ACTIVE);
    CHECK_OK(dmp_agent_close_session(a, idb));
    int32_t st = -1;
    CHECK_STATUS(dmp_agent_session_state(a, idb, &st), DMP_ERR_NO_SESSION);
    CHECK_STATUS(dmp_agent_close_session(a, idb), DMP_ERR_NO_SESSION); /* nothing left to close */
    CHECK(accepted(a, idb) == 1);                                        /* still known */
    m = agent_send(a, idb, "new", 3);
    ev = RECEIVE(b, &m, DMP_EVENT_MESSAGE, ida, "new", 3);
    uint64_t seq = 0;
    int32_t fresh = 0;
    CHECK_OK(dmp_event_seq(ev, &seq, &fresh));
    CHECK(fresh == 1); /* b sees a new session */
    dmp_event_free(ev);
    blob_free(&m);
    CHECK(state_with(a, idb) == DMP_SESSION_INITIATING);
    CHECK_STATUS(dmp_agent_close_session(a, idc), DMP_ERR_NO_SESSION); /* never known */

    /* forget_peer: sessions and bundle gone; sending is NO_SESSION until a bundle is added. */
    CHECK_OK(dmp_agent_forget_peer(a, idb));
    size_t len = 99;
    CHECK_OK(dmp_agent_peers(a, NULL, 0, &len));
    CHECK(len == 0);
    uint8_t out[4096];
    CHECK_STATUS(dmp_agent_send(a, idb, (const uint8_t *)"x", 1, out, sizeof out, &len), DMP_ERR_NO_SESSION);
    CHECK_STATUS(dmp_agent_forget_peer(a, idb), DMP_ERR_NO_SESSION);
    CHECK_STATUS(dmp_agent_is_accepted(a, idb, &v), DMP_ERR_NO_SESSION);
    CHECK_STATUS(dmp_agent_close_session(a, idb), DMP_ERR_NO_SESSION);
    introduce(a, b);
    m = agent_send(a, idb, "back", 4);
    ev = RECEIVE(b, &m, DMP_EVENT_MESSAGE, ida, "back", 4);
    dmp_event_free(ev);
    blob_free(&m);

    /* Ids that are not points on the curve, and NULL. */
    uint8_t not_point[32] = {2};
    CHECK_STATUS(dmp_agent_accept_peer(a, not_point), DMP_ERR_BAD_ENVELOPE);
    CHECK_STATUS(dmp_agent_accept_peer(NULL, idb), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_accept_peer(a, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_is_accepted(NULL, idb, &v), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_is_accepted(a, NULL, &v), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_is_accepted(a, idb, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_close_session(NULL, idb), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_close_session(a, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_forget_peer(NULL, idb), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_forget_peer(a, NULL), DMP_ERR_NULL_POINTER);
    CHECK(state_with(a, idb) == DMP_SESSION_INITIATING); /* the refused calls changed nothing */
    dmp_agent_free(a);
    dmp_agent_free(b);
    dmp_agent_free(c);
}

/* dmp_agent_unanswered_peers: the peers we wrote to first, without reply for 14 days. */
static void unanswered_peers(void) {
    dmp_agent_t *a = open_memory(0), *b = open_memory(0), *c = open_memory(0);
    uint8_t ida[32], idb[32], idc[32];
    agent_id(a, ida);
    agent_id(b, idb);
    agent_id(c, idc);
    introduce(a, b);
    introduce(a, c);
    blob_t to_b = agent_send(a, idb, "anyone there?", 13);
    blob_t to_c = agent_send(a, idc, "and you?", 8);
    uint64_t now = (uint64_t)time(NULL), later = now + 15 * 24 * 3600;
    uint8_t out[96];
    size_t len = 99;
    CHECK_OK(dmp_agent_unanswered_peers(a, now, NULL, 0, &len));
    CHECK(len == 0);
    CHECK_STATUS(dmp_agent_unanswered_peers(a, later, NULL, 0, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == 64);
    CHECK_STATUS(dmp_agent_unanswered_peers(a, later, out, 63, &len), DMP_ERR_BUFFER_TOO_SMALL);
    CHECK(len == 64);
    CHECK_OK(dmp_agent_unanswered_peers(a, later, out, sizeof out, &len));
    CHECK(len == 64);
    /* In id order. */
    const uint8_t *lo = memcmp(idb, idc, 32) < 0 ? idb : idc, *hi = lo == idb ? idc : idb;
    CHECK(memcmp(out, lo, 32) == 0 && memcmp(out + 32, hi, 32) == 0);
    /* b answers: only c is left. */
    dmp_event_t *ev = RECEIVE(b, &to_b, DMP_EVENT_MESSAGE, ida, "anyone there?", 13);
    dmp_event_free(ev);
    blob_t reply = agent_send(b, ida, "here", 4);
    ev = RECEIVE(a, &reply, DMP_EVENT_MESSAGE, idb, "here", 4);
    dmp_event_free(ev);
    CHECK_OK(dmp_agent_unanswered_peers(a, later, out, sizeof out, &len));
    CHECK(len == 32 && memcmp(out, idc, 32) == 0);
    CHECK_OK(dmp_agent_unanswered_peers(b, later, out, sizeof out, &len)); /* b did not start */
    CHECK(len == 0);
    CHECK_STATUS(dmp_agent_unanswered_peers(NULL, later, out, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_unanswered_peers(a, later, NULL, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_unanswered_peers(a, later, out, sizeof out, NULL), DMP_ERR_NULL_POINTER);
    blob_free(&to_b);
    blob_free(&to_c);
    blob_free(&reply);
    dmp_agent_free(a);
    dmp_agent_free(b);
    dmp_agent_free(c);
}

/* Classical peers: a raw classical identity talks to agents only with DMP_AGENT_ALLOW_CLASSICAL. */
static void classical_peers(void) {
    dmp_identity_t *classic = new_identity_of(DMP_SUITE_CLASSICAL);
    uint8_t bundle[DMP_BUNDLE_MAX_LEN], idc[32];
    size_t blen = get_bundle(classic, 1, bundle);
    CHECK_OK(dmp_identity_public_key(classic, idc));
    dmp_agent_t *strict = open_memory(0), *lenient = open_memory(DMP_AGENT_ALLOW_CLASSICAL);
    uint8_t peer[32], out[4096];
    size_t len = 0;
    CHECK_OK(dmp_agent_add_bundle(strict, bundle, blen, peer)); /* remembered; refused at use */
    CHECK_STATUS(dmp_agent_send(strict, idc, (const uint8_t *)"hi", 2, out, sizeof out, &len), DMP_ERR_PQ_REQUIRED);
    blen = get_bundle(classic, 1, bundle);
    CHECK_OK(dmp_agent_add_bundle(lenient, bundle, blen, peer));
    CHECK_OK(dmp_agent_send(lenient, idc, (const uint8_t *)"hi", 2, out, sizeof out, &len));
    CHECK(len == DMP_PREKEY_MESSAGE_HEADER_LEN + DMP_TAG_LEN + 1 + 2 + 1);
    /* The raw peer sees the agent's one-byte payload kind in front. */
    dmp_session_t *s = NULL;
    uint8_t pt[16];
    size_t ptlen = 0;
    CHECK_OK(dmp_session_accept_with(classic, out, len, DMP_PQ_ALLOW_CLASSICAL, &s, pt, sizeof pt, &ptlen));
    CHECK(ptlen == 3 && memcmp(pt + 1, "hi", 2) == 0);
    dmp_session_free(s);
    CHECK_STATUS(dmp_agent_open(NULL, 0, out, 8, (dmp_agent_t **)(void *)&s), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_agent_open(NULL, 0, out, -1, (dmp_agent_t **)(void *)&s), DMP_ERR_INVALID_ARGUMENT);
    dmp_agent_free(strict);
    dmp_agent_free(lenient);
    dmp_identity_free(classic);
}

static void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (d == NULL) return;
    struct dirent *de;
    char path[4096];
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static void stores(void) {
    char dir[] = "/tmp/dmp-test-agent-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        CHECK(!"mkdtemp");
        return;
    }
    char path[256], path2[256], junk[256], missing[256];
    snprintf(path, sizeof path, "%s/agent.db", dir);
    snprintf(path2, sizeof path2, "%s/seeded.db", dir);
    snprintf(junk, sizeof junk, "%s/junk.db", dir);
    snprintf(missing, sizeof missing, "%s/no/such/dir/agent.db", dir);
    const uint8_t *p = (const uint8_t *)path;
    uint8_t key[32], wrong[32];
    CHECK_OK(dmp_random_bytes(key, sizeof key));
    CHECK_OK(dmp_random_bytes(wrong, sizeof wrong));

    dmp_agent_t *s = NULL, *other = open_memory(0);
    CHECK_OK(dmp_agent_open(p, strlen(path), key, 0, &s));
    uint8_t ids[32], ido[32];
    agent_id(s, ids);
    agent_id(other, ido);
    /* Locked while open. */
    dmp_agent_t *again = NULL;
    CHECK_STATUS(dmp_agent_open(p, strlen(path), key, 0, &again), DMP_ERR_STORE_LOCKED);
    CHECK(again == NULL);
    /* A conversation, then close. */
    introduce(other, s);
    blob_t m = agent_send(other, ids, "persist me", 10);
    dmp_event_t *ev = RECEIVE(s, &m, DMP_EVENT_MESSAGE, ido, "persist me", 10);
    dmp_event_free(ev);
    blob_free(&m);
    blob_t held = agent_send(other, ids, "held", 4);
    dmp_agent_free(s);

    /* Reopened: the same identity and session; wrong key refused. */
    s = (dmp_agent_t *)(void *)&ids;
    CHECK_STATUS(dmp_agent_open(p, strlen(path), wrong, 0, &s), DMP_ERR_WRONG_STORAGE_KEY);
    CHECK(s == NULL);
    CHECK_OK(dmp_agent_open(p, strlen(path), key, 0, &s));
    uint8_t ids2[32];
    agent_id(s, ids2);
    CHECK(memcmp(ids, ids2, 32) == 0);
    CHECK(state_with(s, ido) == DMP_SESSION_ACTIVE);
    ev = RECEIVE(s, &held, DMP_EVENT_MESSAGE, ido, "held", 4);
    dmp_event_free(ev);
    blob_free(&held);
    blob_t r = agent_send(s, ido, "after reopen", 12);
    ev = RECEIVE(other, &r, DMP_EVENT_MESSAGE, ids, "after reopen", 12);
    dmp_event_free(ev);
    blob_free(&r);
    dmp_agent_free(s);

    /* A retaining agent keeps unacknowledged events across a reopen, and its handed-out
     * one-time prekeys stay handed out. */
    char path3[256];
    snprintf(path3, sizeof path3, "%s/retain.db", dir);
    const uint8_t *p3 = (const uint8_t *)path3;
    CHECK_OK(dmp_agent_open(p3, strlen(path3), key, DMP_AGENT_RETAIN_EVENTS, &s));
    uint8_t idr[32];
    agent_id(s, idr);
    blob_t rb = agent_bundle(s, 1);
    uint32_t otk_before = helpers_be32(rb.data + 143);
    uint8_t peer_id[32];
    CHECK_OK(dmp_agent_add_bundle(other, rb.data, rb.len, peer_id));
    blob_free(&rb);
    blob_t k1 = agent_send(other, idr, "keep me", 7);
    ev = RECEIVE(s, &k1, DMP_EVENT_MESSAGE, ido, "keep me", 7);
    uint64_t kseq = 0;
    int32_t kfresh = 0;
    CHECK_OK(dmp_event_seq(ev, &kseq, &kfresh));
    dmp_event_free(ev);
    blob_free(&k1);
    dmp_agent_free(s); /* as if the process had crashed before handling the event */
    CHECK_OK(dmp_agent_open(p3, strlen(path3), key, DMP_AGENT_RETAIN_EVENTS, &s));
    size_t pending = 0;
    CHECK_OK(dmp_agent_pending_count(s, &pending));
    CHECK(pending == 1);
    dmp_event_t *kept = NULL;
    CHECK_OK(dmp_agent_pending_event(s, 0, &kept));
    uint64_t kseq2 = 0;
    CHECK_OK(dmp_event_seq(kept, &kseq2, &kfresh));
    CHECK(kseq2 == kseq);
    uint8_t kbuf[16];
    size_t klen = 0;
    CHECK_OK(dmp_event_plaintext(kept, kbuf, sizeof kbuf, &klen));
    CHECK(klen == 7 && memcmp(kbuf, "keep me", 7) == 0);
    dmp_event_free(kept);
    CHECK_OK(dmp_agent_ack(s, kseq));
    rb = agent_bundle(s, 1);
    CHECK(helpers_be32(rb.data + 143) != otk_before);
    blob_free(&rb);
    dmp_agent_free(s);
    CHECK_OK(dmp_agent_open(p3, strlen(path3), key, DMP_AGENT_RETAIN_EVENTS, &s));
    CHECK_OK(dmp_agent_pending_count(s, &pending));
    CHECK(pending == 0); /* the acknowledgement was saved */
    dmp_agent_free(s);

    /* Not a store; a directory that does not exist. */
    FILE *f = fopen(junk, "wb");
    CHECK(f != NULL);
    if (f != NULL) {
        for (int i = 0; i < 64; i++) fputs("this is not a DMP store ", f);
        fclose(f);
    }
    s = NULL;
    CHECK_STATUS(dmp_agent_open((const uint8_t *)junk, strlen(junk), key, 0, &s), DMP_ERR_STORE_FAILED);
    CHECK(s == NULL);
    CHECK_STATUS(dmp_agent_open((const uint8_t *)missing, strlen(missing), key, 0, &s), DMP_ERR_STORE_FAILED);
    CHECK(s == NULL);

    /* A store made from a seed: the seed's agent id; another seed is refused later. */
    uint8_t seed[32], seed2[32], ed[32];
    CHECK_OK(dmp_random_bytes(seed, sizeof seed));
    CHECK_OK(dmp_random_bytes(seed2, sizeof seed2));
    CHECK_OK(dmp_ed25519_public(seed, ed));
    CHECK_OK(dmp_agent_open_with_seed((const uint8_t *)path2, strlen(path2), key, seed, 0, &s));
    agent_id(s, ids);
    CHECK(memcmp(ids, ed, 32) == 0);
    dmp_agent_free(s);
    s = (dmp_agent_t *)(void *)&ids;
    CHECK_STATUS(dmp_agent_open_with_seed((const uint8_t *)path2, strlen(path2), key, seed2, 0, &s),
                 DMP_ERR_INVALID_ARGUMENT);
    CHECK(s == NULL);
    CHECK_OK(dmp_agent_open_with_seed((const uint8_t *)path2, strlen(path2), key, seed, 0, &s));
    dmp_agent_free(s);
    CHECK_OK(dmp_agent_open((const uint8_t *)path2, strlen(path2), key, 0, &s));
    agent_id(s, ids);
    CHECK(memcmp(ids, ed, 32) == 0);
    dmp_agent_free(s);
    /* In memory, from a seed. */
    CHECK_OK(dmp_agent_open_with_seed(NULL, 0, key, seed, 0, &s));
    agent_id(s, ids);
    CHECK(memcmp(ids, ed, 32) == 0);
    dmp_agent_free(s);

    dmp_agent_free(other);
    remove_tree(dir);
}

static int other_kinds_child(void *arg) {
    dmp_agent_t *a = arg;
    unsigned long failed_before = check_failed_;
    dmp_identity_t *id = new_identity();
    uint8_t buf[64];
    size_t count = 0;
    int32_t kind = 0;
    CHECK_STATUS(dmp_agent_id((dmp_agent_t *)(void *)id, buf), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_agent_outbox_count((dmp_agent_t *)(void *)id, &count), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_event_kind((dmp_event_t *)(void *)a, &kind), DMP_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dmp_identity_public_key((dmp_identity_t *)(void *)a, buf), DMP_ERR_INVALID_ARGUMENT);
    CHECK_OK(dmp_agent_id(a, buf)); /* the agent still works */
    dmp_identity_free(id);
    return check_failed_ != failed_before;
}

static void null_pointers(void) {
    dmp_agent_t *a = open_memory(0), *b = open_memory(0);
    uint8_t key[32] = {1}, seed[32] = {2}, ida[32], idb[32], out[4096], gid[32];
    agent_id(a, ida);
    agent_id(b, idb);
    size_t len = 0, count = 0;
    int sentinel = 0;
    dmp_agent_t *x = (dmp_agent_t *)(void *)&sentinel;
    const uint8_t path[] = "/nonexistent";
    CHECK_STATUS(dmp_agent_open(NULL, 5, key, 0, &x), DMP_ERR_NULL_POINTER);
    CHECK(x == NULL);
    CHECK_STATUS(dmp_agent_open(path, sizeof path - 1, NULL, 0, &x), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_open(NULL, 0, key, 0, NULL), DMP_ERR_NULL_POINTER);
    x = (dmp_agent_t *)(void *)&sentinel;
    CHECK_STATUS(dmp_agent_open_with_seed(NULL, 5, key, seed, 0, &x), DMP_ERR_NULL_POINTER);
    CHECK(x == NULL);
    CHECK_STATUS(dmp_agent_open_with_seed(NULL, 0, NULL, seed, 0, &x), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_open_with_seed(NULL, 0, key, NULL, 0, &x), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_open_with_seed(NULL, 0, key, seed, 0, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_open_with_seed(NULL, 0, key, seed, 16, &x), DMP_ERR_INVALID_ARGUMENT);

    CHECK_STATUS(dmp_agent_id(NULL, ida), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_id(a, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_fingerprint(NULL, out, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_fingerprint(a, NULL, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_fingerprint(a, out, sizeof out, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_bundle(NULL, 0, out, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_bundle(a, 0, NULL, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_bundle(a, 0, out, sizeof out, NULL), DMP_ERR_NULL_POINTER);
    blob_t bb = agent_bundle(b, 1);
    uint8_t peer[32];
    CHECK_STATUS(dmp_agent_add_bundle(NULL, bb.data, bb.len, peer), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_add_bundle(a, NULL, bb.len, peer), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_add_bundle(a, bb.data, bb.len, NULL), DMP_ERR_NULL_POINTER);
    CHECK_OK(dmp_agent_add_bundle(a, bb.data, bb.len, peer));
    blob_free(&bb);
    CHECK_STATUS(dmp_agent_send(NULL, idb, out, 1, out + 8, 100, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_send(a, NULL, out, 1, out + 8, 100, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_send(a, idb, NULL, 1, out + 8, 100, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_send(a, idb, ida, 1, NULL, 100, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_send(a, idb, ida, 1, out, sizeof out, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_connect(NULL, idb, out, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_connect(a, NULL, out, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_connect(a, idb, NULL, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_connect(a, idb, out, sizeof out, NULL), DMP_ERR_NULL_POINTER);
    /* Nothing was sent by the refused calls: b's first envelope is a's first message. */
    blob_t m = agent_send(a, idb, "first", 5);
    dmp_event_t *ev = NULL;
    CHECK_STATUS(dmp_agent_receive(NULL, m.data, m.len, &ev), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_receive(b, NULL, m.len, &ev), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_receive(b, m.data, m.len, NULL), DMP_ERR_NULL_POINTER);
    ev = RECEIVE(b, &m, DMP_EVENT_MESSAGE, ida, "first", 5);
    blob_free(&m);

    int32_t k = 0, fresh = 0;
    uint64_t seq = 0;
    CHECK_STATUS(dmp_event_kind(NULL, &k), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_event_kind(ev, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_event_peer(NULL, peer), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_event_peer(ev, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_event_group_id(NULL, gid), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_event_group_id(ev, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_event_plaintext(NULL, out, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_event_plaintext(ev, NULL, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_event_plaintext(ev, out, sizeof out, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_event_seq(NULL, &seq, &fresh), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_event_seq(ev, NULL, &fresh), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_event_seq(ev, &seq, NULL), DMP_ERR_NULL_POINTER);
    dmp_event_free(ev);
    dmp_event_free(NULL);

    CHECK_STATUS(dmp_agent_pending_count(NULL, &count), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_pending_count(a, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_pending_event(NULL, 0, &ev), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_pending_event(a, 0, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_ack(NULL, 0), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_peers(NULL, out, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_peers(a, NULL, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_peers(a, out, sizeof out, NULL), DMP_ERR_NULL_POINTER);
    int32_t st = 0;
    CHECK_STATUS(dmp_agent_session_state(NULL, idb, &st), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_session_state(a, NULL, &st), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_session_state(a, idb, NULL), DMP_ERR_NULL_POINTER);
    uint8_t not_point[32] = {2};
    CHECK_STATUS(dmp_agent_session_state(a, not_point, &st), DMP_ERR_BAD_ENVELOPE);
    CHECK_STATUS(dmp_agent_maintain(NULL, 0), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_group_create(NULL, gid), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_group_create(a, NULL), DMP_ERR_NULL_POINTER);
    CHECK_OK(dmp_agent_group_create(a, gid));
    CHECK_STATUS(dmp_agent_group_add(NULL, gid, idb), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_group_add(a, NULL, idb), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_group_add(a, gid, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_group_remove(NULL, gid, idb), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_group_remove(a, NULL, idb), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_group_remove(a, gid, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_group_send(NULL, gid, out, 1, out + 8, 300, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_group_send(a, NULL, out, 1, out + 8, 300, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_group_send(a, gid, NULL, 1, out + 8, 300, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_group_send(a, gid, ida, 1, NULL, 300, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_group_send(a, gid, ida, 1, out, sizeof out, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_group_members(NULL, gid, out, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_group_members(a, NULL, out, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_group_members(a, gid, NULL, sizeof out, &len), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_group_members(a, gid, out, sizeof out, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_outbox_count(NULL, &count), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_outbox_count(a, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_outbox_next(NULL, peer, out, sizeof out, &len, &seq), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_outbox_next(a, NULL, out, sizeof out, &len, &seq), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_outbox_next(a, peer, NULL, sizeof out, &len, &seq), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_outbox_next(a, peer, out, sizeof out, NULL, &seq), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_outbox_next(a, peer, out, sizeof out, &len, NULL), DMP_ERR_NULL_POINTER);
    CHECK_STATUS(dmp_agent_outbox_done(NULL, 0), DMP_ERR_NULL_POINTER);
    dmp_agent_free(NULL);

    /* Handles of other kinds are refused (see test_identity.c, handle_kinds). */
    CHECK_GROUP("handles of other kinds passed to the dmp_agent_* and dmp_event_* functions", other_kinds_child, a);
    dmp_agent_free(a);
    dmp_agent_free(b);
}

/* Outputs overlapping an input or another output are refused before anything is written,
 * sent or saved. */
static void overlapping_buffers(void) {
    static uint64_t words[16384 / 8]; /* aligned for the pointer, size_t and integer outputs */
    uint8_t *buf = (uint8_t *)words;
    uint8_t key[32] = {6}, seed[32] = {7}, ida[32], idb[32], gid[32];
    int sentinel = 0;
    dmp_agent_t *x = (dmp_agent_t *)(void *)&sentinel;
    size_t len = 33;

    memcpy(buf, key, 32);
    CHECK_OVERLAP(dmp_agent_open(NULL, 0, buf, 0, (dmp_agent_t **)(void *)(buf + 8)), "out", "storage_key32");
    memcpy(buf + 64, seed, 32);
    CHECK_OVERLAP(dmp_agent_open_with_seed(NULL, 0, key, buf + 64, 0, (dmp_agent_t **)(void *)(buf + 88)), "out",
                  "seed32");
    CHECK_OVERLAP(dmp_agent_open_with_seed(buf, 40, key, seed, 0, (dmp_agent_t **)(void *)(buf + 32)), "out", "path");
    CHECK(x == (dmp_agent_t *)(void *)&sentinel && memcmp(buf, key, 32) == 0 && memcmp(buf + 64, seed, 32) == 0);

    dmp_agent_t *a = open_memory(0), *b = open_memory(0);
    agent_id(a, ida);
    agent_id(b, idb);
    CHECK_OVERLAP(dmp_agent_fingerprint(a, buf, 64, (size_t *)(void *)(buf + 8)), "out", "out_len");
    CHECK_OVERLAP(dmp_agent_bundle(b, 1, buf, 4096, &words[4]), "out", "out_len");
    blob_t bb = agent_bundle(b, 1);
    memcpy(buf, bb.data, bb.len);
    CHECK_OVERLAP(dmp_agent_add_bundle(a, buf, bb.len, buf + bb.len - 31), "peer32_out", "bundle");
    CHECK_STATUS(dmp_agent_session_state(a, idb, &(int32_t){0}), DMP_ERR_NO_SESSION); /* not added */
    CHECK_OK(dmp_agent_add_bundle(a, buf, bb.len, buf + bb.len));
    CHECK(memcmp(buf + bb.len, idb, 32) == 0);
    blob_free(&bb);

    /* send and connect: the envelope over the plaintext or the peer id. Nothing is sent: b's
     * first envelope is a's first message. */
    memcpy(buf, idb, 32);
    memcpy(buf + 32, "first", 5);
    CHECK_OVERLAP(dmp_agent_send(a, idb, buf + 32, 5, buf + 36, 8192, &len), "out", "pt");
    CHECK_OVERLAP(dmp_agent_send(a, buf, buf + 32, 5, buf + 16, 8192, &len), "out", "peer32");
    CHECK_OVERLAP(dmp_agent_send(a, buf, buf + 32, 5, buf + 64, 8192, &words[20]), "out", "out_len");
    CHECK_OVERLAP(dmp_agent_connect(a, buf, buf + 31, 8192, &len), "out", "peer32");
    CHECK(len == 33 && memcmp(buf, idb, 32) == 0 && memcmp(buf + 32, "first", 5) == 0);
    blob_t m = agent_send(a, idb, "first", 5);

    /* receive: the event handle over the envelope. */
    memcpy(buf, m.data, m.len);
    CHECK_OVERLAP(dmp_agent_receive(b, buf, m.len, (dmp_event_t **)(void *)(buf + 8)), "event_out", "envelope");
    CHECK(memcmp(buf, m.data, m.len) == 0);
    dmp_event_t *ev = RECEIVE(b, &m, DMP_EVENT_MESSAGE, ida, "first", 5);
    blob_free(&m);
    CHECK_OVERLAP(dmp_event_plaintext(ev, buf, 64, (size_t *)(void *)(buf + 8)), "out", "out_len");
    CHECK_OVERLAP(dmp_event_seq(ev, (uint64_t *)(void *)buf, (int32_t *)(void *)(buf + 4)), "seq_out",
                  "new_session_out");
    dmp_event_free(ev);

    CHECK_OVERLAP(dmp_agent_peers(a, buf, 64, (size_t *)(void *)(buf + 32)), "out", "out_len");
    memcpy(buf, idb, 32);
    CHECK_OVERLAP(dmp_agent_session_state(a, buf, (int32_t *)(void *)(buf + 28)), "state_out", "peer32");
    CHECK(memcmp(buf, idb, 32) == 0);

    /* groups: the envelope over the plaintext or the group id; the outbox's recipient over its
     * envelope. */
    CHECK_OK(dmp_agent_group_create(a, gid));
    CHECK_OK(dmp_agent_group_add(a, gid, idb));
    memcpy(buf, gid, 32);
    CHECK_OVERLAP(dmp_agent_group_send(a, gid, buf, 32, buf + 16, 8192, &len), "out", "pt");
    CHECK_OVERLAP(dmp_agent_group_send(a, buf, (const uint8_t *)"x", 1, buf + 16, 8192, &len), "out", "group_id32");
    CHECK_OVERLAP(dmp_agent_group_members(a, buf, buf + 8, 64, &len), "out", "group_id32");
    uint64_t seq = 77;
    CHECK_OVERLAP(dmp_agent_outbox_next(a, buf + 8, buf, 8192, &len, &seq), "peer32_out", "out");
    CHECK_OVERLAP(dmp_agent_outbox_next(a, buf + 64, buf + 200, 8192, &len, (uint64_t *)(void *)(buf + 72)), "peer32_out",
                  "seq_out");
    CHECK(len == 33 && seq == 77 && memcmp(buf, gid, 32) == 0);
    size_t queued = 0;
    CHECK_OK(dmp_agent_outbox_count(a, &queued));
    CHECK(queued == 1);

    /* signing: the signature over the message; the accepted flag over the peer id; the list of
     * unanswered peers over its length. */
    memcpy(buf, "application message", 19);
    CHECK_OVERLAP(dmp_agent_sign(a, buf, 19, buf + 8), "sig64_out", "msg");
    CHECK(memcmp(buf, "application message", 19) == 0);
    memcpy(buf, idb, 32);
    CHECK_OVERLAP(dmp_agent_is_accepted(a, buf, (int32_t *)(void *)(buf + 28)), "accepted_out", "peer32");
    CHECK(memcmp(buf, idb, 32) == 0);
    CHECK_OVERLAP(dmp_agent_unanswered_peers(a, UINT64_MAX, buf, 64, (size_t *)(void *)(buf + 32)), "out",
                  "out_len");

    dmp_agent_free(a);
    dmp_agent_free(b);
}

int main(int argc, char **argv) {
    (void)argc;
    pairwise();
    simultaneous_start(1);
    simultaneous_start(0);
    retained_events();
    groups();
    outbox_numbers();
    agent_signatures();
    strangers_close_forget();
    unanswered_peers();
    classical_peers();
    stores();
    null_pointers();
    overlapping_buffers();
    return check_finish(argv[0]);
}
