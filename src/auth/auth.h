/*
 * auth.h - who the caller is.
 *
 * Accounts live in the `users` collection:
 *   { _id: ObjectId, email: string (normalised: trimmed, lower-case; unique),
 *     name: string, role: "customer"|"staff"|"admin", email_verified: bool,
 *     disabled: bool, password_hash: string|null (argon2id, libsodium's
 *     crypto_pwhash_str), created_at: date, updated_at: date }
 *
 * An access token is a JWT, HS256 with EMPORIUM_JWT_SECRET, claims:
 *   iss = EMPORIUM_JWT_ISSUER, aud = EMPORIUM_JWT_AUDIENCE,
 *   sub = the user's _id as 24 hex digits, role = the role name,
 *   iat, exp (iat + EMPORIUM_ACCESS_TOKEN_TTL), jti = 32 random hex digits.
 * It is sent as "Authorization: Bearer <token>".
 *
 * auth_request_authenticate() is the router's authenticator (the auth
 * module's descriptor, src/auth/module.c, provides it): it checks the algorithm is exactly HS256, the
 * signature, exp (30 s leeway), iat not in the future, iss, aud, then loads
 * the user: a missing or disabled user, or a role that no longer matches
 * the token's, is a 401. On success it sets req->role and req->user_id.
 */
#ifndef EM_AUTH_AUTH_H
#define EM_AUTH_AUTH_H

#include <bson/bson.h>

#include "core/config.h"
#include "http/router.h"
#include "store/store.h"

/* The module's configuration (EMPORIUM_JWT_*, token lifetimes, argon2id). */
struct auth_config {
	char jwt_secret[EM_CONFIG_STR_MAX]; /* EMPORIUM_JWT_SECRET, >= 32 bytes */
	char jwt_issuer[128];               /* EMPORIUM_JWT_ISSUER */
	char jwt_audience[128];             /* EMPORIUM_JWT_AUDIENCE */
	int access_ttl_s;                   /* EMPORIUM_ACCESS_TOKEN_TTL */
	int refresh_ttl_s;                  /* EMPORIUM_REFRESH_TOKEN_TTL */
	int argon2_memory_kib;              /* EMPORIUM_ARGON2_MEMORY_KIB */
	int argon2_iterations;              /* EMPORIUM_ARGON2_ITERATIONS */
	char oauth_providers[256];          /* EMPORIUM_OAUTH_PROVIDERS, names */
};

extern const struct em_config_section auth_config_section;

/* The auth module's values in cfg. */
static inline const struct auth_config *auth_config(const struct em_config *cfg)
{
	return em_config_section(cfg, &auth_config_section);
}

bool auth_request_authenticate(struct em_request *req, enum em_role *role,
			       struct em_error *err);

/*
 * Signs the user in: issues an access token and a new refresh-token family,
 * and writes the login response on req: 200 {"access_token", "token_type":
 * "Bearer", "expires_in", "refresh_token"} plus the refresh token in a
 * __Host- cookie (Secure, HttpOnly, SameSite=Strict, Path=/) and a CSRF
 * token. Used by password login and OAuth login alike (src/auth/tokens.c).
 */
bool auth_session_issue(struct em_request *req, const bson_oid_t *user_id,
			struct em_error *err);

/*
 * Whether the account may place orders: it exists, its e-mail address is
 * verified and it is not disabled (*verified). False with err only when
 * the user cannot be read (EM_ERR_NOT_FOUND for an unknown id). The
 * orders module calls this before placing an order (src/auth/users.c).
 */
bool auth_user_is_verified(struct em_store *st, const char *user_id_hex, bool *verified,
			   struct em_error *err);

/* "customer", "staff", "admin" <-> enum em_role; false on anything else. */
bool auth_role_parse(const char *name, enum em_role *role);
const char *auth_role_name(enum em_role role);

#endif
