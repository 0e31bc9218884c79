/*
 * authenticate.c - the router's authenticator: Bearer access token ->
 * the caller's role and user id (see auth.h for the token's contract).
 *
 * libjwt 1.10 checks only the signature (PITFALLS.md): the algorithm and
 * every claim are checked here, and the account is loaded so a disabled
 * user or a changed role takes effect at once, not when the token expires.
 */
#include <errno.h>
#include <jwt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "app/app.h"
#include "auth/auth.h"
#include "auth/auth_http.h"
#include "core/log.h"

#define AUTH_LEEWAY_S 30
#define AUTH_TOKEN_MAX 4096

static const char *const auth_role_names[] = {
	[EM_ROLE_PUBLIC] = "public",
	[EM_ROLE_CUSTOMER] = "customer",
	[EM_ROLE_STAFF] = "staff",
	[EM_ROLE_ADMIN] = "admin",
};

bool auth_role_parse(const char *name, enum em_role *role)
{
	for (int r = EM_ROLE_CUSTOMER; r <= EM_ROLE_ADMIN; r++) {
		if (name && strcmp(name, auth_role_names[r]) == 0) {
			*role = (enum em_role)r;
			return true;
		}
	}
	return false;
}

const char *auth_role_name(enum em_role role)
{
	if ((int)role < EM_ROLE_PUBLIC || (int)role > EM_ROLE_ADMIN)
		return "unknown";
	return auth_role_names[role];
}

/* Every failure looks the same to the caller; the log says which check. */
static bool auth_invalid(struct em_request *req, struct em_error *err, const char *why)
{
	em_info("access token refused: %s", why);
	em_response_header(req, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
	em_error_set(err, EM_ERR_UNAUTHENTICATED, NULL, "the access token is invalid or expired");
	return false;
}

/*
 * Loads the user; checks it exists, is enabled, has the token's role and
 * the token's token_version (tv): a bump (logout, password reset, role
 * change, disable, OAuth link) ends every earlier access token now, not
 * when it expires. An absent field or claim is version 0.
 */
static bool auth_user_check(struct em_request *req, const char *sub, enum em_role role,
			    int64_t tv, enum em_role *effective, struct em_error *err)
{
	mongoc_collection_t *coll = NULL;
	mongoc_cursor_t *cur = NULL;
	bson_t filter = BSON_INITIALIZER, *opts = NULL;
	const bson_t *doc;
	bson_error_t berr;
	bson_oid_t oid;
	bson_iter_t it, mit;
	enum em_role db_role;
	int64_t db_tv = 0;
	bool ok = false;

	if (!bson_oid_is_valid(sub, strlen(sub)) || strlen(sub) != 24)
		return auth_invalid(req, err, "sub is not a user id");
	bson_oid_init_from_string(&oid, sub);
	BSON_APPEND_OID(&filter, "_id", &oid);
	opts = BCON_NEW("projection", "{", "role", BCON_INT32(1), "disabled", BCON_INT32(1),
			"token_version", BCON_INT32(1), "mfa.enabled", BCON_INT32(1), "}", "limit",
			BCON_INT64(1));
	coll = store_collection(&req->app->store, "users");
	cur = mongoc_collection_find_with_opts(coll, &filter, opts, NULL);
	if (!mongoc_cursor_next(cur, &doc)) {
		if (mongoc_cursor_error(cur, &berr))
			store_error_set(err, &berr, "load user");
		else
			auth_invalid(req, err, "no such user");
		goto done;
	}
	if (bson_iter_init_find(&it, doc, "disabled") && BSON_ITER_HOLDS_BOOL(&it) &&
	    bson_iter_bool(&it)) {
		auth_invalid(req, err, "user disabled");
		goto done;
	}
	if (!bson_iter_init_find(&it, doc, "role") || !BSON_ITER_HOLDS_UTF8(&it) ||
	    !auth_role_parse(bson_iter_utf8(&it, NULL), &db_role) || db_role != role) {
		auth_invalid(req, err, "role changed since the token was issued");
		goto done;
	}
	if (bson_iter_init_find(&it, doc, "token_version") && BSON_ITER_HOLDS_NUMBER(&it))
		db_tv = bson_iter_as_int64(&it);
	if (db_tv != tv) {
		auth_invalid(req, err, "token_version moved on (signed out or changed)");
		goto done;
	}
	/* EMPORIUM_ADMIN_MFA=required: an admin without a second factor acts
	 * as a customer, which is enough to enrol one (/me/mfa/totp). */
	if (role == EM_ROLE_ADMIN &&
	    strcmp(auth_config(&req->app->cfg)->admin_mfa, "required") == 0 &&
	    !(bson_iter_init_find(&it, doc, "mfa") && BSON_ITER_HOLDS_DOCUMENT(&it) &&
	      bson_iter_recurse(&it, &mit) && bson_iter_find(&mit, "enabled") &&
	      BSON_ITER_HOLDS_BOOL(&mit) && bson_iter_bool(&mit))) {
		em_info("admin without a second factor: held at customer until it enrols");
		*effective = EM_ROLE_CUSTOMER;
	}
	ok = true;
done:
	if (cur)
		mongoc_cursor_destroy(cur);
	if (coll)
		mongoc_collection_destroy(coll);
	if (opts)
		bson_destroy(opts);
	bson_destroy(&filter);
	return ok;
}

bool auth_request_authenticate(struct em_request *req, enum em_role *role,
			       struct em_error *err)
{
	const struct em_config *cfg = &req->app->cfg;
	const char *h = em_request_header(req, "Authorization"), *tok, *s;
	jwt_t *jwt = NULL;
	time_t now = time(NULL);
	long iat, exp, tv;
	char sub[32];
	bool ok = false;

	if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
		em_response_header(req, "WWW-Authenticate", "Bearer");
		em_error_set(err, EM_ERR_UNAUTHENTICATED, NULL,
			     "this resource needs an access token (Authorization: Bearer ...)");
		return false;
	}
	tok = h + 7;
	while (*tok == ' ')
		tok++;
	if (!*tok || strlen(tok) > AUTH_TOKEN_MAX)
		return auth_invalid(req, err, "empty or oversized token");
	if (!auth_config(cfg)->jwt_secret[0])
		return auth_invalid(req, err, "EMPORIUM_JWT_SECRET is not set");
	/* Always with the key: without one libjwt accepts alg "none". */
	if (jwt_decode(&jwt, tok, (const unsigned char *)auth_config(cfg)->jwt_secret,
		       (int)strlen(auth_config(cfg)->jwt_secret)) != 0 || !jwt)
		return auth_invalid(req, err, "bad signature or malformed token");
	if (jwt_get_alg(jwt) != JWT_ALG_HS256) {
		auth_invalid(req, err, "algorithm is not HS256");
		goto done;
	}
	/* The claims are the token's to choose (exp may be LONG_MAX): the
	 * leeway is only ever added to or taken from now, a real clock
	 * reading, so no comparison can overflow. */
	exp = jwt_get_grant_int(jwt, "exp");
	if (exp <= 0 || exp < now - AUTH_LEEWAY_S) {
		auth_invalid(req, err, "expired or no exp");
		goto done;
	}
	iat = jwt_get_grant_int(jwt, "iat");
	if (iat <= 0 || iat > now + AUTH_LEEWAY_S || exp <= iat) {
		auth_invalid(req, err, "iat missing or in the future");
		goto done;
	}
	if (jwt_get_grant_int(jwt, "nbf") > now + AUTH_LEEWAY_S) {
		auth_invalid(req, err, "not yet valid");
		goto done;
	}
	s = jwt_get_grant(jwt, "iss");
	if (!s || strcmp(s, auth_config(cfg)->jwt_issuer) != 0) {
		auth_invalid(req, err, "wrong issuer");
		goto done;
	}
	s = jwt_get_grant(jwt, "aud");
	if (!s || strcmp(s, auth_config(cfg)->jwt_audience) != 0) {
		auth_invalid(req, err, "wrong audience");
		goto done;
	}
	if (!auth_role_parse(jwt_get_grant(jwt, "role"), role)) {
		auth_invalid(req, err, "no valid role");
		goto done;
	}
	s = jwt_get_grant(jwt, "sub");
	if (!s || strlen(s) >= sizeof(sub)) {
		auth_invalid(req, err, "no sub");
		goto done;
	}
	snprintf(sub, sizeof(sub), "%s", s);
	errno = 0;
	tv = jwt_get_grant_int(jwt, "tv");
	if (errno == ENOENT)
		tv = 0; /* tokens minted before token_version existed */
	else if (errno != 0 || tv < 0) {
		auth_invalid(req, err, "tv is not a number");
		goto done;
	}
	if (!auth_user_check(req, sub, *role, (int64_t)tv, role, err))
		goto done;
	memcpy(req->user_id, sub, 24); /* checked: 24 hex digits */
	req->user_id[24] = '\0';
	ok = true;
done:
	jwt_free(jwt);
	return ok;
}
