#define _POSIX_C_SOURCE 200809L /* fork, alarm, waitpid (check.h) */
/*
 * test_sizes.c: every size macro against its function, the versions, dmp_strerror and
 * dmp_last_error_message.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "dmp.h"

#define CHECK_SIZE(macro, call)                                                                  \
    do {                                                                                         \
        uint64_t from_macro_ = (uint64_t)(macro), from_call_ = (uint64_t)(call);                 \
        CHECK(from_macro_ == from_call_);                                                        \
        if (from_macro_ != from_call_)                                                           \
            fprintf(stderr, "    %s = %llu but %s = %llu\n", #macro,                             \
                    (unsigned long long)from_macro_, #call, (unsigned long long)from_call_);     \
    } while (0)

static void test_size_macros(void) {
    CHECK_SIZE(DMP_KEY_LEN, dmp_key_len());
    CHECK_SIZE(DMP_PUBLIC_KEY_LEN, dmp_public_key_len());
    CHECK_SIZE(DMP_SECRET_KEY_LEN, dmp_secret_key_len());
    CHECK_SIZE(DMP_SIGNATURE_LEN, dmp_signature_len());
    CHECK_SIZE(DMP_SHARED_SECRET_LEN, dmp_shared_secret_len());
    CHECK_SIZE(DMP_NONCE_LEN, dmp_nonce_len());
    CHECK_SIZE(DMP_TAG_LEN, dmp_tag_len());
    CHECK_SIZE(DMP_AEAD_OVERHEAD, dmp_aead_overhead());
    CHECK_SIZE(DMP_SESSION_ID_LEN, dmp_session_id_len());
    CHECK_SIZE(DMP_FINGERPRINT_LEN, dmp_fingerprint_len());
    CHECK_SIZE(DMP_MAX_PLAINTEXT_LEN, dmp_max_plaintext_len());
    CHECK_SIZE(DMP_MAX_ENVELOPE_LEN, dmp_max_envelope_len());
    CHECK_SIZE(DMP_BUNDLE_LEN, dmp_bundle_len());
    CHECK_SIZE(DMP_BUNDLE_MAX_LEN, dmp_bundle_max_len());
    CHECK_SIZE(DMP_MESSAGE_HEADER_LEN, dmp_message_header_len());
    CHECK_SIZE(DMP_PREKEY_MESSAGE_HEADER_LEN, dmp_prekey_message_header_len());
    CHECK_SIZE(DMP_HKDF_MAX_LEN, dmp_hkdf_max_len());
    CHECK_SIZE(DMP_DEFAULT_MAX_FORWARD_JUMP, dmp_default_max_forward_jump());
    CHECK_SIZE(DMP_DEFAULT_MAX_SKIPPED_KEYS, dmp_default_max_skipped_keys());
    CHECK_SIZE(DMP_MAX_FORWARD_JUMP_CEILING, dmp_max_forward_jump_ceiling());
    CHECK_SIZE(DMP_MAX_SKIPPED_KEYS_CEILING, dmp_max_skipped_keys_ceiling());
    CHECK_SIZE(DMP_MAX_ONE_TIME_PREKEYS, dmp_max_one_time_prekeys());
    CHECK_SIZE(DMP_GROUP_ID_LEN, dmp_group_id_len());
    CHECK_SIZE(DMP_DISTRIBUTION_LEN, dmp_distribution_len());
    CHECK_SIZE(DMP_GROUP_MESSAGE_HEADER_LEN, dmp_group_message_header_len());
    CHECK_SIZE(DMP_MAX_GROUP_MEMBERS, dmp_max_group_members());
    CHECK_SIZE(DMP_GROUP_KEY_GRACE_MESSAGES, dmp_group_key_grace_messages());
    CHECK_SIZE(DMP_HYBRID_BUNDLE_LEN, dmp_hybrid_bundle_len());
    CHECK_SIZE(DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN, dmp_hybrid_prekey_message_header_len());
    CHECK_SIZE(DMP_KEM_PUBLIC_KEY_LEN, dmp_kem_public_key_len());
    CHECK_SIZE(DMP_KEM_CIPHERTEXT_LEN, dmp_kem_ciphertext_len());

    /* The relations the header's comments state. */
    CHECK(DMP_AEAD_OVERHEAD == DMP_NONCE_LEN + DMP_TAG_LEN);
    CHECK(DMP_HKDF_MAX_LEN == 255 * 32);
    CHECK(DMP_MAX_PLAINTEXT_LEN == 1024 * 1024);
    /* Bundles: classical DMP_BUNDLE_LEN (+ 36 with a one-time prekey), hybrid
     * DMP_HYBRID_BUNDLE_LEN (carrying an ML-KEM key), DMP_BUNDLE_MAX_LEN with a one-time prekey. */
    CHECK(DMP_BUNDLE_MAX_LEN == DMP_HYBRID_BUNDLE_LEN + 4 + DMP_PUBLIC_KEY_LEN);
    CHECK(DMP_HYBRID_BUNDLE_LEN > DMP_BUNDLE_LEN + DMP_KEM_PUBLIC_KEY_LEN);
    CHECK(DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN > DMP_PREKEY_MESSAGE_HEADER_LEN + DMP_KEM_CIPHERTEXT_LEN);
    CHECK(DMP_KEM_PUBLIC_KEY_LEN == 1184 && DMP_KEM_CIPHERTEXT_LEN == 1088); /* ML-KEM-768 */
    CHECK(DMP_GROUP_ID_LEN == 32);
    CHECK(DMP_GROUP_MESSAGE_HEADER_LEN == 2 + DMP_GROUP_ID_LEN + DMP_PUBLIC_KEY_LEN + 4 + 4);
    CHECK(DMP_FINGERPRINT_LEN == 8 * 4 + 7);
    CHECK(DMP_PREKEY_MESSAGE_HEADER_LEN > DMP_MESSAGE_HEADER_LEN);
    /* Session message headers (counters below 128): version, type, session id, ratchet key, two
     * one-byte varint counters; a first message adds initiator id, ephemeral key, signed prekey
     * id, flags and one-time prekey id; a hybrid one the ML-KEM block (kind, id, ciphertext). */
    CHECK(DMP_SESSION_ID_LEN == 8);
    CHECK(DMP_MESSAGE_HEADER_LEN == 2 + DMP_SESSION_ID_LEN + DMP_PUBLIC_KEY_LEN + 2);
    CHECK(DMP_PREKEY_MESSAGE_HEADER_LEN == DMP_MESSAGE_HEADER_LEN + 2 * DMP_PUBLIC_KEY_LEN + 4 + 1 + 4);
    CHECK(DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN == DMP_PREKEY_MESSAGE_HEADER_LEN + 1 + 4 + DMP_KEM_CIPHERTEXT_LEN);
    CHECK(DMP_MESSAGE_HEADER_LEN == 44 && DMP_PREKEY_MESSAGE_HEADER_LEN == 117 &&
          DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN == 1210);
    /* A session message sends no nonce: header, framing byte, ciphertext, tag = 61 + plaintext. */
    CHECK(DMP_MESSAGE_HEADER_LEN + DMP_TAG_LEN + 1 == 61);
    /* The largest unpadded message fits in the largest envelope, first messages included, even
     * with the longest counters (8 more header bytes). */
    CHECK(DMP_MAX_ENVELOPE_LEN >=
          DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN + 8 + DMP_TAG_LEN + DMP_MAX_PLAINTEXT_LEN + 1);
    CHECK(DMP_MAX_ENVELOPE_LEN >=
          DMP_GROUP_MESSAGE_HEADER_LEN + DMP_MAX_PLAINTEXT_LEN + 1 + DMP_TAG_LEN + DMP_SIGNATURE_LEN);
    CHECK(DMP_DEFAULT_MAX_FORWARD_JUMP <= DMP_MAX_FORWARD_JUMP_CEILING);
    CHECK(DMP_DEFAULT_MAX_SKIPPED_KEYS <= DMP_MAX_SKIPPED_KEYS_CEILING);
    CHECK(DMP_DEFAULT_MAX_FORWARD_JUMP >= 1 && DMP_DEFAULT_MAX_SKIPPED_KEYS >= 1);

    /* States and padding modes are distinct. */
    CHECK(DMP_SESSION_DORMANT != DMP_SESSION_INITIATING && DMP_SESSION_INITIATING != DMP_SESSION_ACTIVE &&
          DMP_SESSION_ACTIVE != DMP_SESSION_CLOSED && DMP_SESSION_DORMANT != DMP_SESSION_CLOSED);
    CHECK(DMP_PADDING_NONE != DMP_PADDING_BUCKETS);
    CHECK(DMP_SUITE_CLASSICAL != DMP_SUITE_HYBRID);
    CHECK(DMP_PQ_REQUIRE_HYBRID != DMP_PQ_ALLOW_CLASSICAL);
    /* Agent flags are distinct bits; event kinds are distinct. */
    CHECK((DMP_AGENT_RETAIN_EVENTS & DMP_AGENT_REFUSE_GROUP_INVITES) == 0 &&
          (DMP_AGENT_RETAIN_EVENTS & DMP_AGENT_ALLOW_CLASSICAL) == 0 &&
          (DMP_AGENT_REFUSE_GROUP_INVITES & DMP_AGENT_ALLOW_CLASSICAL) == 0);
    CHECK(DMP_AGENT_RETAIN_EVENTS != 0 && DMP_AGENT_REFUSE_GROUP_INVITES != 0 && DMP_AGENT_ALLOW_CLASSICAL != 0);
    const int32_t kinds[] = {DMP_EVENT_MESSAGE, DMP_EVENT_GROUP_MESSAGE, DMP_EVENT_DISTRIBUTION_CONSUMED,
                             DMP_EVENT_SESSION_ESTABLISHED};
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < i; j++) CHECK(kinds[i] != kinds[j]);
}

static void test_versions(void) {
    CHECK(DMP_ABI_VERSION == dmp_abi_version());
    const char *v = dmp_version();
    CHECK(v != NULL);
    if (v != NULL) {
        CHECK(v[0] != '\0');
        CHECK(strchr(v, '.') != NULL); /* "major.minor.patch" */
        CHECK(v[0] >= '0' && v[0] <= '9');
        CHECK(dmp_version() == v || strcmp(dmp_version(), v) == 0); /* static, stable */
    }
}

static const int32_t all_errors[] = {
    DMP_ERR_INTERNAL,        DMP_ERR_INVALID_ARGUMENT, DMP_ERR_NULL_POINTER,
    DMP_ERR_BUFFER_TOO_SMALL, DMP_ERR_BAD_ENVELOPE,   DMP_ERR_UNSUPPORTED_VERSION,
    DMP_ERR_WRONG_MESSAGE_TYPE, DMP_ERR_AUTH_FAILED,  DMP_ERR_DUPLICATE,
    DMP_ERR_TOO_FAR_AHEAD,   DMP_ERR_WRONG_SESSION,    DMP_ERR_WRONG_STATE,
    DMP_ERR_BAD_SIGNATURE,   DMP_ERR_WEAK_KEY,         DMP_ERR_UNKNOWN_PREKEY,
    DMP_ERR_WRONG_STORAGE_KEY, DMP_ERR_RANDOM_FAILURE, DMP_ERR_TOO_LARGE,
    DMP_ERR_BAD_STATE,       DMP_ERR_UNKNOWN_SENDER,   DMP_ERR_UNKNOWN_KEY_ID,
    DMP_ERR_MEMBER_REMOVED,  DMP_ERR_SUPERSEDED_KEY,   DMP_ERR_DOWNGRADE,
    DMP_ERR_PQ_REQUIRED,     DMP_ERR_NO_SESSION,       DMP_ERR_STORE_LOCKED,
    DMP_ERR_STORE_FAILED,
    DMP_ERR_EXPIRED_BUNDLE,
};
#define N_ERRORS (sizeof all_errors / sizeof all_errors[0])

static void test_strerror(void) {
    CHECK(DMP_OK == 0);
    const char *msgs[N_ERRORS];
    for (size_t i = 0; i < N_ERRORS; i++) {
        CHECK(all_errors[i] < 0);
        for (size_t j = 0; j < i; j++) CHECK(all_errors[i] != all_errors[j]);
        msgs[i] = dmp_strerror(all_errors[i]);
        CHECK(msgs[i] != NULL);
        if (msgs[i] == NULL) continue;
        CHECK(msgs[i][0] != '\0');
    }
    for (size_t i = 0; i < N_ERRORS; i++)
        for (size_t j = 0; j < i; j++)
            if (msgs[i] != NULL && msgs[j] != NULL) {
                CHECK(strcmp(msgs[i], msgs[j]) != 0);
                if (strcmp(msgs[i], msgs[j]) == 0)
                    fprintf(stderr, "    %s and %s share the message \"%s\"\n",
                            check_code_name(all_errors[i]), check_code_name(all_errors[j]), msgs[i]);
            }

    const int32_t others[] = {0, 1, -1000, -20, 19, INT32_MIN, INT32_MAX, INT32_MIN + 1};
    const char *success = dmp_strerror(DMP_OK);
    const char *unknown = dmp_strerror(-1000);
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        const char *s = dmp_strerror(others[i]);
        CHECK(s != NULL);
        if (s != NULL) CHECK(s[0] != '\0');
    }
    /* Neither success nor an unknown code is described as one of the errors. */
    for (size_t i = 0; i < N_ERRORS; i++) {
        if (msgs[i] == NULL) continue;
        if (success != NULL) CHECK(strcmp(success, msgs[i]) != 0);
        if (unknown != NULL) CHECK(strcmp(unknown, msgs[i]) != 0);
    }
    /* Every code the library describes is in the list above (a new code needs a test). */
    for (int32_t code = -1; code >= -512; code--) {
        const char *m = dmp_strerror(code);
        if (m == NULL || unknown == NULL || strcmp(m, unknown) == 0) continue;
        int listed = 0;
        for (size_t i = 0; i < N_ERRORS; i++) listed |= all_errors[i] == code;
        CHECK(listed);
        if (!listed) fprintf(stderr, "    dmp_strerror(%d) = \"%s\" is not a DMP_ERR_* code this test knows\n", (int)code, m);
    }
    /* The strings are static: asking twice gives the same text. */
    for (size_t i = 0; i < N_ERRORS; i++)
        if (msgs[i] != NULL) CHECK(strcmp(dmp_strerror(all_errors[i]), msgs[i]) == 0);
}

/* One failing call per function family, and the name the message must mention. */
static void expect_mentions(int32_t rc, int32_t expected, const char *fn, const char *code_name) {
    CHECK(rc == expected);
    const char *m = dmp_last_error_message();
    CHECK(m != NULL);
    if (m == NULL) return;
    CHECK(strstr(m, fn) != NULL);
    CHECK(strstr(m, code_name) != NULL);
    if (strstr(m, fn) == NULL || strstr(m, code_name) == NULL)
        fprintf(stderr, "    after a failing %s: dmp_last_error_message() = \"%s\"\n", fn, m);
}

static void *fresh_thread_message(void *arg) {
    const char **out = arg;
    const char *m = dmp_last_error_message();
    /* Copy: the pointer is only valid on this thread. */
    *out = (m != NULL && m[0] == '\0') ? "empty" : (m == NULL ? "NULL" : "not empty");
    uint8_t buf[4];
    size_t len = 0;
    /* A failure on this thread does not show on the main thread. */
    int32_t rc = dmp_aead_open(NULL, NULL, 0, NULL, 0, buf, sizeof buf, &len);
    (void)rc;
    return NULL;
}

static void test_last_error_message(void) {
    const char *m = dmp_last_error_message();
    CHECK(m != NULL);
    if (m != NULL) CHECK(m[0] == '\0'); /* nothing failed yet on this thread */

    uint8_t buf[64] = {0}, in[64] = {0};
    size_t len = 0;
    uint8_t key[32] = {0};

    expect_mentions(dmp_random_bytes(NULL, 1), DMP_ERR_NULL_POINTER, "dmp_random_bytes",
                    "DMP_ERR_NULL_POINTER");
    expect_mentions(dmp_memzero(NULL, 3), DMP_ERR_NULL_POINTER, "dmp_memzero", "DMP_ERR_NULL_POINTER");
    expect_mentions(dmp_aead_seal(key, NULL, 0, in, 8, buf, 4, &len), DMP_ERR_BUFFER_TOO_SMALL,
                    "dmp_aead_seal", "DMP_ERR_BUFFER_TOO_SMALL");
    CHECK(len == 8 + DMP_AEAD_OVERHEAD);
    expect_mentions(dmp_aead_open(key, NULL, 0, in, 10, buf, sizeof buf, &len), DMP_ERR_AUTH_FAILED,
                    "dmp_aead_open", "DMP_ERR_AUTH_FAILED");
    expect_mentions(dmp_hkdf_sha256(NULL, 0, NULL, 0, NULL, 0, buf, DMP_HKDF_MAX_LEN + 1),
                    DMP_ERR_TOO_LARGE, "dmp_hkdf_sha256", "DMP_ERR_TOO_LARGE");
    expect_mentions(dmp_x25519(key, key, buf), DMP_ERR_WEAK_KEY, "dmp_x25519", "DMP_ERR_WEAK_KEY");
    expect_mentions(dmp_identity_generate(NULL), DMP_ERR_NULL_POINTER, "dmp_identity_generate",
                    "DMP_ERR_NULL_POINTER");
    expect_mentions(dmp_session_state(NULL, NULL), DMP_ERR_NULL_POINTER, "dmp_session_state",
                    "DMP_ERR_NULL_POINTER");
    expect_mentions(dmp_bundle_verify(in, 3, buf), DMP_ERR_UNSUPPORTED_VERSION, "dmp_bundle_verify",
                    "DMP_ERR_UNSUPPORTED_VERSION");
    expect_mentions(dmp_session_set_limits(NULL, 0, 1), DMP_ERR_INVALID_ARGUMENT,
                    "dmp_session_set_limits", "DMP_ERR_INVALID_ARGUMENT");

    /* The message is kept until the next failure: a success does not clear it. */
    char saved[512];
    snprintf(saved, sizeof saved, "%s", dmp_last_error_message());
    CHECK_OK(dmp_random_bytes(buf, 16));
    CHECK(strcmp(dmp_last_error_message(), saved) == 0);

    /* The detail is per thread. */
    const char *seen = NULL;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, fresh_thread_message, &seen) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK(seen != NULL && strcmp(seen, "empty") == 0);
    CHECK(strcmp(dmp_last_error_message(), saved) == 0);
}

int main(int argc, char **argv) {
    (void)argc;
    test_last_error_message(); /* first: it checks the empty message before any failure */
    test_size_macros();
    test_versions();
    test_strerror();
    return check_finish(argv[0]);
}
