/*
 * auth_http.h - the accounts module's HTTP helpers, private to its route
 * files (auth_routes.c, me_routes.c, admin_routes.c, oauth_routes.c):
 * writing a session out (JSON body and cookies) and checking request
 * bodies. The domain files (tokens.c, throttle.c, otp.c, users.c) never
 * include it, nor anything from http/.
 */
#ifndef EM_AUTH_AUTH_HTTP_H
#define EM_AUTH_AUTH_HTTP_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "auth/accounts.h"
#include "core/error.h"
#include "http/request.h"
#include "http/router.h"

#define AUTH_REFRESH_COOKIE "__Host-emporium_rt"
#define AUTH_CSRF_COOKIE "__Host-emporium_csrf"

/*
 * Writes the 200 session response for an already stored refresh token:
 * {"access_token", "token_type", "expires_in", "csrf_token"} and, when
 * with_body_token, "refresh_token" too (login, and refresh by a client
 * that sent its token in the body); a client that holds the token in the
 * HttpOnly cookie gets it only in the cookie, so no script can read it.
 * Both cookies are set either way, expiring with the token.
 */
bool auth_session_respond(struct em_request *req, const struct auth_refresh *rt,
			  bool with_body_token, struct em_error *err);
/*
 * auth_session_issue (auth.h) for a sign-in that has checked every factor
 * the account has (the password login); auth_session_issue itself refuses
 * accounts with a second factor.
 */
bool auth_session_issue_passed(struct em_request *req, const bson_oid_t *user_id,
			       struct em_error *err);
/* Expires both session cookies (logout). */
void auth_session_cookies_clear(struct em_request *req);

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

/* The client's address for the per-address throttles ("unknown" if none). */
const char *auth_client_addr(struct em_request *req);

/*
 * The router's authenticator (the auth module's descriptor provides it):
 * the bearer access token checked as auth.h describes; sets req->role and
 * req->user_id. Other modules' routes with optional sign-in call it too.
 */
bool auth_request_authenticate(struct em_request *req, enum em_role *role,
			       struct em_error *err);

/*
 * Signs the user in: issues an access token and a new refresh-token family,
 * and writes the login response on req: 200 {"access_token", "token_type":
 * "Bearer", "expires_in", "refresh_token", "csrf_token"} plus the refresh
 * token in a __Host- cookie (Secure, HttpOnly, SameSite=Strict, Path=/)
 * and the CSRF token in a readable one. Used by password login and OAuth
 * login alike (src/auth/session_http.c). It does not check email_verified:
 * the password login refuses unverified accounts itself, and an OAuth
 * login has the provider's word for the address. It refuses (403) an
 * account with a second factor (TOTP), which only the password login,
 * asking for the code, can sign in.
 */
bool auth_session_issue(struct em_request *req, const bson_oid_t *user_id,
			struct em_error *err);

#endif
