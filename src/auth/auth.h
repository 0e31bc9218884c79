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
 *   iat, exp (iat + EMPORIUM_ACCESS_TOKEN_TTL), jti = 32 random hex digits,
 *   tv = the user's token_version when it was issued (absent: 0).
 * It is sent as "Authorization: Bearer <token>".
 *
 * auth_request_authenticate() is the router's authenticator (the auth
 * module's descriptor, src/auth/module.c, provides it): it checks the algorithm is exactly HS256, the
 * signature, exp (30 s leeway), iat not in the future, iss, aud, then loads
 * the user: a missing or disabled user, a role that no longer matches
 * the token's, or a token_version that moved on (logout, password reset,
 * role change, disable, OAuth link) is a 401. On success it sets req->role and req->user_id.
 */
#ifndef EM_AUTH_AUTH_H
#define EM_AUTH_AUTH_H

#include <bson/bson.h>

#include "auth/auth_config.h"
#include "core/config.h"
#include "core/role.h"
#include "store/store.h"

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
