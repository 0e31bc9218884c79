/*
 * accounts.h - the accounts module's own API (the files in src/auth), below the HTTP
 * routes: passwords, e-mail addresses, one-time codes, refresh tokens,
 * throttles and the users collection. auth.h is the contract other
 * modules use; this header is for the module's own files and its tests.
 *
 * Collections (indexes in src/auth/module.c):
 *   users           see auth.h; plus phone: string|null
 *   refresh_tokens  { hash: hex SHA-256 of the token (unique), user_id: ObjectId,
 *                     family_id: hex, created_at, expires_at (TTL),
 *                     rotated_at: date|null, revoked_at: date|null }
 *   email_codes     { user_id: ObjectId, purpose: "verify"|"reset" (unique pair),
 *                     hash: hex HMAC, attempts: int32, expires_at (TTL, 10 min),
 *                     last_sent_at: date }
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

#include "core/config.h"
#include "core/error.h"
#include "http/request.h"
#include "store/store.h"

#define AUTH_EMAIL_MAX 254
#define AUTH_PASSWORD_MIN 12      /* characters (code points), not bytes */
#define AUTH_PASSWORD_MAX 128
#define AUTH_NAME_MAX 100
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

/* A display name: 1..100 bytes, no control characters. */
bool auth_name_check(const char *field, const char *name, struct em_error *err);

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

/* ---- tokens (tokens.c) ---- */

/*
 * Mints an access token (auth.h) for user_id_hex with role; a new string
 * the caller free()s, or NULL with err set. now is the issue time.
 */
char *auth_access_token_mint(const struct em_config *cfg, const char *user_id_hex,
			     const char *role, int64_t now, struct em_error *err);

/* The CSRF token that goes with a refresh token (an HMAC of it). */
void auth_csrf_token(const struct em_config *cfg, const char *refresh_token, char out[65]);

/*
 * Refresh tokens. _create stores a new token of family_id (NULL: a new
 * family) and writes the token (base64url of 32 random bytes) into out.
 * _rotate takes a presented token: when it is current it is marked
 * rotated and a successor in the same family is written into out, with
 * its user in *user_id; a token already rotated is a reuse, and the whole
 * family is revoked. Failures are EM_ERR_UNAUTHENTICATED.
 */
bool auth_refresh_create(struct em_store *st, const struct em_config *cfg,
			 const bson_oid_t *user_id, const char *family_id, char *out,
			 size_t size, struct em_error *err);
bool auth_refresh_rotate(struct em_store *st, const struct em_config *cfg,
			 const char *token, bson_oid_t *user_id, char *out, size_t size,
			 struct em_error *err);
/* Revokes the family of token (unknown tokens: nothing, true). */
bool auth_refresh_revoke_family(struct em_store *st, const char *token, struct em_error *err);
/* Revokes every refresh token of a user (disable, password change). */
bool auth_refresh_revoke_user(struct em_store *st, const bson_oid_t *user_id,
			      struct em_error *err);

/*
 * Writes the 200 login response (see auth_session_issue in auth.h) for
 * user_id with an already stored refresh token: login and refresh share it.
 */
bool auth_session_respond(struct em_request *req, const bson_oid_t *user_id,
			  const char *refresh, struct em_error *err);
/* Expires both session cookies (logout). */
void auth_session_cookies_clear(struct em_request *req);

/* ---- one-time codes (otp.c) ---- */

/*
 * Makes a new 6-digit code for (user, purpose), replacing any earlier
 * one, unless one was sent less than AUTH_CODE_RESEND_S ago (then
 * *sent = false and nothing changes). The plain code is written to
 * code[7] for the mail; only its HMAC is stored.
 */
bool auth_code_issue(struct em_store *st, const struct em_config *cfg,
		     const bson_oid_t *user_id, const char *purpose, bool *sent,
		     char code[7], struct em_error *err);
/*
 * Checks a code: the current one for (user, purpose), not expired, fewer
 * than AUTH_CODE_MAX_ATTEMPTS wrong tries. A match consumes it (single
 * use); a miss counts an attempt. False with EM_ERR_INVALID, field "code",
 * on any failure.
 */
bool auth_code_check(struct em_store *st, const struct em_config *cfg,
		     const bson_oid_t *user_id, const char *purpose, const char *code,
		     struct em_error *err);
/* The HMAC stored for a code (exposed for the unit tests). */
void auth_code_hash(const struct em_config *cfg, const bson_oid_t *user_id,
		    const char *purpose, const char *code, char out[65]);

/* ---- throttles (throttle.c) ---- */

/*
 * Fixed-window counters in rate_limits. _peek reads key's count (0 when
 * none or expired) and the seconds left in its window; _hit adds one,
 * starting a window of window_s when none is running.
 */
bool auth_throttle_peek(struct em_store *st, const char *key, int *count, int *retry_after,
			struct em_error *err);
bool auth_throttle_hit(struct em_store *st, const char *key, int window_s, int *count,
		       struct em_error *err);
bool auth_throttle_clear(struct em_store *st, const char *key, struct em_error *err);

/* A 429 problem with Retry-After: seconds, written on req (returns true). */
bool auth_respond_rate_limited(struct em_request *req, int seconds, const char *detail);

/* ---- request bodies (auth_routes.c) ---- */

/*
 * req->json must be an object whose every key is one of allowed
 * (NULL-terminated): an unexpected field is refused by name, never
 * ignored, so "role" or "email_verified" cannot ride along (mass
 * assignment).
 */
bool auth_body_check(struct em_request *req, const char *const *allowed, struct em_error *err);

/* em_json_get_string, and no NUL inside (JSON's \u0000 would cut it short). */
bool auth_body_string(json_object *obj, const char *key, size_t min, size_t max,
		      bool required, const char **out, struct em_error *err);

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

/* Parses a 24-hex-digit id; false on anything else. */
bool auth_oid_parse(const char *s, bson_oid_t *out);

int64_t auth_now_ms(void);

#endif
