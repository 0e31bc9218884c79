/*
 * auth_routes.c - /api/v1/auth/...: register, verify-email (and resend),
 * login, refresh, logout, password forgot/reset.
 *
 * No answer tells a caller whether an e-mail address has an account:
 * register, resend and forgot answer 202 whatever the address, login
 * answers the same 401 for an unknown address and a wrong password and
 * spends the same argon2id time on both (a dummy hash), and a wrong,
 * expired or foreign code is the same 400.
 *
 * Throttles (rate_limits, see throttle.c), in front of which nginx keeps
 * its own per-address limit on /api/v1/auth/:
 *   login-acct|<email>  failed logins per account: AUTH_ACCOUNT_FAIL_MAX per
 *                       AUTH_ACCOUNT_FAIL_WINDOW_S, then 429 until the window
 *                       ends (a temporary lock; at most 40 tries an hour,
 *                       under the 100 an hour the issue allows). Counted for
 *                       unknown addresses too, so a lock reveals nothing.
 *   login-ip|<addr>     failed logins per client address.
 *   mail-ip|<addr>      mails caused (register, resend, forgot) per address.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "auth/accounts.h"
#include "auth/auth.h"
#include "auth/auth_routes.h"
#include "core/json.h"
#include "core/log.h"
#include "jobs/jobs.h"

bool auth_body_check(struct em_request *req, const char *const *allowed, struct em_error *err)
{
	return em_json_check_fields(req->json, allowed, err);
}

bool auth_body_string(json_object *obj, const char *key, size_t min, size_t max,
		      bool required, const char **out, struct em_error *err)
{
	json_object *v;

	if (!em_json_get_string(obj, key, min, max, required, out, err))
		return false;
	if (*out && json_object_object_get_ex(obj, key, &v) &&
	    strlen(*out) != (size_t)json_object_get_string_len(v)) {
		em_error_set(err, EM_ERR_INVALID, key, "%s must not contain NUL characters", key);
		return false;
	}
	return true;
}

static const char *auth_client_addr(const struct em_request *req)
{
	return req->remote_addr && *req->remote_addr ? req->remote_addr : "unknown";
}

/* Reads and normalises the "email" field into out. */
static bool auth_body_email(struct em_request *req, char *out, size_t size,
			    struct em_error *err)
{
	const char *s;

	if (!auth_body_string(req->json, "email", 1, 320, true, &s, err))
		return false;
	return auth_email_normalize(s, out, size, err);
}

/*
 * Counts one mail caused from the client's address; *limited when over
 * AUTH_IP_MAIL_MAX (the handler then answers 429 before any work).
 */
static bool auth_mail_throttle(struct em_request *req, bool *limited, int *retry,
			       struct em_error *err)
{
	char key[128];
	int count;

	snprintf(key, sizeof(key), "mail-ip|%s", auth_client_addr(req));
	*limited = false;
	if (!auth_throttle_peek(&req->app->store, key, &count, retry, err))
		return false;
	if (count >= AUTH_IP_MAIL_MAX) {
		*limited = true;
		return true;
	}
	return auth_throttle_hit(&req->app->store, key, AUTH_IP_MAIL_WINDOW_S, &count, err);
}

/* Queues a mail of template to the user (vars: name, and code when given). */
static bool auth_mail_send(struct em_request *req, const bson_t *user, const char *template_name,
			   const char *code, struct em_error *err)
{
	bson_t vars = BSON_INITIALIZER;
	char dedupe[96], rnd[40];
	const char *name = auth_doc_utf8(user, "name"), *email = auth_doc_utf8(user, "email");
	bool ok;

	if (!email) {
		bson_destroy(&vars);
		em_error_set(err, EM_ERR_INTERNAL, NULL, "user without an email");
		return false;
	}
	BSON_APPEND_UTF8(&vars, "name", name ? name : "");
	if (code)
		BSON_APPEND_UTF8(&vars, "code", code);
	/* Each send is its own event: a random key, never a repeat. */
	auth_random_token(rnd, sizeof(rnd), 16);
	snprintf(dedupe, sizeof(dedupe), "auth:%s:%s", template_name, rnd);
	ok = jobs_email_enqueue(&req->app->store, NULL, email, template_name, &vars, dedupe, NULL,
				err);
	bson_destroy(&vars);
	return ok;
}

/* Issues a code for (user, purpose) and mails it, unless one went out
 * within the cooldown. */
static bool auth_code_mail(struct em_request *req, const bson_t *user, const char *purpose,
			   const char *template_name, struct em_error *err)
{
	bson_oid_t uid;
	char code[7];
	bool sent = false, ok;

	if (!auth_doc_oid(user, "_id", &uid)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "user without an id");
		return false;
	}
	if (!auth_code_issue(&req->app->store, &req->app->cfg, &uid, purpose, &sent, code, err))
		return false;
	if (!sent)
		return true;
	ok = auth_mail_send(req, user, template_name, code, err);
	sodium_memzero(code, sizeof(code));
	return ok;
}

static void auth_respond_accepted(struct em_request *req, const char *status, const char *msg)
{
	json_object *o = json_object_new_object();

	if (o) {
		json_object_object_add(o, "status", json_object_new_string(status));
		json_object_object_add(o, "message", json_object_new_string(msg));
	}
	em_response_json(req, 202, o);
}

/* ---- register ---- */

static const char *const register_fields[] = { "email", "password", "name", NULL };

/*
 * POST /auth/register {email, password, name}: creates an unverified
 * customer and mails a code; for an address that already has an account
 * it mails the owner instead (account_exists) and answers the same.
 */
static bool auth_account_register(struct em_request *req, struct em_error *err)
{
	const struct em_config *cfg = &req->app->cfg;
	char email[AUTH_EMAIL_MAX + 1], hash[crypto_pwhash_STRBYTES];
	const char *password, *name;
	bson_t user = BSON_INITIALIZER, *doc = NULL;
	mongoc_collection_t *coll = NULL;
	bson_error_t berr;
	bson_oid_t oid;
	bool found = false, limited, ok = false;
	int retry;
	int64_t now = auth_now_ms();

	if (!auth_body_check(req, register_fields, err) ||
	    !auth_body_email(req, email, sizeof(email), err) ||
	    !auth_body_string(req->json, "password", 1, AUTH_PASSWORD_MAX * 4, true, &password,
			      err) ||
	    !auth_password_check(password, err) ||
	    !auth_body_string(req->json, "name", 1, AUTH_NAME_MAX, true, &name, err) ||
	    !auth_name_check("name", name, err))
		goto done;
	if (!auth_mail_throttle(req, &limited, &retry, err))
		goto done;
	if (limited) {
		ok = auth_respond_rate_limited(req, retry, "too many requests from this address");
		goto done;
	}
	/* Hash first, whichever way it goes: both answers take the same time. */
	if (!auth_password_hash(cfg, password, hash, sizeof(hash), err))
		goto done;
	if (!auth_user_find_by_email(&req->app->store, email, &user, &found, err))
		goto done;
	if (!found) {
		bson_oid_init(&oid, NULL);
		doc = BCON_NEW("_id", BCON_OID(&oid), "email", BCON_UTF8(email), "name",
			       BCON_UTF8(name), "role", BCON_UTF8("customer"), "email_verified",
			       BCON_BOOL(false), "disabled", BCON_BOOL(false), "password_hash",
			       BCON_UTF8(hash), "phone", BCON_NULL, "created_at",
			       BCON_DATE_TIME(now), "updated_at", BCON_DATE_TIME(now));
		coll = store_collection(&req->app->store, "users");
		if (!mongoc_collection_insert_one(coll, doc, NULL, NULL, &berr)) {
			if (!store_error_is_duplicate(&berr)) {
				store_error_set(err, &berr, "create user");
				goto done;
			}
			/* Registered by a concurrent request: the owner case. */
			if (!auth_user_find_by_email(&req->app->store, email, &user, &found, err))
				goto done;
		} else {
			if (!auth_code_mail(req, doc, "verify", "verify_email", err))
				goto done;
		}
	}
	if (found && !auth_mail_send(req, &user, "account_exists", NULL, err))
		goto done;
	auth_respond_accepted(req, "verification_sent",
			      "If the address can be registered, a verification code has been "
			      "sent to it.");
	ok = true;
done:
	sodium_memzero(hash, sizeof(hash));
	if (coll)
		mongoc_collection_destroy(coll);
	if (doc)
		bson_destroy(doc);
	bson_destroy(&user);
	return ok;
}

/* ---- verify-email ---- */

static const char *const verify_fields[] = { "email", "code", NULL };

/* POST /auth/verify-email {email, code}: marks the address verified. */
static bool auth_email_verify(struct em_request *req, struct em_error *err)
{
	char email[AUTH_EMAIL_MAX + 1];
	const char *code;
	bson_t user = BSON_INITIALIZER, *filter = NULL, *update = NULL;
	mongoc_collection_t *coll = NULL;
	bson_error_t berr;
	bson_oid_t uid;
	bool found = false, ok = false;
	json_object *o;

	if (!auth_body_check(req, verify_fields, err) ||
	    !auth_body_email(req, email, sizeof(email), err) ||
	    !auth_body_string(req->json, "code", 1, 16, true, &code, err))
		goto done;
	if (!auth_user_find_by_email(&req->app->store, email, &user, &found, err))
		goto done;
	if (!found || auth_doc_bool(&user, "email_verified") || !auth_doc_oid(&user, "_id", &uid)) {
		em_error_set(err, EM_ERR_INVALID, "code", "the code is wrong, used or expired");
		goto done;
	}
	if (!auth_code_check(&req->app->store, &req->app->cfg, &uid, "verify", code, err))
		goto done;
	filter = BCON_NEW("_id", BCON_OID(&uid));
	update = BCON_NEW("$set", "{", "email_verified", BCON_BOOL(true), "updated_at",
			  BCON_DATE_TIME(auth_now_ms()), "}");
	coll = store_collection(&req->app->store, "users");
	if (!mongoc_collection_update_one(coll, filter, update, NULL, NULL, &berr)) {
		store_error_set(err, &berr, "verify user");
		goto done;
	}
	o = json_object_new_object();
	if (o) {
		json_object_object_add(o, "email", json_object_new_string(email));
		json_object_object_add(o, "email_verified", json_object_new_boolean(true));
	}
	em_response_json(req, 200, o);
	ok = true;
done:
	if (coll)
		mongoc_collection_destroy(coll);
	if (filter)
		bson_destroy(filter);
	if (update)
		bson_destroy(update);
	bson_destroy(&user);
	return ok;
}

static const char *const email_fields[] = { "email", NULL };

/*
 * The common start of the routes that mail a code to {email} (resend,
 * forgot): validate the body, apply the per-address mail throttle (then
 * the 429 is already written and *answered is true), and look the
 * account up. *found says whether it exists; nothing tells the caller's
 * client which, so the routes answer alike either way.
 */
static bool auth_mail_request_start(struct em_request *req, char *email, size_t email_size,
				    bson_t *user, bool *found, bool *answered,
				    struct em_error *err)
{
	bool limited;
	int retry;

	*found = false;
	*answered = false;
	if (!auth_body_check(req, email_fields, err) ||
	    !auth_body_email(req, email, email_size, err))
		return false;
	if (!auth_mail_throttle(req, &limited, &retry, err))
		return false;
	if (limited) {
		*answered = true;
		return auth_respond_rate_limited(req, retry, "too many requests from this address");
	}
	return auth_user_find_by_email(&req->app->store, email, user, found, err);
}

/*
 * POST /auth/verify-email/resend {email}: a new code for an unverified
 * account, at most one per AUTH_CODE_RESEND_S; always 202.
 */
static bool auth_email_resend(struct em_request *req, struct em_error *err)
{
	char email[AUTH_EMAIL_MAX + 1];
	bson_t user = BSON_INITIALIZER;
	bool found, answered, ok = false;

	if (!auth_mail_request_start(req, email, sizeof(email), &user, &found, &answered, err))
		goto done;
	if (answered) {
		ok = true;
		goto done;
	}
	if (found && !auth_doc_bool(&user, "email_verified") && !auth_doc_bool(&user, "disabled") &&
	    !auth_code_mail(req, &user, "verify", "verify_email", err))
		goto done;
	auth_respond_accepted(req, "verification_sent",
			      "If the address has an unverified account, a new code has been sent "
			      "to it (at most one a minute).");
	ok = true;
done:
	bson_destroy(&user);
	return ok;
}

/* ---- login ---- */

static const char *const login_fields[] = { "email", "password", NULL };

/* POST /auth/login {email, password}: a session (auth_session_issue). */
static bool auth_login_create(struct em_request *req, struct em_error *err)
{
	struct em_store *st = &req->app->store;
	char email[AUTH_EMAIL_MAX + 1], ipkey[128], acctkey[300];
	const char *password;
	bson_t user = BSON_INITIALIZER;
	bson_oid_t uid;
	int count, retry;
	bool found = false, match, ok = false;

	if (!auth_body_check(req, login_fields, err) ||
	    !auth_body_email(req, email, sizeof(email), err) ||
	    !auth_body_string(req->json, "password", 1, AUTH_PASSWORD_MAX * 4, true, &password,
			      err))
		goto done;
	snprintf(ipkey, sizeof(ipkey), "login-ip|%s", auth_client_addr(req));
	snprintf(acctkey, sizeof(acctkey), "login-acct|%s", email);
	if (!auth_throttle_peek(st, ipkey, &count, &retry, err))
		goto done;
	if (count >= AUTH_IP_FAIL_MAX) {
		ok = auth_respond_rate_limited(req, retry,
					       "too many failed sign-ins from this address");
		goto done;
	}
	if (!auth_throttle_peek(st, acctkey, &count, &retry, err))
		goto done;
	if (count >= AUTH_ACCOUNT_FAIL_MAX) {
		em_info("login refused: account locked for %d s", retry);
		ok = auth_respond_rate_limited(req, retry,
					       "too many failed sign-ins for this account; "
					       "try again later");
		goto done;
	}
	if (!auth_user_find_by_email(st, email, &user, &found, err))
		goto done;
	match = auth_password_verify(&req->app->cfg,
				     found ? auth_doc_utf8(&user, "password_hash") : NULL, password);
	if (!found || !match || auth_doc_bool(&user, "disabled") ||
	    !auth_doc_oid(&user, "_id", &uid)) {
		if (!auth_throttle_hit(st, ipkey, AUTH_IP_FAIL_WINDOW_S, &count, err) ||
		    !auth_throttle_hit(st, acctkey, AUTH_ACCOUNT_FAIL_WINDOW_S, &count, err))
			goto done;
		em_error_set(err, EM_ERR_UNAUTHENTICATED, NULL, "the email or password is wrong");
		goto done;
	}
	if (!auth_throttle_clear(st, acctkey, err))
		goto done;
	ok = auth_session_issue(req, &uid, err);
done:
	bson_destroy(&user);
	return ok;
}

/* ---- refresh and logout ---- */

/*
 * The refresh token of the request: "refresh_token" of a JSON body, or
 * else the __Host- cookie, which then needs X-CSRF-Token to match (a
 * cross-site form can send the cookie but cannot read the CSRF cookie).
 * *token is NULL when the request has neither.
 */
static bool auth_refresh_token_read(struct em_request *req, const char **token,
				    struct em_error *err)
{
	static const char *const fields[] = { "refresh_token", NULL };
	const char *cookie, *header;
	char want[65];

	*token = NULL;
	if (req->body_len > 0) {
		if (!em_request_parse_json(req, NULL, (size_t)req->app->cfg.max_body, err) ||
		    !auth_body_check(req, fields, err) ||
		    !auth_body_string(req->json, "refresh_token", 1, 128, false, token, err))
			return false;
		if (*token)
			return true;
	}
	cookie = em_request_cookie(req, AUTH_REFRESH_COOKIE);
	if (!cookie || !*cookie)
		return true;
	header = em_request_header(req, "X-CSRF-Token");
	auth_csrf_token(&req->app->cfg, cookie, want);
	if (!header || strlen(header) != 64 || sodium_memcmp(header, want, 64) != 0) {
		em_error_set(err, EM_ERR_FORBIDDEN, "X-CSRF-Token",
			     "a cookie-authenticated request needs the X-CSRF-Token header");
		return false;
	}
	*token = cookie;
	return true;
}

/* POST /auth/refresh: rotates the refresh token; a new access token. */
static bool auth_session_refresh(struct em_request *req, struct em_error *err)
{
	const char *token;
	char next[64];
	bson_oid_t uid;
	bool ok = false;

	if (!auth_refresh_token_read(req, &token, err))
		return false;
	if (!token) {
		em_error_set(err, EM_ERR_UNAUTHENTICATED, "refresh_token",
			     "send the refresh token in the body or the session cookie");
		return false;
	}
	if (auth_refresh_rotate(&req->app->store, &req->app->cfg, token, &uid, next,
				sizeof(next), err))
		ok = auth_session_respond(req, &uid, next, err);
	sodium_memzero(next, sizeof(next));
	return ok;
}

/* POST /auth/logout: revokes the token's whole family; clears the cookies. */
static bool auth_session_logout(struct em_request *req, struct em_error *err)
{
	const char *token;

	if (!auth_refresh_token_read(req, &token, err))
		return false;
	if (token && !auth_refresh_revoke_family(&req->app->store, token, err))
		return false;
	auth_session_cookies_clear(req);
	em_response_empty(req, 204);
	return true;
}

/* ---- password reset ---- */

/* POST /auth/password/forgot {email}: mails a reset code; always 202. */
static bool auth_password_forgot(struct em_request *req, struct em_error *err)
{
	char email[AUTH_EMAIL_MAX + 1];
	bson_t user = BSON_INITIALIZER;
	bool found, answered, ok = false;

	if (!auth_mail_request_start(req, email, sizeof(email), &user, &found, &answered, err))
		goto done;
	if (answered) {
		ok = true;
		goto done;
	}
	if (found && !auth_doc_bool(&user, "disabled") &&
	    !auth_code_mail(req, &user, "reset", "password_reset", err))
		goto done;
	auth_respond_accepted(req, "reset_sent",
			      "If the address has an account, a reset code has been sent to it.");
	ok = true;
done:
	bson_destroy(&user);
	return ok;
}

static const char *const reset_fields[] = { "email", "code", "password", NULL };

/*
 * POST /auth/password/reset {email, code, password}: sets the password,
 * signs out every session of the account, and marks the address verified
 * (the code proved the caller reads its mail).
 */
static bool auth_password_reset(struct em_request *req, struct em_error *err)
{
	const struct em_config *cfg = &req->app->cfg;
	char email[AUTH_EMAIL_MAX + 1], hash[crypto_pwhash_STRBYTES], acctkey[300];
	const char *code, *password;
	bson_t user = BSON_INITIALIZER, *filter = NULL, *update = NULL;
	mongoc_collection_t *coll = NULL;
	bson_error_t berr;
	bson_oid_t uid;
	bool found = false, ok = false;

	if (!auth_body_check(req, reset_fields, err) ||
	    !auth_body_email(req, email, sizeof(email), err) ||
	    !auth_body_string(req->json, "code", 1, 16, true, &code, err) ||
	    !auth_body_string(req->json, "password", 1, AUTH_PASSWORD_MAX * 4, true, &password,
			      err) ||
	    !auth_password_check(password, err))
		goto done;
	if (!auth_user_find_by_email(&req->app->store, email, &user, &found, err))
		goto done;
	if (!found || auth_doc_bool(&user, "disabled") || !auth_doc_oid(&user, "_id", &uid)) {
		em_error_set(err, EM_ERR_INVALID, "code", "the code is wrong, used or expired");
		goto done;
	}
	if (!auth_code_check(&req->app->store, cfg, &uid, "reset", code, err))
		goto done;
	if (!auth_password_hash(cfg, password, hash, sizeof(hash), err))
		goto done;
	filter = BCON_NEW("_id", BCON_OID(&uid));
	update = BCON_NEW("$set", "{", "password_hash", BCON_UTF8(hash), "email_verified",
			  BCON_BOOL(true), "updated_at", BCON_DATE_TIME(auth_now_ms()), "}");
	coll = store_collection(&req->app->store, "users");
	if (!mongoc_collection_update_one(coll, filter, update, NULL, NULL, &berr)) {
		store_error_set(err, &berr, "set password");
		goto done;
	}
	if (!auth_refresh_revoke_user(&req->app->store, &uid, err))
		goto done;
	snprintf(acctkey, sizeof(acctkey), "login-acct|%s", email);
	if (!auth_throttle_clear(&req->app->store, acctkey, err))
		goto done;
	em_response_empty(req, 204);
	ok = true;
done:
	sodium_memzero(hash, sizeof(hash));
	if (coll)
		mongoc_collection_destroy(coll);
	if (filter)
		bson_destroy(filter);
	if (update)
		bson_destroy(update);
	bson_destroy(&user);
	return ok;
}

static const struct em_route auth_table[] = {
	{ "POST", "/api/v1/auth/register", auth_account_register, EM_ROLE_PUBLIC, EM_BODY_JSON,
	  NULL },
	{ "POST", "/api/v1/auth/verify-email", auth_email_verify, EM_ROLE_PUBLIC, EM_BODY_JSON,
	  NULL },
	{ "POST", "/api/v1/auth/verify-email/resend", auth_email_resend, EM_ROLE_PUBLIC,
	  EM_BODY_JSON, NULL },
	{ "POST", "/api/v1/auth/login", auth_login_create, EM_ROLE_PUBLIC, EM_BODY_JSON, NULL },
	/* The body is optional (cookie clients send none): parsed by the handler. */
	{ "POST", "/api/v1/auth/refresh", auth_session_refresh, EM_ROLE_PUBLIC, EM_BODY_NONE,
	  NULL },
	{ "POST", "/api/v1/auth/logout", auth_session_logout, EM_ROLE_PUBLIC, EM_BODY_NONE, NULL },
	{ "POST", "/api/v1/auth/password/forgot", auth_password_forgot, EM_ROLE_PUBLIC,
	  EM_BODY_JSON, NULL },
	{ "POST", "/api/v1/auth/password/reset", auth_password_reset, EM_ROLE_PUBLIC,
	  EM_BODY_JSON, NULL },
};

const struct em_route_table auth_routes = EM_ROUTE_TABLE("auth", auth_table);
