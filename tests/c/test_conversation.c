#define _POSIX_C_SOURCE 200809L /* fork, alarm, waitpid (check.h) */
/*
 * test_conversation.c: a two-party conversation written in C. Alice initiates, Bob accepts, and
 * then a few hundred messages go both ways in bursts with direction changes; some are held back
 * and delivered later (also after the direction changed, and after a restore); both sides are
 * serialized and restored mid-way; at the end both close and everything is freed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dmp.h"
#include "session_helpers.h"

#define ROUNDS 24
#define MAX_HELD 64

typedef struct {
    envelope_t env;
    char text[96];
    size_t len;
    int to_bob; /* 1: for Bob's session, 0: for Alice's */
} held_t;

static held_t held[MAX_HELD];
static size_t n_held;
static unsigned long delivered, sent;

/* A deterministic pseudo-random sequence (the test is reproducible). */
static uint32_t rng_state = 0x12345678u;
static uint32_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static size_t make_text(char *buf, size_t cap, const char *who, unsigned long n) {
    /* Lengths vary from a few bytes to ~90, crossing the 64-byte padding bucket. */
    int len = snprintf(buf, cap, "%s #%lu", who, n);
    size_t extra = rnd() % 72;
    for (size_t i = 0; i < extra && (size_t)len + 1 < cap; i++) buf[len++] = (char)('a' + (n + i) % 26);
    buf[len] = '\0';
    return (size_t)len;
}

static void deliver(dmp_session_t *to, const envelope_t *e, const char *text, size_t len) {
    if (open_msg(to, e, text, len)) delivered++;
}

/* Sends `count` messages from `from` to `to`; holds back some of them. */
static void burst(dmp_session_t *from, dmp_session_t *to, int to_bob, const char *who, int count) {
    for (int i = 0; i < count; i++) {
        char text[96];
        size_t len = make_text(text, sizeof text, who, sent);
        envelope_t e = seal_msg(from, text, len);
        sent++;
        if (e.data == NULL) continue;
        if (n_held < MAX_HELD && rnd() % 5 == 0) {
            held[n_held].env = e;
            memcpy(held[n_held].text, text, len + 1);
            held[n_held].len = len;
            held[n_held].to_bob = to_bob;
            n_held++;
            continue;
        }
        deliver(to, &e, text, len);
        envelope_free(&e);
    }
}

/* Delivers some (or all) held-back messages, newest first or oldest first. */
static void release(dmp_session_t *alice, dmp_session_t *bob, int all) {
    size_t keep = 0;
    int newest_first = (int)(rnd() % 2);
    size_t n = n_held;
    for (size_t k = 0; k < n; k++) {
        size_t i = newest_first ? n - 1 - k : k;
        if (!all && rnd() % 2 == 0) continue;
        held_t *h = &held[i];
        deliver(h->to_bob ? bob : alice, &h->env, h->text, h->len);
        envelope_free(&h->env);
        h->len = (size_t)-1;
    }
    for (size_t i = 0; i < n; i++)
        if (held[i].len != (size_t)-1) held[keep++] = held[i];
    n_held = keep;
}

static dmp_session_t *restore(dmp_session_t *s, const uint8_t *key) {
    size_t need = 0, len = 0;
    CHECK_STATUS(dmp_session_serialize(s, key, NULL, 0, &need), DMP_ERR_BUFFER_TOO_SMALL);
    uint8_t *rec = check_xmalloc(need);
    CHECK_OK(dmp_session_serialize(s, key, rec, need, &len));
    CHECK(len == need);
    dmp_session_t *back = NULL;
    CHECK_OK(dmp_session_deserialize(rec, len, key, &back));
    CHECK_OK(dmp_memzero(rec, len));
    free(rec);
    if (back == NULL) return s;
    dmp_session_free(s);
    return back;
}

int main(int argc, char **argv) {
    (void)argc;
    dmp_identity_t *alice_id = new_identity(), *bob_id = new_identity();
    CHECK_OK(dmp_identity_generate_one_time_prekeys(bob_id, 2));
    uint8_t bundle[DMP_BUNDLE_MAX_LEN];
    size_t blen = get_bundle(bob_id, 1, bundle);
    uint8_t key_a[32], key_b[32];
    CHECK_OK(dmp_random_bytes(key_a, sizeof key_a));
    CHECK_OK(dmp_random_bytes(key_b, sizeof key_b));

    /* Alice initiates and sends three messages before any reply; the second one is delivered
     * first (it carries the prekey header too, but only the first is accepted as a session). */
    dmp_session_t *alice = NULL, *bob = NULL;
    CHECK_OK(dmp_session_initiate(alice_id, bundle, blen, &alice));
    CHECK(session_state(alice) == DMP_SESSION_DORMANT);
    envelope_t f0 = seal_msg(alice, "hello bob", 9);
    envelope_t f1 = seal_msg(alice, "are you there?", 14);
    envelope_t f2 = seal_msg(alice, "third before reply", 18);
    CHECK(session_state(alice) == DMP_SESSION_INITIATING);
    uint8_t pt[64];
    size_t ptlen = 0;
    CHECK_OK(dmp_session_accept(bob_id, f1.data, f1.len, &bob, pt, sizeof pt, &ptlen));
    CHECK(ptlen == 14 && memcmp(pt, "are you there?", 14) == 0);
    deliver(bob, &f2, "third before reply", 18);
    deliver(bob, &f0, "hello bob", 9);
    envelope_free(&f0);
    envelope_free(&f1);
    envelope_free(&f2);
    CHECK(session_state(bob) == DMP_SESSION_ACTIVE);

    /* Padding on one side only: the other side does not need to know. */
    CHECK_OK(dmp_session_set_padding(bob, DMP_PADDING_BUCKETS));

    for (int round = 0; round < ROUNDS; round++) {
        burst(bob, alice, 0, "bob", 1 + (int)(rnd() % 12));
        if (rnd() % 3 == 0) release(alice, bob, 0);
        burst(alice, bob, 1, "alice", 1 + (int)(rnd() % 12));
        if (rnd() % 3 == 0) release(alice, bob, 0);
        if (round == ROUNDS / 3) {
            /* Both restored mid-way, with messages still held back on both sides. */
            alice = restore(alice, key_a);
            bob = restore(bob, key_b);
        }
        if (round == 2 * ROUNDS / 3) {
            alice = restore(alice, key_a);
            release(alice, bob, 1);
            bob = restore(bob, key_b);
        }
    }
    /* A long one-sided run, then everything held back. */
    burst(alice, bob, 1, "alice", 40);
    release(alice, bob, 1);
    CHECK(n_held == 0);
    /* Make sure the last direction is confirmed, so that both are ACTIVE. */
    burst(bob, alice, 0, "bob", 2);
    release(alice, bob, 1);

    CHECK(sent >= 200);
    /* Every message delivered exactly once: the bursts, plus the three first messages (one of
     * them through dmp_session_accept). */
    CHECK(delivered + 1 == sent + 3);
    CHECK(session_state(alice) == DMP_SESSION_ACTIVE);
    CHECK(session_state(bob) == DMP_SESSION_ACTIVE);
    uint8_t ida[DMP_SESSION_ID_LEN], idb[DMP_SESSION_ID_LEN];
    CHECK_OK(dmp_session_id(alice, ida));
    CHECK_OK(dmp_session_id(bob, idb));
    CHECK(memcmp(ida, idb, sizeof ida) == 0);

    CHECK_OK(dmp_session_close(alice));
    CHECK_OK(dmp_session_close(bob));
    CHECK(session_state(alice) == DMP_SESSION_CLOSED && session_state(bob) == DMP_SESSION_CLOSED);
    dmp_session_free(alice);
    dmp_session_free(bob);
    dmp_identity_free(alice_id);
    dmp_identity_free(bob_id);
    printf("test_conversation: %lu messages sent and delivered\n", sent + 3);
    return check_finish(argv[0]);
}
