#define _POSIX_C_SOURCE 199309L /* clock_gettime */
/*
 * aead_vs_libsodium.c: XChaCha20-Poly1305 seal+open from C, DMP's raw AEAD (dmp_aead_seal /
 * dmp_aead_open from the static libdmp.a) against libsodium's
 * crypto_aead_xchacha20poly1305_ietf_encrypt / _decrypt, in the same process, at 64 B, 1 KiB,
 * 16 KiB and 1 MiB. benches/c/run.sh builds and runs it.
 *
 * Same work on both sides per call: a fresh random 24-byte nonce (DMP draws it inside
 * dmp_aead_seal; libsodium side: randombytes_buf), seal, open, 2 bytes of associated data, into
 * caller buffers allocated once. Both sides use the layout nonce || ciphertext || tag.
 *
 * Before timing, per size: each side's round trip gives the plaintext back, DMP's output opens
 * with libsodium and libsodium's with DMP (any failure: message on stderr, exit 1). Every return
 * code inside the timed loops is checked too.
 *
 * Timing: each side calibrated to ~0.2 s per run, then 7 runs per side, interleaved
 * (dmp, libsodium, dmp, libsodium, ...) so that load from other processes hits both alike.
 * Reported: the median per seal+open in microseconds, and the ratio dmp / libsodium, as
 *   ratio: aead_c_<size> dmp X.XX us / libsodium Y.YY us = Z.ZZ
 * Clock: CLOCK_PROCESS_CPUTIME_ID by default (time descheduled excluded; the getrandom system
 * calls are included), CLOCK_MONOTONIC with the argument --wall.
 *
 * libsodium's headers are not needed: the prototypes used are declared below (libsodium 1.0.18).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dmp.h"

int sodium_init(void);
const char *sodium_version_string(void);
void randombytes_buf(void *buf, size_t size);
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

#define RUNS 7
#define TARGET_NS 200000000.0 /* ~0.2 s per run */
#define CALIBRATE_NS 50000000ULL

static const uint8_t AD[2] = {'a', 'd'};
static uint8_t KEY[32];
static clockid_t CLOCK = CLOCK_PROCESS_CPUTIME_ID;
static volatile uint8_t sink;

typedef struct {
    size_t n;
    uint8_t *pt;     /* n */
    uint8_t *sealed; /* n + 40: nonce || ct || tag */
    uint8_t *opened; /* n */
} bufs_t;

static void die(const char *what, size_t n, int32_t code) {
    fprintf(stderr, "FAILED: %s (size %zu", what, n);
    if (code != 0) {
        const char *detail = dmp_last_error_message();
        fprintf(stderr, ", code %d: %s%s%s", (int)code, dmp_strerror(code), detail ? " / " : "",
                detail ? detail : "");
    }
    fprintf(stderr, ")\n");
    exit(1);
}

static uint64_t now_ns(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK, &ts) != 0) {
        perror("clock_gettime");
        exit(1);
    }
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

/* One DMP seal+open: the library draws the nonce and writes nonce || ct || tag. */
static void dmp_round(const bufs_t *b) {
    size_t sealed_len = 0, opened_len = 0;
    int32_t rc = dmp_aead_seal(KEY, AD, sizeof AD, b->pt, b->n, b->sealed, b->n + DMP_AEAD_OVERHEAD,
                               &sealed_len);
    if (rc != DMP_OK || sealed_len != b->n + DMP_AEAD_OVERHEAD) die("dmp_aead_seal", b->n, rc);
    rc = dmp_aead_open(KEY, AD, sizeof AD, b->sealed, sealed_len, b->opened, b->n, &opened_len);
    if (rc != DMP_OK || opened_len != b->n) die("dmp_aead_open", b->n, rc);
    sink = b->opened[b->n - 1];
}

/* One libsodium seal+open, same layout: random nonce in front, then ct || tag. */
static void sodium_round(const bufs_t *b) {
    unsigned long long clen = 0, mlen = 0;
    randombytes_buf(b->sealed, DMP_NONCE_LEN);
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(b->sealed + DMP_NONCE_LEN, &clen, b->pt, b->n, AD,
                                                   sizeof AD, NULL, b->sealed, KEY) != 0 ||
        clen != b->n + DMP_TAG_LEN)
        die("crypto_aead_xchacha20poly1305_ietf_encrypt", b->n, 0);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(b->opened, &mlen, NULL, b->sealed + DMP_NONCE_LEN,
                                                   clen, AD, sizeof AD, b->sealed, KEY) != 0 ||
        mlen != b->n)
        die("crypto_aead_xchacha20poly1305_ietf_decrypt", b->n, 0);
    sink = b->opened[b->n - 1];
}

/* Round trips on each side and across the two libraries, outside the timed loops. */
static void check_interop(const bufs_t *b) {
    size_t n = b->n, len = 0;
    unsigned long long clen = 0, mlen = 0;

    memset(b->opened, 0, n);
    dmp_round(b);
    if (memcmp(b->opened, b->pt, n) != 0) die("dmp round trip: plaintext differs", n, 0);
    memset(b->opened, 0, n);
    sodium_round(b);
    if (memcmp(b->opened, b->pt, n) != 0) die("libsodium round trip: plaintext differs", n, 0);

    /* DMP seals, libsodium opens. */
    int32_t rc = dmp_aead_seal(KEY, AD, sizeof AD, b->pt, n, b->sealed, n + DMP_AEAD_OVERHEAD, &len);
    if (rc != DMP_OK || len != n + DMP_AEAD_OVERHEAD) die("interop: dmp_aead_seal", n, rc);
    memset(b->opened, 0, n);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(b->opened, &mlen, NULL, b->sealed + DMP_NONCE_LEN,
                                                   len - DMP_NONCE_LEN, AD, sizeof AD, b->sealed,
                                                   KEY) != 0 ||
        mlen != n || memcmp(b->opened, b->pt, n) != 0)
        die("interop: libsodium cannot open what DMP sealed", n, 0);

    /* libsodium seals, DMP opens. */
    randombytes_buf(b->sealed, DMP_NONCE_LEN);
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(b->sealed + DMP_NONCE_LEN, &clen, b->pt, n, AD,
                                                   sizeof AD, NULL, b->sealed, KEY) != 0 ||
        clen != n + DMP_TAG_LEN)
        die("interop: crypto_aead_xchacha20poly1305_ietf_encrypt", n, 0);
    memset(b->opened, 0, n);
    len = 0;
    rc = dmp_aead_open(KEY, AD, sizeof AD, b->sealed, DMP_NONCE_LEN + (size_t)clen, b->opened, n, &len);
    if (rc != DMP_OK || len != n || memcmp(b->opened, b->pt, n) != 0)
        die("interop: DMP cannot open what libsodium sealed", n, rc);

    /* And both refuse a tampered tag (the check is real on both sides). */
    b->sealed[DMP_NONCE_LEN + (size_t)clen - 1] ^= 1;
    rc = dmp_aead_open(KEY, AD, sizeof AD, b->sealed, DMP_NONCE_LEN + (size_t)clen, b->opened, n, &len);
    if (rc != DMP_ERR_AUTH_FAILED) die("interop: DMP opened a tampered message", n, rc);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(b->opened, &mlen, NULL, b->sealed + DMP_NONCE_LEN,
                                                   clen, AD, sizeof AD, b->sealed, KEY) == 0)
        die("interop: libsodium opened a tampered message", n, 0);
}

typedef void (*round_fn)(const bufs_t *);

static double run_ns(round_fn f, const bufs_t *b, uint64_t calls) {
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < calls; i++) f(b);
    return (double)(now_ns() - t0);
}

/* Calls per run for ~0.2 s (doubling until one batch takes >= 50 ms; also the warm-up). */
static uint64_t calibrate(round_fn f, const bufs_t *b) {
    uint64_t calls = 1;
    for (;;) {
        double t = run_ns(f, b, calls);
        if (t >= (double)CALIBRATE_NS) {
            double c = (double)calls * TARGET_NS / t;
            return c < 1.0 ? 1 : (uint64_t)c;
        }
        calls *= 2;
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void label(size_t n, char *out, size_t cap, int compact) {
    const char *sep = compact ? "" : " ";
    if (n >= (1u << 20))
        snprintf(out, cap, "%zu%sMiB", n >> 20, sep);
    else if (n >= 1024)
        snprintf(out, cap, "%zu%sKiB", n >> 10, sep);
    else
        snprintf(out, cap, "%zu%sB", n, sep);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--wall") == 0) {
            CLOCK = CLOCK_MONOTONIC;
        } else {
            fprintf(stderr, "usage: %s [--wall]\n", argv[0]);
            return 2;
        }
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "FAILED: sodium_init\n");
        return 1;
    }
    int32_t rc = dmp_random_bytes(KEY, sizeof KEY);
    if (rc != DMP_OK) die("dmp_random_bytes", sizeof KEY, rc);

    const size_t sizes[] = {64, 1024, 16 * 1024, 1u << 20};
    printf("XChaCha20-Poly1305 seal+open from C: dmp_aead_seal/open (libdmp.a, dmp %s) vs libsodium %s\n",
           dmp_version(), sodium_version_string());
    printf("fresh random nonce per seal, 2 bytes of AD, caller buffers; clock %s; median of %d "
           "interleaved runs of ~0.2 s, us per seal+open\n",
           CLOCK == CLOCK_MONOTONIC ? "CLOCK_MONOTONIC" : "CLOCK_PROCESS_CPUTIME_ID", RUNS);
    printf("%8s  %10s  %17s  %12s  %17s  %9s\n", "size", "dmp us", "(min-max)", "libsodium us",
           "(min-max)", "dmp/sodium");

    char ratios[4][160];
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        bufs_t b = {sizes[s], xmalloc(sizes[s]), xmalloc(sizes[s] + DMP_AEAD_OVERHEAD),
                    xmalloc(sizes[s])};
        randombytes_buf(b.pt, b.n);
        check_interop(&b);

        uint64_t dmp_calls = calibrate(dmp_round, &b);
        uint64_t sod_calls = calibrate(sodium_round, &b);
        double d[RUNS], l[RUNS];
        for (int r = 0; r < RUNS; r++) {
            d[r] = run_ns(dmp_round, &b, dmp_calls) / (double)dmp_calls / 1000.0;
            l[r] = run_ns(sodium_round, &b, sod_calls) / (double)sod_calls / 1000.0;
        }
        qsort(d, RUNS, sizeof d[0], cmp_double);
        qsort(l, RUNS, sizeof l[0], cmp_double);
        double dm = d[RUNS / 2], lm = l[RUNS / 2];

        char name[32], compact[32], drange[48], lrange[48];
        label(b.n, name, sizeof name, 0);
        label(b.n, compact, sizeof compact, 1);
        snprintf(drange, sizeof drange, "(%.2f-%.2f)", d[0], d[RUNS - 1]);
        snprintf(lrange, sizeof lrange, "(%.2f-%.2f)", l[0], l[RUNS - 1]);
        printf("%8s  %10.2f  %17s  %12.2f  %17s  %9.2f\n", name, dm, drange, lm, lrange, dm / lm);
        fflush(stdout);
        snprintf(ratios[s], sizeof ratios[s], "ratio: aead_c_%s dmp %.2f us / libsodium %.2f us = %.2f",
                 compact, dm, lm, dm / lm);
        free(b.pt);
        free(b.sealed);
        free(b.opened);
    }
    printf("\n");
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) printf("%s\n", ratios[s]);
    printf("interop: ok (DMP's output opens with libsodium and libsodium's with DMP at every size)\n");
    return 0;
}
