/*
 * auth_routes.c - /api/v1/auth/...: register, verify-email (and resend),
 * login, refresh, logout, password forgot/reset.
 *
 * No answer tells a caller whether an e-mail address has an account:
 * register, resend and forgot answer 202 whatever the address and do the
 * same work for both (they only enqueue an auth_mail job; emporium-worker
 * looks the account up, see mail_job.c), login answers the same 401 for an
 * unknown address and a wrong password and spends the same argon2id time
 * on both (a dummy hash), and a wrong, expired or foreign code is the same
 * 400.
 *
 * Throttles (rate_limits, see throttle.c), all counted before the work
 * they guard (auth_throttle_take), in front of which nginx keeps its own
 * per-address limit on /api/v1/auth/:
 *   login-acct|<email>  sign-in attempts per account: AUTH_ACCOUNT_FAIL_MAX
 *                       per AUTH_ACCOUNT_FAIL_WINDOW_S, then 429 until the
 *                       window ends (a temporary lock). Counted before the
 *                       password is checked, so parallel guesses get at most
 *                       AUTH_ACCOUNT_FAIL_MAX verdicts; cleared by a success.
 *                       Counted for unknown addresses too: a lock reveals
 *                       nothing.
 *   login-ip|<addr>     sign-in attempts per client address (a success gives
 *                       its count back).
 *   mail-ip|<addr>      mails asked for (register, resend, forgot) per address.
 *   mail-to|<kind>|<email>  one mail of a kind per recipient per minute
 *                       (verify, reset, exists): no mail bombing of one
 *                       inbox from many addresses; then 202 and no mail.
 *   code-ip|<addr>      code checks (verify-email, password reset) per address.
 *   code-fail|<email>   wrong codes per address across reissues (otp.c).
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "auth/accounts.h"
#include "auth/auth.h"
#include "auth/auth_http.h"
#include "auth/auth_routes.h"
#include "core/json.h"
#include "core/log.h"
#include "jobs/jobs.h"
#include "store/txn.h"

/* Reads and normalises the "email" field into out. */
static bool auth_body_email(struct em_request *req, char *out, size_t size,
			    struct em_error *err)
{
	const char *s;

	if (!auth_body_string(req->json, "email", 1, 320, true, &s, err))
		return false;
	return auth_email_normalize(s, out, size, err);
}

/* Counts one mail asked for from the client's address (429 when over). */
static bool auth_mail_ip_take(struct em_request *req, struct em_error *err)
{
	char key[128];

	snprintf(key, sizeof(key), "mail-ip|%s", auth_client_addr(req));
	return auth_throttle_take(&req->app->store, key, AUTH_IP_MAIL_MAX, AUTH_IP_MAIL_WINDOW_S,
				  "too many requests from this address", err);
}

/*
 * The per-recipient cooldown: *allowed is true for the first mail of kind
 * to email in AUTH_MAIL_TO_WINDOW_S. The same write for every address, so
 * it reveals nothing; a refused mail is not an error (the answer stays 202).
 */
static bool auth_mail_to_take(struct em_request *req, const char *kind, const char *email,
			      bool *allowed, struct em_error *err)
{
	char key[320];
	int count;

	snprintf(key, sizeof(key), "mail-to|%s|%s", kind, email);
	if (!auth_throttle_hit(&req->app->store, key, AUTH_MAIL_TO_WINDOW_S, &count, NULL, err))
		return false;
	*allowed = count <= 1;
	return true;
}

/* Builds the payload of an auth_mail job and a fresh dedupe key. */
static void auth_mail_job_build(const char *email, const char *template_name,
				const char *purpose, bson_t *payload, char *dedupe, size_t size)
{
	char rnd[40];

	BSON_APPEND_UTF8(payload, "to", email);
	BSON_APPEND_UTF8(payload, "template", template_name);
	BSON_APPEND_UTF8(payload, "purpose", purpose);
	/* Each request is its own event: a random key, never a repeat. */
	auth_random_token(rnd, sizeof(rnd), 16);
	snprintf(dedupe, size, "auth:%s:%s", purpose, rnd);
}

/* Enqueues an auth_mail job outside a transaction. */
static bool auth_mail_enqueue(struct em_request *req, const char *email,
			      const char *template_name, const char *purpose,
			      struct em_error *err)
{
	bson_t payload = BSON_INITIALIZER;
	char dedupe[96];
	bool ok;

	auth_mail_job_build(email, template_name, purpose, &payload, dedupe, sizeof(dedupe));
	ok = jobs_enqueue(&req->app->store, NULL, AUTH_MAIL_JOB, &payload, dedupe, 0, NULL, err);
	bson_destroy(&payload);
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

/* The registration transaction: the user and its verification mail. */
struct auth_register_txn {
	struct em_store *st;
	const bson_t *user;
	const char *email;
	bool duplicate;
};

static bool auth_register_txn_run(mongoc_client_session_t *session, void *ctx,
				  bson_error_t *berr, struct em_error *err)
{
	struct auth_register_txn *t = ctx;
	mongoc_collection_t *coll = store_collection(t->st, "users");
	bson_t opts = BSON_INITIALIZER, payload = BSON_INITIALIZER;
	char dedupe[96];
	bool ok = false;

	t->duplicate = false;
	if (!store_txn_opts(session, &opts, err))
		goto done;
	if (!mongoc_collection_insert_one(coll, t->user, &opts, NULL, berr)) {
		if (store_error_is_duplicate(berr)) {
			/* Not transient: the transaction ends, the owner is told. */
			t->duplicate = true;
			em_error_setc(err, EM_ERR_CONFLICT, "email", EM_CODE_NOT_UNIQUE, "already registered");
		} else {
			store_error_set(err, berr, "create user");
		}
		goto done;
	}
	auth_mail_job_build(t->email, "verify_email", "verify", &payload, dedupe, sizeof(dedupe));
	ok = jobs_enqueue(t->st, session, AUTH_MAIL_JOB, &payload, dedupe, 0, berr, err);
done:
	bson_destroy(&payload);
	bson_destroy(&opts);
	mongoc_collection_destroy(coll);
	return ok;
}

/*
 * POST /auth/register {email, password, name}: creates an unverified
 * customer and, in the same transaction, the job that mails its code; for
 * an address that already has an account it mails the owner instead
 * (account_exists, at most one a minute) and answers the same.
 */
static bool auth_account_register(struct em_request *req, struct em_error *err)
{
	const struct em_config *cfg = &req->app->cfg;
	char email[AUTH_EMAIL_MAX + 1], hash[crypto_pwhash_STRBYTES];
	const char *password = NULL, *name = NULL;
	struct auth_register_txn t;
	struct em_error terr = EM_ERROR_INIT;
	bson_t *doc = NULL;
	bson_oid_t oid;
	bool allowed, ok = false;
	int64_t now = em_now_ms();

	hash[0] = '\0';
	/* every field checked, every fault reported at once */
	em_error_collect(err);
	if (auth_body_check(req, register_fields, err) || err->field[0]) {
		auth_body_email(req, email, sizeof(email), err);
		if (auth_body_string(req->json, "password", 1, AUTH_PASSWORD_MAX * 4, true,
				     &password, err))
			auth_password_check(password, err);
		if (auth_body_string(req->json, "name", 1, AUTH_NAME_MAX, true, &name, err))
			auth_person_name_check("name", name, err);
	}
	if (!em_error_collect_end(err))
		goto done;
	if (!auth_mail_ip_take(req, err))
		goto done;
	/* Hash first, whichever way it goes: both answers take the same time. */
	if (!auth_password_hash(cfg, password, hash, sizeof(hash), err))
		goto done;
	{
		bson_oid_init(&oid, NULL);
		doc = BCON_NEW("_id", BCON_OID(&oid), "email", BCON_UTF8(email), "name",
			       BCON_UTF8(name), "role", BCON_UTF8("customer"), "email_verified",
			       BCON_BOOL(false), "disabled", BCON_BOOL(false), "password_hash",
			       BCON_UTF8(hash), "phone", BCON_NULL, "token_version",
			       BCON_INT64(0), "created_at", BCON_DATE_TIME(now), "updated_at",
			       BCON_DATE_TIME(now));
		t.st = &req->app->store;
		t.user = doc;
		t.email = email;
		t.duplicate = false;
		if (!store_txn_run(&req->app->store, auth_register_txn_run, &t, &terr)) {
			if (!t.duplicate) {
				*err = terr;
				goto done;
			}
			/* The address has an account: tell its owner, once a minute. */
			if (!auth_mail_to_take(req, "exists", email, &allowed, err))
				goto done;
			if (allowed &&
			    !auth_mail_enqueue(req, email, "account_exists", "exists", err))
				goto done;
		} else if (!auth_mail_to_take(req, "verify", email, &allowed, err)) {
			/* starts the recipient's cooldown: a resend right after
			 * registering is the same mail again */
			goto done;
		}
	}
	auth_respond_accepted(req, "verification_sent",
			      "If the address can be registered, a verification code has been "
			      "sent to it.");
	ok = true;
done:
	sodium_memzero(hash, sizeof(hash));
	if (doc)
		bson_destroy(doc);
	return ok;
}

/* ---- one-time codes: verify-email and password reset ---- */

/* Counts one code check from the client's address (429 when over). */
static bool auth_code_ip_take(struct em_request *req, struct em_error *err)
{
	char key[128];

	snprintf(key, sizeof(key), "code-ip|%s", auth_client_addr(req));
	return auth_throttle_take(&req->app->store, key, AUTH_IP_CODE_MAX, AUTH_IP_CODE_WINDOW_S,
				  "too many code checks from this address; try again later", err);
}

/*
 * Checks the code of {email, code} for purpose: the per-address throttle,
 * then the account (none, disabled, or - for "verify" - already verified
 * all answer as a wrong code, and count as one), then auth_code_check.
 * On success *user holds the account and *uid its id.
 */
static bool auth_code_request_check(struct em_request *req, const char *email,
				    const char *code, const char *purpose, bson_t *user,
				    bson_oid_t *uid, struct em_error *err)
{
	bool found = false, usable;

	if (!auth_code_ip_take(req, err))
		return false;
	if (!auth_user_find_by_email(&req->app->store, email, user, &found, err))
		return false;
	usable = found && !auth_doc_bool(user, "disabled") && auth_doc_oid(user, "_id", uid) &&
		 !(strcmp(purpose, "verify") == 0 && auth_doc_bool(user, "email_verified"));
	return auth_code_check(&req->app->store, &req->app->cfg, email, usable ? uid : NULL,
			       purpose, code, err);
}

static const char *const verify_fields[] = { "email", "code", NULL };

/* POST /auth/verify-email {email, code}: marks the address verified. */
static bool auth_email_verify(struct em_request *req, struct em_error *err)
{
	char email[AUTH_EMAIL_MAX + 1];
	const char *code = NULL;
	bson_t user = BSON_INITIALIZER, *filter = NULL, *update = NULL;
	mongoc_collection_t *coll = NULL;
	bson_error_t berr;
	bson_oid_t uid;
	bool ok = false;
	json_object *o;

	em_error_collect(err);
	if (auth_body_check(req, verify_fields, err) || err->field[0]) {
		auth_body_email(req, email, sizeof(email), err);
		auth_body_string(req->json, "code", 1, 16, true, &code, err);
	}
	if (!em_error_collect_end(err))
		goto done;
	if (!auth_code_request_check(req, email, code, "verify", &user, &uid, err))
		goto done;
	filter = BCON_NEW("_id", BCON_OID(&uid));
	update = BCON_NEW("$set", "{", "email_verified", BCON_BOOL(true), "updated_at",
			  BCON_DATE_TIME(em_now_ms()), "}");
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
 * The routes that mail a code to {email} (resend, forgot): validate, the
 * per-address and per-recipient throttles, and the job. Nothing here
 * depends on whether the address has an account (mail_job.c decides), so
 * the answer and its time are the same either way.
 */
static bool auth_code_mail_request(struct em_request *req, const char *kind,
				   const char *template_name, struct em_error *err)
{
	char email[AUTH_EMAIL_MAX + 1];
	bool allowed;

	if (!auth_body_check(req, email_fields, err) ||
	    !auth_body_email(req, email, sizeof(email), err))
		return false;
	if (!auth_mail_ip_take(req, err))
		return false;
	if (!auth_mail_to_take(req, kind, email, &allowed, err))
		return false;
	return !allowed || auth_mail_enqueue(req, email, template_name, kind, err);
}

/*
 * POST /auth/verify-email/resend {email}: a new code for an unverified
 * account, at most one a minute; always 202.
 */
static bool auth_email_resend(struct em_request *req, struct em_error *err)
{
	if (!auth_code_mail_request(req, "verify", "verify_email", err))
		return false;
	auth_respond_accepted(req, "verification_sent",
			      "If the address has an unverified account, a new code has been sent "
			      "to it (at most one a minute).");
	return true;
}

/* ---- login ---- */

static const char *const login_fields[] = { "email", "password", "totp", "recovery_code",
					    NULL };

/*
 * POST /auth/login {email, password}: a session (auth_session_issue).
 * Both throttles count first (see the top of the file). An account whose
 * address was never verified gets no session: anyone can register any
 * address, so a password alone proves nothing about who owns it (account
 * pre-hijacking). It answers 403 "verify first" only to the holder of the
 * right password, who registered it and knows it exists: others get the
 * usual 401. An account with a second factor also needs {totp} (or
 * {recovery_code}, single use): 401 on field "totp" without it.
 */
static bool auth_login_create(struct em_request *req, struct em_error *err)
{
	struct em_store *st = &req->app->store;
	char email[AUTH_EMAIL_MAX + 1], ipkey[128], acctkey[300];
	const char *password = NULL;
	bson_t user = BSON_INITIALIZER;
	bson_oid_t uid;
	bool found = false, match, ok = false;

	em_error_collect(err);
	if (auth_body_check(req, login_fields, err) || err->field[0]) {
		auth_body_email(req, email, sizeof(email), err);
		auth_body_string(req->json, "password", 1, AUTH_PASSWORD_MAX * 4, true, &password,
				 err);
	}
	if (!em_error_collect_end(err))
		goto done;
	snprintf(ipkey, sizeof(ipkey), "login-ip|%s", auth_client_addr(req));
	snprintf(acctkey, sizeof(acctkey), "login-acct|%s", email);
	if (!auth_throttle_take(st, ipkey, AUTH_IP_FAIL_MAX, AUTH_IP_FAIL_WINDOW_S,
				"too many failed sign-ins from this address", err))
		goto done;
	if (!auth_throttle_take(st, acctkey, AUTH_ACCOUNT_FAIL_MAX, AUTH_ACCOUNT_FAIL_WINDOW_S,
				"too many failed sign-ins for this account; try again later",
				err)) {
		if (err->kind == EM_ERR_RATE_LIMITED)
			em_info("login refused: account locked for %d s", err->retry_after_s);
		goto done;
	}
	if (!auth_user_find_by_email(st, email, &user, &found, err))
		goto done;
	match = auth_password_verify(&req->app->cfg,
				     found ? auth_doc_utf8(&user, "password_hash") : NULL, password);
	if (!found || !match || !auth_doc_oid(&user, "_id", &uid)) {
		em_error_set(err, EM_ERR_UNAUTHENTICATED, NULL, "the email or password is wrong");
		goto done;
	}
	/* Only the holder of the right password learns the account is
	 * disabled (anyone else gets the 401 above); it stays a failed
	 * sign-in for the throttles. */
	if (auth_doc_bool(&user, "disabled")) {
		em_error_set(err, EM_ERR_FORBIDDEN, NULL,
			     "this account is disabled; contact the shop to have it enabled");
		goto done;
	}
	if (!auth_doc_bool(&user, "email_verified")) {
		em_error_set(err, EM_ERR_FORBIDDEN, "email",
			     "verify your email address first: enter the code we mailed you, or "
			     "ask for a new one");
		goto done;
	}
	if (auth_mfa_enabled(&user)) {
		/* The second factor, after the password (only its holder learns
		 * that the account has one); a wrong one stays counted above. */
		const char *totp = NULL, *recovery = NULL;
		bool passed;

		em_error_collect(err);
		auth_body_string(req->json, "totp", 1, 16, false, &totp, err);
		auth_body_string(req->json, "recovery_code", 1, 16, false, &recovery, err);
		if (!em_error_collect_end(err))
			goto done;
		if (!totp && !recovery) {
			em_error_set(err, EM_ERR_UNAUTHENTICATED, "totp",
				     "this account needs its second factor: send totp (or "
				     "recovery_code)");
			goto done;
		}
		if (!auth_mfa_check(st, &req->app->cfg, &user, totp, recovery, &passed, err))
			goto done;
		if (!passed) {
			em_error_set(err, EM_ERR_UNAUTHENTICATED, "totp",
				     "the second factor is wrong or was used already");
			goto done;
		}
	}
	if (!auth_throttle_clear(st, acctkey, err) || !auth_throttle_give(st, ipkey, err))
		goto done;
	ok = auth_session_issue_passed(req, &uid, err);
done:
	bson_destroy(&user);
	return ok;
}

/* ---- refresh and logout ---- */

/*
 * The refresh token of the request: "refresh_token" of a JSON body, or
 * else the __Host- cookie, which then needs X-CSRF-Token to match (a
 * cross-site form can send the cookie but cannot read the CSRF cookie).
 * *token is NULL when the request has neither; *from_cookie says where
 * it came from.
 */
static bool auth_refresh_token_read(struct em_request *req, const char **token,
				    bool *from_cookie, struct em_error *err)
{
	static const char *const fields[] = { "refresh_token", NULL };
	const char *cookie, *header;
	char want[65];

	*token = NULL;
	*from_cookie = false;
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
	*from_cookie = true;
	return true;
}

/*
 * POST /auth/refresh: rotates the refresh token; a new access token. A
 * cookie client gets the successor only in the HttpOnly cookie (a script
 * on the page must never see it); a body client gets it in the body.
 */
static bool auth_session_refresh(struct em_request *req, struct em_error *err)
{
	struct auth_refresh next;
	const char *token;
	bool ok = false, from_cookie;

	if (!auth_refresh_token_read(req, &token, &from_cookie, err))
		return false;
	if (!token) {
		em_error_set(err, EM_ERR_UNAUTHENTICATED, "refresh_token",
			     "send the refresh token in the body or the session cookie");
		return false;
	}
	if (auth_refresh_rotate(&req->app->store, &req->app->cfg, token, &next, err))
		ok = auth_session_respond(req, &next, !from_cookie, err);
	sodium_memzero(&next, sizeof(next));
	return ok;
}

/*
 * POST /auth/logout: revokes the token's whole family and ends the user's
 * access tokens (token_version); clears the cookies.
 */
static bool auth_session_logout(struct em_request *req, struct em_error *err)
{
	const char *token;
	bool from_cookie;

	if (!auth_refresh_token_read(req, &token, &from_cookie, err))
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
	if (!auth_code_mail_request(req, "reset", "password_reset", err))
		return false;
	auth_respond_accepted(req, "reset_sent",
			      "If the address has an account, a reset code has been sent to it.");
	return true;
}

static const char *const reset_fields[] = { "email", "code", "password", NULL };

/*
 * POST /auth/password/reset {email, code, password}: sets the password,
 * ends every session of the account (refresh tokens and access tokens),
 * and marks the address verified (the code proved the caller reads its
 * mail).
 */
static bool auth_password_reset(struct em_request *req, struct em_error *err)
{
	const struct em_config *cfg = &req->app->cfg;
	char email[AUTH_EMAIL_MAX + 1], hash[crypto_pwhash_STRBYTES], acctkey[300];
	const char *code = NULL, *password = NULL;
	bson_t user = BSON_INITIALIZER, *filter = NULL, *update = NULL;
	mongoc_collection_t *coll = NULL;
	bson_error_t berr;
	bson_oid_t uid;
	bool ok = false;

	hash[0] = '\0';
	em_error_collect(err);
	if (auth_body_check(req, reset_fields, err) || err->field[0]) {
		auth_body_email(req, email, sizeof(email), err);
		auth_body_string(req->json, "code", 1, 16, true, &code, err);
		if (auth_body_string(req->json, "password", 1, AUTH_PASSWORD_MAX * 4, true,
				     &password, err))
			auth_password_check(password, err);
	}
	if (!em_error_collect_end(err))
		goto done;
	if (!auth_code_request_check(req, email, code, "reset", &user, &uid, err))
		goto done;
	if (!auth_password_hash(cfg, password, hash, sizeof(hash), err))
		goto done;
	filter = BCON_NEW("_id", BCON_OID(&uid));
	update = BCON_NEW("$set", "{", "password_hash", BCON_UTF8(hash), "email_verified",
			  BCON_BOOL(true), "updated_at", BCON_DATE_TIME(em_now_ms()), "}");
	coll = store_collection(&req->app->store, "users");
	if (!mongoc_collection_update_one(coll, filter, update, NULL, NULL, &berr)) {
		store_error_set(err, &berr, "set password");
		goto done;
	}
	if (!auth_user_sessions_revoke(&req->app->store, NULL, &uid, err))
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
