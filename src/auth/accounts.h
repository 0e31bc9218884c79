/*
 * accounts.h - the accounts module's own API (the files in src/auth), below the HTTP
 * routes: passwords, e-mail addresses, one-time codes, refresh tokens,
 * throttles and the users collection. auth.h is the contract other
 * modules use; this header is for the module's own files and its tests.
 *
 * Collections (indexes in src/auth/module.c):
 *   users           see auth.h; plus phone: string|null, token_version: int
 *                     (absent = 0; bumped to kill every access token at once)
 *   refresh_tokens  { hash: hex SHA-256 of the token (unique), user_id: ObjectId,
 *                     family_id: hex, family_created_at: date (the sign-in;
 *                     copied on rotation), created_at, expires_at (TTL; never
 *                     past family_created_at + EMPORIUM_REFRESH_FAMILY_MAX_AGE),
 *                     rotated_at: date|null, revoked_at: date|null }
 *   email_codes     { user_id: ObjectId, purpose: "verify"|"reset" (unique pair),
 *                     hash: hex HMAC, attempts: int32, expires_at (TTL, 10 min),
 *                     last_sent_at: date, job_id: ObjectId (the mail job that
 *                     made it) }
 *   rate_limits     { _id: "<kind>|<subject>", count: int32, expires_at (TTL) }
 *   addresses       { user_id: ObjectId, name, line1, line2, city, region,
 *                     postal_code, country, phone, default_shipping: bool,
 *                     default_billing: bool, created_at, updated_at }
 */
#ifndef EM_AUTH_ACCOUNTS_H
#define EM_AUTH_ACCOUNTS_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <mongoc/mongoc.h>

#include "core/config.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/time.h"
#include "store/store.h"

#define AUTH_EMAIL_MAX 254
#define AUTH_PASSWORD_MIN 12      /* characters (code points), not bytes */
#define AUTH_PASSWORD_MAX 128
#define AUTH_NAME_MAX 100        /* bytes: address lines, cities */
#define AUTH_PERSON_NAME_MAX 64  /* code points: a person's name (it is mailed) */
#define AUTH_CODE_TTL_S 600       /* one-time codes live 10 minutes */
#define AUTH_CODE_MAX_ATTEMPTS 5
#define AUTH_CODE_RESEND_S 60     /* cooldown between two mails of one kind */
#define AUTH_REFRESH_COOKIE "__Host-emporium_rt"
#define AUTH_CSRF_COOKIE "__Host-emporium_csrf"

/* Login throttling (see auth_routes.c for how the counters are used). */
#define AUTH_ACCOUNT_FAIL_MAX 10     /* failures per account per window ... */
#define AUTH_ACCOUNT_FAIL_WINDOW_S 900 /* ... of 15 min: at most 40/hour */
#define AUTH_IP_FAIL_MAX 50          /* failed logins per client address ... */
#define AUTH_IP_FAIL_WINDOW_S 900    /* ... per 15 min */
#define AUTH_IP_MAIL_MAX 30          /* mails caused per client address ... */
#define AUTH_IP_MAIL_WINDOW_S 600    /* ... per 10 min */
#define AUTH_MAIL_TO_WINDOW_S 60     /* one mail of a kind per recipient per minute */
#define AUTH_IP_CODE_MAX 60          /* code checks (verify, reset) per address ... */
#define AUTH_IP_CODE_WINDOW_S 900    /* ... per 15 min */
#define AUTH_CODE_FAIL_BUDGET 10     /* wrong codes per address, across reissues ... */
#define AUTH_CODE_FAIL_WINDOW_S 86400 /* ... per 24 h; then no code works until it ends */

/* The job type of the mails the accounts flows send (mail_job.c). */
#define AUTH_MAIL_JOB "auth_mail"

/* ---- e-mail addresses and passwords (password.c) ---- */

/*
 * Normalises an e-mail address into out (trimmed, lower-cased) and checks
 * it: at most 254 bytes, one '@', a non-empty local part of printable
 * ASCII without spaces, quotes, commas or angle brackets, a domain of
 * letters, digits, '-' and '.' with a dot, no empty labels.
 */
bool auth_email_normalize(const char *in, char *out, size_t size, struct em_error *err);

/*
 * Checks a new password: 12..128 characters (UTF-8 code points), and not
 * in the shipped list of common passwords (data/common-passwords.txt,
 * compared case-insensitively). err names the field "password".
 */
bool auth_password_check(const char *password, struct em_error *err);

/* True when password (any case) is in the common-password list. */
bool auth_password_is_common(const char *password);

/*
 * Makes the dummy hash auth_password_verify() compares unknown accounts
 * against (the auth module's per-process init, after fork()).
 */
bool auth_password_init(const struct em_config *cfg, struct em_error *err);

/* Hashes with argon2id at the configured cost into out (crypto_pwhash_STRBYTES). */
bool auth_password_hash(const struct em_config *cfg, const char *password, char *out,
			size_t size, struct em_error *err);

/*
 * Verifies password against an argon2id string; hash NULL verifies
 * against a dummy hash of the same cost, so an unknown account costs the
 * same time as a wrong password. Returns true only on a match.
 */
bool auth_password_verify(const struct em_config *cfg, const char *hash,
			  const char *password);

/* A free-text field (address lines): 1..100 bytes, no control characters. */
bool auth_name_check(const char *field, const char *name, struct em_error *err);

/*
 * A person's name (registration, PATCH /me). It goes into mails sent to
 * whatever address a registrant typed, so it must not be able to carry a
 * message: 1..64 code points of letters (any script), combining marks,
 * digits, spaces, '\'' and '-'; no '.', ':', '/', '@' (no links, no
 * addresses), no other ASCII punctuation or symbols, no general
 * punctuation, symbol, bidi, invisible or private-use characters, no emoji.
 */
bool auth_person_name_check(const char *field, const char *name, struct em_error *err);

/* A phone number: an optional '+', then 7..20 of digits, spaces, '-', '(', ')'. */
bool auth_phone_check(const char *field, const char *phone, struct em_error *err);

/* ---- secrets (tokens.c) ---- */

/* sodium_init(), once per process (idempotent); false if it fails. */
bool auth_sodium_ready(void);

/* Fills out with n random bytes as unpadded base64url (out: 2n chars). */
void auth_random_token(char *out, size_t size, size_t nbytes);

/* Hex SHA-256 of s into out[65]. */
void auth_sha256_hex(const char *s, char out[65]);

/*
 * Hex HMAC-SHA256 of msg keyed by a key derived from the JWT secret and a
 * purpose label (so one secret serves several independent uses).
 */
void auth_hmac_hex(const struct em_config *cfg, const char *label, const char *msg,
		   char out[65]);

/* ---- tokens and sessions (tokens.c) ---- */

/*
 * Mints an access token (auth.h) for user_id_hex with role and the user's
 * token_version (claim "tv"); a new string the caller free()s, or NULL
 * with err set. now is the issue time.
 */
char *auth_access_token_mint(const struct em_config *cfg, const char *user_id_hex,
			     const char *role, int64_t token_version, int64_t now,
			     struct em_error *err);

/* The CSRF token that goes with a refresh token (an HMAC of it). */
void auth_csrf_token(const struct em_config *cfg, const char *refresh_token, char out[65]);

/* A refresh token just stored: the token itself, its user and its end. */
struct auth_refresh {
	char token[64];     /* base64url of 32 random bytes */
	bson_oid_t user_id;
	int64_t expires_ms; /* Unix ms */
};

/*
 * Refresh tokens. _create stores a new token in a new family for user_id.
 * _rotate takes a presented token: when it is current (not rotated, not
 * revoked, not expired, its family younger than
 * EMPORIUM_REFRESH_FAMILY_MAX_AGE) it is marked rotated and a successor in
 * the same family is stored in out, expiring no later than the family's
 * absolute end (rotation never extends a family); a token already rotated
 * is a reuse, and the whole family is revoked. Failures are
 * EM_ERR_UNAUTHENTICATED. out->token is secret: sodium_memzero it.
 */
bool auth_refresh_create(struct em_store *st, const struct em_config *cfg,
			 const bson_oid_t *user_id, struct auth_refresh *out,
			 struct em_error *err);
bool auth_refresh_rotate(struct em_store *st, const struct em_config *cfg,
			 const char *token, struct auth_refresh *out, struct em_error *err);
/*
 * Signs the session of token out: revokes its family and bumps its user's
 * token_version (every access token of the user dies at once; the user's
 * other devices refresh). Unknown tokens: nothing, true.
 */
bool auth_refresh_revoke_family(struct em_store *st, const char *token, struct em_error *err);
/* Revokes every refresh token of a user (session may be NULL). */
bool auth_refresh_revoke_user(struct em_store *st, mongoc_client_session_t *session,
			      const bson_oid_t *user_id, struct em_error *err);

/*
 * Bumps users.token_version, so every access token already issued to the
 * user is refused by the authenticator at once (session may be NULL).
 */
bool auth_user_token_version_bump(struct em_store *st, mongoc_client_session_t *session,
				  const bson_oid_t *user_id, struct em_error *err);

/*
 * Ends every session of a user: revokes all refresh tokens and bumps the
 * token_version (access tokens die at once). For password reset, disable,
 * role change, and OAuth linking of an account whose password holder was
 * never proven (src/auth/oauth.c). session may be NULL, or the session of
 * a store_txn_run() callback.
 */
bool auth_user_sessions_revoke(struct em_store *st, mongoc_client_session_t *session,
			       const bson_oid_t *user_id, struct em_error *err);

/* What a sign-in hands out besides the refresh token. */
struct auth_session {
	char *access;        /* the access token (free()) */
	char csrf[65];       /* the CSRF token of the refresh token */
	int expires_in;      /* the access token's lifetime, s */
	int refresh_max_age; /* seconds until the refresh token expires */
};

/*
 * Loads the user of rt (it must exist and not be disabled: else
 * EM_ERR_UNAUTHENTICATED) and mints its access token with the current
 * role and token_version. auth_session_release() frees out.
 */
bool auth_session_make(struct em_store *st, const struct em_config *cfg,
		       const struct auth_refresh *rt, struct auth_session *out,
		       struct em_error *err);
void auth_session_release(struct auth_session *s);

/* ---- one-time codes (otp.c) ---- */

/*
 * Makes a new 6-digit code for (user, purpose), replacing any earlier
 * one, unless another job sent one less than AUTH_CODE_RESEND_S ago (then
 * *sent = false and nothing changes). job_id is the mail job asking: its
 * own retry may replace its own code at once (the plain code of a failed
 * attempt is gone). The plain code is written to code[7] for the mail
 * only; only its HMAC is stored. A reissue starts at 0 attempts, but the
 * wrong codes count against the address's budget (auth_code_check).
 */
bool auth_code_issue(struct em_store *st, const struct em_config *cfg,
		     const bson_oid_t *user_id, const char *purpose, const bson_oid_t *job_id,
		     bool *sent, char code[7], struct em_error *err);
/*
 * Checks a code for the account of email (user_id NULL: no such account,
 * refused alike). Counting comes before comparing and is atomic: a
 * findAndModify takes one of the code's AUTH_CODE_MAX_ATTEMPTS tries
 * (attempts < N, then +1), so parallel guesses compare at most N times.
 * A wrong code also costs one of the address's budget
 * (AUTH_CODE_FAIL_BUDGET per AUTH_CODE_FAIL_WINDOW_S, across reissues): a
 * spent budget deletes the account's live codes and refuses every code
 * until the window ends. A match consumes the code (single use). Every
 * refusal is the same EM_ERR_INVALID, field "code".
 */
bool auth_code_check(struct em_store *st, const struct em_config *cfg, const char *email,
		     const bson_oid_t *user_id, const char *purpose, const char *code,
		     struct em_error *err);
/* The HMAC stored for a code (exposed for the unit tests). */
void auth_code_hash(const struct em_config *cfg, const bson_oid_t *user_id,
		    const char *purpose, const char *code, char out[65]);

/* ---- second factor for staff and admins (totp.c) ---- */

#define AUTH_TOTP_SECRET_BYTES 32
#define AUTH_RECOVERY_CODES 10
#define AUTH_RECOVERY_CODE_LEN 11 /* xxxxx-xxxxx */

/* RFC 6238 with HMAC-SHA-256: the 6-digit code of a 30 s step. */
uint32_t auth_totp_code(const unsigned char *secret, size_t len, uint64_t step);
/* RFC 4648 base32 without padding into out (NUL-terminated, truncated). */
void auth_base32(const unsigned char *in, size_t len, char *out, size_t size);
/* Encrypts / decrypts a secret for users.mfa (key from EMPORIUM_JWT_SECRET). */
bool auth_totp_seal(const struct em_config *cfg, const unsigned char secret[AUTH_TOTP_SECRET_BYTES],
		    char *out, size_t size);
bool auth_totp_open(const struct em_config *cfg, const char *sealed,
		    unsigned char secret[AUTH_TOTP_SECRET_BYTES]);
/*
 * Whether code is the code of the step of now or one either side,
 * compared in constant time; *step_out is the step it matched.
 */
bool auth_totp_match(const unsigned char *secret, size_t len, const char *code, int64_t now,
		     int64_t *step_out);
/* A new recovery code (xxxxx-xxxxx) and the HMAC stored for one. */
void auth_recovery_code_new(char out[AUTH_RECOVERY_CODE_LEN + 1]);
void auth_recovery_hash(const struct em_config *cfg, const bson_oid_t *user_id,
			const char *code, char out[65]);
/* users.mfa.enabled */
bool auth_mfa_enabled(const bson_t *user);
/*
 * The sign-in's second factor for user (mfa enabled): a TOTP code (its
 * step recorded, so it cannot be replayed) or else a recovery code (used
 * up). *passed says whether it was right; false only on a database error.
 */
bool auth_mfa_check(struct em_store *st, const struct em_config *cfg, const bson_t *user,
		    const char *totp, const char *recovery, bool *passed, struct em_error *err);

/* ---- throttles (throttle.c) ---- */

/*
 * Fixed-window counters in rate_limits. _peek reads key's count (0 when
 * none or expired) and the seconds left in its window; _hit adds one,
 * atomically, starting a window of window_s when none is running, and
 * gives the new count and the seconds left (retry_after may be NULL);
 * _give takes one back (a request that turned out not to be a failure).
 */
bool auth_throttle_peek(struct em_store *st, const char *key, int *count, int *retry_after,
			struct em_error *err);
bool auth_throttle_hit(struct em_store *st, const char *key, int window_s, int *count,
		       int *retry_after, struct em_error *err);
bool auth_throttle_give(struct em_store *st, const char *key, struct em_error *err);
bool auth_throttle_clear(struct em_store *st, const char *key, struct em_error *err);

/*
 * Count first, then decide: hits key and fails with EM_ERR_RATE_LIMITED
 * (message detail, retry_after_s the rest of the window) when the count
 * is now over max. Because the count is taken before the work it guards,
 * parallel requests cannot all pass a check made before any of them
 * counted: at most max get through per window.
 */
bool auth_throttle_take(struct em_store *st, const char *key, int max, int window_s,
			const char *detail, struct em_error *err);

/* ---- users (users.c) ---- */

/* Loads a user by _id or by normalised email; *found false when none. */
bool auth_user_find_by_id(struct em_store *st, const bson_oid_t *id, bson_t *out,
			  bool *found, struct em_error *err);
bool auth_user_find_by_email(struct em_store *st, const char *email, bson_t *out,
			     bool *found, struct em_error *err);

/* Small readers of a user document; NULL / false when absent. */
const char *auth_doc_utf8(const bson_t *doc, const char *key);
bool auth_doc_bool(const bson_t *doc, const char *key);
bool auth_doc_oid(const bson_t *doc, const char *key, bson_oid_t *out);

/* The user as the API shows it: id, email, name, phone, role, ... */
json_object *auth_user_json(const bson_t *doc);

#endif
