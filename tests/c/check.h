/*
 * check.h: a tiny assertion helper for the C tests of the DMP ABI.
 *
 *   CHECK(cond)                      counts a check; on failure prints file:line and the condition.
 *   CHECK_STATUS(call, expected)     runs `call` (an int32_t DMP status) once and compares it with
 *                                    `expected`; on failure prints file:line, the call, both codes
 *                                    (number and name) and dmp_last_error_message().
 *   CHECK_OK(call)                   CHECK_STATUS(call, DMP_OK).
 *   CHECK_FAILS(call)                the call must return some negative DMP_ERR_* code.
 *   CHECK_OVERLAP(call, out, other)  the call must be refused with DMP_ERR_INVALID_ARGUMENT because
 *                                    its output `out` overlaps the argument `other`, as
 *                                    dmp_last_error_message() must say.
 *   CHECK_GROUP(what, fn, arg)       runs the checks of fn(arg) (0 = all held); see below.
 *   check_finish(argv[0])            prints "<program>: K checks passed" and returns the exit
 *                                    status for main(): 0, or 1 if any check failed.
 *
 * Everything is static in this header: each test program is a single translation unit.
 */
#ifndef DMP_TESTS_CHECK_H
#define DMP_TESTS_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmp.h"

static unsigned long check_passed_;
static unsigned long check_failed_;

/* The symbolic name of a DMP status code, for messages. */
static inline const char *check_code_name(int32_t code) {
    switch (code) {
    case DMP_OK: return "DMP_OK";
    case DMP_ERR_INTERNAL: return "DMP_ERR_INTERNAL";
    case DMP_ERR_INVALID_ARGUMENT: return "DMP_ERR_INVALID_ARGUMENT";
    case DMP_ERR_NULL_POINTER: return "DMP_ERR_NULL_POINTER";
    case DMP_ERR_BUFFER_TOO_SMALL: return "DMP_ERR_BUFFER_TOO_SMALL";
    case DMP_ERR_BAD_ENVELOPE: return "DMP_ERR_BAD_ENVELOPE";
    case DMP_ERR_UNSUPPORTED_VERSION: return "DMP_ERR_UNSUPPORTED_VERSION";
    case DMP_ERR_WRONG_MESSAGE_TYPE: return "DMP_ERR_WRONG_MESSAGE_TYPE";
    case DMP_ERR_AUTH_FAILED: return "DMP_ERR_AUTH_FAILED";
    case DMP_ERR_DUPLICATE: return "DMP_ERR_DUPLICATE";
    case DMP_ERR_TOO_FAR_AHEAD: return "DMP_ERR_TOO_FAR_AHEAD";
    case DMP_ERR_WRONG_SESSION: return "DMP_ERR_WRONG_SESSION";
    case DMP_ERR_WRONG_STATE: return "DMP_ERR_WRONG_STATE";
    case DMP_ERR_BAD_SIGNATURE: return "DMP_ERR_BAD_SIGNATURE";
    case DMP_ERR_WEAK_KEY: return "DMP_ERR_WEAK_KEY";
    case DMP_ERR_UNKNOWN_PREKEY: return "DMP_ERR_UNKNOWN_PREKEY";
    case DMP_ERR_WRONG_STORAGE_KEY: return "DMP_ERR_WRONG_STORAGE_KEY";
    case DMP_ERR_RANDOM_FAILURE: return "DMP_ERR_RANDOM_FAILURE";
    case DMP_ERR_TOO_LARGE: return "DMP_ERR_TOO_LARGE";
    case DMP_ERR_BAD_STATE: return "DMP_ERR_BAD_STATE";
    case DMP_ERR_UNKNOWN_SENDER: return "DMP_ERR_UNKNOWN_SENDER";
    case DMP_ERR_UNKNOWN_KEY_ID: return "DMP_ERR_UNKNOWN_KEY_ID";
    case DMP_ERR_MEMBER_REMOVED: return "DMP_ERR_MEMBER_REMOVED";
    case DMP_ERR_SUPERSEDED_KEY: return "DMP_ERR_SUPERSEDED_KEY";
    case DMP_ERR_DOWNGRADE: return "DMP_ERR_DOWNGRADE";
    case DMP_ERR_PQ_REQUIRED: return "DMP_ERR_PQ_REQUIRED";
    case DMP_ERR_NO_SESSION: return "DMP_ERR_NO_SESSION";
    case DMP_ERR_STORE_LOCKED: return "DMP_ERR_STORE_LOCKED";
    case DMP_ERR_STORE_FAILED: return "DMP_ERR_STORE_FAILED";
    case DMP_ERR_EXPIRED_BUNDLE: return "DMP_ERR_EXPIRED_BUNDLE";
    default: return "(not a DMP status)";
    }
}

static inline void check_pass_(void) { check_passed_++; }

static inline void check_fail_cond_(const char *file, int line, const char *cond) {
    check_failed_++;
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", file, line, cond);
}

/* Returns 1 if the status matched. */
/*
 * After a failure as expected, dmp_last_error_message() must name the function that failed and
 * the error (e.g. "dmp_session_decrypt: ... (DMP_ERR_BUFFER_TOO_SMALL): ..."). Checked for every
 * CHECK_STATUS whose call is a direct dmp_* call.
 */
static inline void check_last_error_names_(const char *file, int line, const char *call, int32_t code) {
    char fn[96];
    size_t n = 0;
    while (call[n] != '\0' && call[n] != '(' && call[n] != ' ' && n + 1 < sizeof fn) {
        fn[n] = call[n];
        n++;
    }
    fn[n] = '\0';
    if (call[n] != '(' || strncmp(fn, "dmp_", 4) != 0) return;
    const char *m = dmp_last_error_message();
    if (m != NULL && strstr(m, fn) != NULL && strstr(m, check_code_name(code)) != NULL) {
        check_passed_++;
        return;
    }
    check_failed_++;
    fprintf(stderr, "%s:%d: after %s failed with %s, dmp_last_error_message() does not name both: \"%s\"\n",
            file, line, fn, check_code_name(code), m == NULL ? "(NULL)" : m);
}

static inline int check_status_(const char *file, int line, const char *call, int32_t actual,
                                int32_t expected) {
    if (actual == expected) {
        check_passed_++;
        if (expected < 0) check_last_error_names_(file, line, call, expected);
        return 1;
    }
    check_failed_++;
    fprintf(stderr,
            "%s:%d: CHECK_STATUS failed: %s\n"
            "    expected %d (%s), got %d (%s)\n"
            "    dmp_last_error_message(): \"%s\"\n",
            file, line, call, (int)expected, check_code_name(expected), (int)actual,
            check_code_name(actual), dmp_last_error_message());
    return 0;
}

static inline int check_fails_(const char *file, int line, const char *call, int32_t actual) {
    if (actual < 0 && strcmp(check_code_name(actual), "(not a DMP status)") != 0 && actual != DMP_ERR_INTERNAL) {
        check_passed_++;
        return 1;
    }
    check_failed_++;
    fprintf(stderr,
            "%s:%d: CHECK_FAILS failed: %s\n"
            "    expected a DMP_ERR_* refusal (not DMP_ERR_INTERNAL), got %d (%s)\n"
            "    dmp_last_error_message(): \"%s\"\n",
            file, line, call, (int)actual, check_code_name(actual), dmp_last_error_message());
    return 0;
}

static inline void check_overlap_(const char *file, int line, const char *call, int32_t actual, const char *out,
                                  const char *other) {
    if (!check_status_(file, line, call, actual, DMP_ERR_INVALID_ARGUMENT)) return;
    char want[128];
    snprintf(want, sizeof want, "`%s` overlaps `%s`", out, other);
    const char *m = dmp_last_error_message();
    if (m != NULL && strstr(m, want) != NULL) {
        check_passed_++;
        return;
    }
    check_failed_++;
    fprintf(stderr, "%s:%d: after %s, dmp_last_error_message() does not say %s: \"%s\"\n", file, line, call, want,
            m == NULL ? "(NULL)" : m);
}

#define CHECK(cond)                                                                              \
    do {                                                                                         \
        if (cond)                                                                                \
            check_pass_();                                                                       \
        else                                                                                     \
            check_fail_cond_(__FILE__, __LINE__, #cond);                                         \
    } while (0)

#define CHECK_STATUS(call, expected) check_status_(__FILE__, __LINE__, #call, (call), (expected))
#define CHECK_OK(call) CHECK_STATUS(call, DMP_OK)
#define CHECK_FAILS(call) check_fails_(__FILE__, __LINE__, #call, (call))
#define CHECK_OVERLAP(call, out, other) check_overlap_(__FILE__, __LINE__, #call, (call), (out), (other))

/* Ends a test program: prints the tally and gives main()'s return value. */
static inline int check_finish(const char *argv0) {
    const char *name = strrchr(argv0, '/');
    name = name ? name + 1 : argv0;
    if (check_failed_ > 0) {
        printf("%s: %lu checks passed, %lu FAILED\n", name, check_passed_, check_failed_);
        return 1;
    }
    printf("%s: %lu checks passed\n", name, check_passed_);
    return 0;
}

/* ---- a group of checks in a function ---- */

/* Runs fn(arg), a function of checks that returns non-zero if any of them failed (each failed
 * check is already counted), and names the group on failure. */
#define CHECK_GROUP(what, fn, arg)                                                               \
    do {                                                                                         \
        if ((fn)(arg) != 0) fprintf(stderr, "%s:%d: in: %s\n", __FILE__, __LINE__, (what));      \
    } while (0)

/* ---- small helpers shared by the programs ---- */

/* Parses a hex string (even length, no separators) into out; returns the byte count. */
static inline size_t check_unhex(const char *hex, uint8_t *out, size_t cap) {
    size_t n = strlen(hex) / 2;
    if (n > cap) {
        fprintf(stderr, "check_unhex: %zu bytes do not fit in %zu\n", n, cap);
        abort();
    }
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int j = 0; j < 2; j++) {
            char c = hex[2 * i + (size_t)j];
            unsigned d = (c >= '0' && c <= '9')   ? (unsigned)(c - '0')
                         : (c >= 'a' && c <= 'f') ? (unsigned)(c - 'a' + 10)
                         : (c >= 'A' && c <= 'F') ? (unsigned)(c - 'A' + 10)
                                                  : 0xffu;
            if (d == 0xffu) {
                fprintf(stderr, "check_unhex: bad digit in %s\n", hex);
                abort();
            }
            v = v * 16 + d;
        }
        out[i] = (uint8_t)v;
    }
    return n;
}

static inline int check_all_equal(const uint8_t *p, size_t n, uint8_t value) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != value) return 0;
    return 1;
}

/* malloc that aborts on failure (the tests have no use for a NULL). */
static inline void *check_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "out of memory (%zu bytes)\n", n);
        abort();
    }
    return p;
}

#endif /* DMP_TESTS_CHECK_H */
