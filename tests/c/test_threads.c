#define _POSIX_C_SOURCE 200809L /* fork, alarm, waitpid (check.h) */
/*
 * test_threads.c: one session handle used from 4 threads at once. Each thread encrypts 50
 * messages into its own array without any lock of its own (the library serializes calls on a
 * handle); then the main thread decrypts all 200 on the peer in an interleaved order (within the
 * default limits) and checks that every plaintext is seen exactly once. A second phase has the
 * threads decrypt concurrently on one handle while others read its state. A third frees handles
 * while threads are calling on them: every call completes on the live handle or is refused with
 * DMP_ERR_INVALID_ARGUMENT, and valgrind sees no read of freed memory.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dmp.h"
#include "session_helpers.h"

#define THREADS 4
#define PER_THREAD 50
#define TOTAL (THREADS * PER_THREAD)

typedef struct {
    dmp_session_t *session;
    int index;
    envelope_t env[PER_THREAD];
    int32_t failures; /* first failing status, 0 if none */
    /* phase 2 */
    const envelope_t *to_open[PER_THREAD];
    int opened[PER_THREAD];
} worker_t;

static void *encrypt_worker(void *arg) {
    worker_t *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        char text[32];
        int len = snprintf(text, sizeof text, "thread %d message %d", w->index, i);
        size_t need = 0, out_len = 0;
        int32_t rc = dmp_session_encrypted_len(w->session, (size_t)len, &need);
        if (rc != DMP_OK) {
            if (!w->failures) w->failures = rc;
            continue;
        }
        w->env[i].data = malloc(need);
        if (w->env[i].data == NULL) abort();
        /* Another thread may have sent in between; the size cannot change within a chain, but
         * give the exact size query the benefit of the doubt and retry once on BUFFER_TOO_SMALL. */
        rc = dmp_session_encrypt(w->session, (const uint8_t *)text, (size_t)len, w->env[i].data, need, &out_len);
        if (rc == DMP_ERR_BUFFER_TOO_SMALL) {
            free(w->env[i].data);
            w->env[i].data = malloc(out_len);
            if (w->env[i].data == NULL) abort();
            need = out_len;
            rc = dmp_session_encrypt(w->session, (const uint8_t *)text, (size_t)len, w->env[i].data, need, &out_len);
        }
        if (rc != DMP_OK) {
            if (!w->failures) w->failures = rc;
            free(w->env[i].data);
            w->env[i].data = NULL;
            continue;
        }
        w->env[i].len = out_len;
        /* The state is readable concurrently. */
        int32_t st = -1;
        rc = dmp_session_state(w->session, &st);
        if (rc != DMP_OK || st != DMP_SESSION_ACTIVE) {
            if (!w->failures) w->failures = rc ? rc : -100;
        }
    }
    return NULL;
}

static void *decrypt_worker(void *arg) {
    worker_t *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        const envelope_t *e = w->to_open[i];
        uint8_t out[64];
        size_t out_len = 0;
        int32_t rc = dmp_session_decrypt(w->session, e->data, e->len, out, sizeof out, &out_len);
        if (rc != DMP_OK) {
            if (!w->failures) w->failures = rc;
            continue;
        }
        w->opened[i] = 1;
        uint8_t id[DMP_SESSION_ID_LEN];
        rc = dmp_session_id(w->session, id);
        if (rc != DMP_OK && !w->failures) w->failures = rc;
    }
    return NULL;
}

/* Phase 3: calls racing a free. */
#define FREE_ROUNDS 20

typedef struct {
    dmp_session_t *session; /* used only as an address once freed */
    pthread_mutex_t *start_lock;
    pthread_cond_t *started;
    int *running;
    long ok;
    int32_t unexpected; /* first status other than OK and INVALID_ARGUMENT, 0 if none */
} racer_t;

static void *racing_caller(void *arg) {
    racer_t *r = arg;
    pthread_mutex_lock(r->start_lock);
    (*r->running)++;
    pthread_cond_broadcast(r->started);
    pthread_mutex_unlock(r->start_lock);
    for (;;) {
        uint8_t buf[256], id[DMP_SESSION_ID_LEN];
        size_t len = 0;
        int32_t st = -1;
        int32_t rc = dmp_session_serialize(r->session, (const uint8_t[32]){5}, buf, sizeof buf, &len);
        if (rc == DMP_ERR_BUFFER_TOO_SMALL) rc = DMP_OK; /* the record is larger; the call still ran */
        if (rc == DMP_OK) rc = dmp_session_state(r->session, &st);
        if (rc == DMP_OK) rc = dmp_session_id(r->session, id);
        if (rc == DMP_OK) {
            r->ok++;
            continue;
        }
        if (rc != DMP_ERR_INVALID_ARGUMENT && !r->unexpected) r->unexpected = rc;
        return NULL;
    }
}

static void calls_racing_a_free(dmp_identity_t *alice_id, dmp_identity_t *bob_id) {
    long ok = 0;
    for (int round = 0; round < FREE_ROUNDS; round++) {
        dmp_session_t *alice = NULL, *bob = NULL;
        establish(alice_id, bob_id, &alice, &bob);
        dmp_session_free(bob);
        pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
        pthread_cond_t started = PTHREAD_COND_INITIALIZER;
        int running = 0;
        racer_t r[THREADS];
        pthread_t t[THREADS];
        for (int i = 0; i < THREADS; i++) {
            r[i] = (racer_t){alice, &start_lock, &started, &running, 0, 0};
            CHECK(pthread_create(&t[i], NULL, racing_caller, &r[i]) == 0);
        }
        /* Free while every thread is in its loop of calls. */
        pthread_mutex_lock(&start_lock);
        while (running < THREADS) pthread_cond_wait(&started, &start_lock);
        pthread_mutex_unlock(&start_lock);
        dmp_session_free(alice);
        for (int i = 0; i < THREADS; i++) {
            CHECK(pthread_join(t[i], NULL) == 0);
            if (!CHECK_OK(r[i].unexpected)) fprintf(stderr, "    (round %d, thread %d)\n", round, i);
            ok += r[i].ok;
        }
        /* The freed handle stays refused. */
        int32_t st = 0;
        CHECK_STATUS(dmp_session_state(alice, &st), DMP_ERR_INVALID_ARGUMENT);
        pthread_cond_destroy(&started);
        pthread_mutex_destroy(&start_lock);
    }
    printf("calls racing a free: %ld completed before the frees, the rest refused\n", ok);
}

int main(int argc, char **argv) {
    (void)argc;
    dmp_identity_t *alice_id = new_identity(), *bob_id = new_identity();
    dmp_session_t *alice = NULL, *bob = NULL;
    establish(alice_id, bob_id, &alice, &bob);

    /* Phase 1: four threads encrypt on Alice's one handle. */
    static worker_t w[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].session = alice;
        w[i].index = i;
    }
    for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, encrypt_worker, &w[i]) == 0);
    for (int i = 0; i < THREADS; i++) CHECK(pthread_join(t[i], NULL) == 0);
    for (int i = 0; i < THREADS; i++) {
        if (!CHECK_OK(w[i].failures)) fprintf(stderr, "    (first failure in encrypting thread %d)\n", i);
    }

    /* Every envelope uses a distinct message number of one chain: 200 distinct numbers. */
    static int number_seen[TOTAL + 16];
    int distinct = 1;
    for (int i = 0; i < THREADS; i++)
        for (int j = 0; j < PER_THREAD; j++) {
            if (w[i].env[j].data == NULL) continue;
            uint32_t n = message_number(w[i].env[j].data, DMP_MESSAGE_HEADER_LEN);
            if (n >= TOTAL + 16 || number_seen[n]++) distinct = 0;
        }
    CHECK(distinct);

    /* The main thread decrypts all 200 on Bob's side, interleaving the threads' arrays from the
     * back (so most arrive out of order, but never further ahead than the default limits). */
    static int seen[THREADS][PER_THREAD];
    int bad = 0;
    for (int j = PER_THREAD - 1; j >= 0; j--)
        for (int i = 0; i < THREADS; i++) {
            const envelope_t *e = &w[(i + j) % THREADS].env[j];
            if (e->data == NULL) continue;
            uint8_t out[64];
            size_t out_len = 0;
            if (!CHECK_OK(dmp_session_decrypt(bob, e->data, e->len, out, sizeof out - 1, &out_len))) continue;
            out[out_len] = '\0';
            int ti = -1, mi = -1;
            if (sscanf((const char *)out, "thread %d message %d", &ti, &mi) != 2 || ti < 0 || ti >= THREADS ||
                mi < 0 || mi >= PER_THREAD) {
                bad++;
                continue;
            }
            if (ti != (i + j) % THREADS || mi != j) bad++;
            seen[ti][mi]++;
        }
    CHECK(bad == 0);
    int exactly_once = 1;
    for (int i = 0; i < THREADS; i++)
        for (int j = 0; j < PER_THREAD; j++) exactly_once &= seen[i][j] == 1;
    CHECK(exactly_once);
    /* And none decrypts twice. */
    CHECK_STATUS(dmp_session_decrypt(bob, w[0].env[0].data, w[0].env[0].len, (uint8_t[64]){0}, 64,
                                     &(size_t){0}),
                 DMP_ERR_DUPLICATE);

    /* Phase 2: Bob sends 200 messages; four threads decrypt them on Alice's one handle at once,
     * each taking every fourth envelope. */
    static envelope_t replies[TOTAL];
    static char texts[TOTAL][32];
    for (int k = 0; k < TOTAL; k++) {
        int len = snprintf(texts[k], sizeof texts[k], "reply %d", k);
        replies[k] = seal_msg(bob, texts[k], (size_t)len);
    }
    for (int i = 0; i < THREADS; i++) {
        w[i].failures = 0;
        for (int j = 0; j < PER_THREAD; j++) {
            w[i].to_open[j] = &replies[j * THREADS + i];
            w[i].opened[j] = 0;
        }
    }
    for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, decrypt_worker, &w[i]) == 0);
    for (int i = 0; i < THREADS; i++) CHECK(pthread_join(t[i], NULL) == 0);
    int all_opened = 1;
    for (int i = 0; i < THREADS; i++) {
        if (!CHECK_OK(w[i].failures)) fprintf(stderr, "    (first failure in decrypting thread %d)\n", i);
        for (int j = 0; j < PER_THREAD; j++) all_opened &= w[i].opened[j];
    }
    CHECK(all_opened);

    for (int i = 0; i < THREADS; i++)
        for (int j = 0; j < PER_THREAD; j++) envelope_free(&w[i].env[j]);
    for (int k = 0; k < TOTAL; k++) envelope_free(&replies[k]);
    dmp_session_free(alice);
    dmp_session_free(bob);

    calls_racing_a_free(alice_id, bob_id);
    dmp_identity_free(alice_id);
    dmp_identity_free(bob_id);
    return check_finish(argv[0]);
}
