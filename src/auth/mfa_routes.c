/*
 * mfa_routes.c - /api/v1/me/mfa/totp: a staff or admin account enrols a
 * TOTP second factor (totp.c). Two steps, so a secret the user's app
 * never received cannot lock the account: POST .../totp makes a secret
 * (kept pending) and shows it once; POST .../totp/confirm {code} proves
 * the app has it, turns the factor on and shows the recovery codes once.
 * From then on the password sign-in asks for "totp" (or "recovery_code"),
 * and the OpenID Connect sign-in is refused for the account.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "auth/accounts.h"
#include "auth/auth.h"
#include "auth/auth_http.h"
#include "auth/auth_routes.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"

/* The caller's account, which must be staff or admin. */
static bool auth_mfa_user(struct em_request *req, bson_t *user, bson_oid_t *uid,
			  struct em_error *err)
{
	const char *role;
	bool found = false;

	if (!em_oid_parse(req->user_id, uid)) {
		em_error_set(err, EM_ERR_UNAUTHENTICATED, NULL, "no signed-in account");
		return false;
	}
	if (!auth_user_find_by_id(&req->app->store, uid, user, &found, err))
		return false;
	if (!found) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such account");
		return false;
	}
	role = auth_doc_utf8(user, "role");
	if (!role || (strcmp(role, "staff") != 0 && strcmp(role, "admin") != 0)) {
		em_error_set(err, EM_ERR_FORBIDDEN, NULL,
			     "a second factor is offered to staff and admin accounts");
		return false;
	}
	return true;
}

/* Appends s to out percent-encoded for an otpauth URI label. */
static void auth_uri_escape(bson_string_t *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_')
			bson_string_append_c(out, (char)*p);
		else
			bson_string_append_printf(out, "%%%02X", *p);
	}
}

/*
 * POST /api/v1/me/mfa/totp: a new secret, pending until confirmed; 201
 * {secret (base32), otpauth_uri} with Location: /api/v1/me/mfa/totp, the
 * factor it made (its state; the secret is shown only here). An account
 * whose factor is on: 409.
 */
static bool auth_mfa_totp_begin(struct em_request *req, struct em_error *err)
{
	unsigned char secret[AUTH_TOTP_SECRET_BYTES];
	char b32[64], sealed[256];
	bson_t user = BSON_INITIALIZER, *filter = NULL, *update = NULL;
	bson_string_t *uri = NULL;
	mongoc_collection_t *coll = NULL;
	bson_error_t berr;
	bson_oid_t uid;
	json_object *o;
	const char *email;
	bool ok = false;

	if (!auth_mfa_user(req, &user, &uid, err))
		goto done;
	if (auth_mfa_enabled(&user)) {
		em_error_set(err, EM_ERR_CONFLICT, NULL, "the second factor is already on");
		goto done;
	}
	randombytes_buf(secret, sizeof(secret));
	if (!auth_totp_seal(&req->app->cfg, secret, sealed, sizeof(sealed))) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot seal a TOTP secret");
		goto done;
	}
	filter = BCON_NEW("_id", BCON_OID(&uid));
	update = BCON_NEW("$set", "{", "mfa.enabled", BCON_BOOL(false), "mfa.pending_box",
			  BCON_UTF8(sealed), "updated_at", BCON_DATE_TIME(em_now_ms()), "}");
	coll = store_collection(&req->app->store, "users");
	if (!mongoc_collection_update_one(coll, filter, update, NULL, NULL, &berr)) {
		store_error_set(err, &berr, "store a pending TOTP secret");
		goto done;
	}
	auth_base32(secret, sizeof(secret), b32, sizeof(b32));
	email = auth_doc_utf8(&user, "email");
	uri = bson_string_new("otpauth://totp/Emporium:");
	auth_uri_escape(uri, email ? email : "account");
	bson_string_append_printf(uri, "?secret=%s&issuer=Emporium&algorithm=SHA256&digits=6"
				  "&period=30", b32);
	o = json_object_new_object();
	if (o) {
		json_object_object_add(o, "secret", json_object_new_string(b32));
		json_object_object_add(o, "otpauth_uri", json_object_new_string(uri->str));
	}
	em_response_header(req, "Location", "/api/v1/me/mfa/totp");
	em_response_json(req, 201, o);
	ok = true;
done:
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(b32, sizeof(b32));
	if (uri) {
		sodium_memzero(uri->str, uri->len);
		bson_string_free(uri, true);
	}
	if (coll)
		mongoc_collection_destroy(coll);
	if (filter)
		bson_destroy(filter);
	if (update)
		bson_destroy(update);
	bson_destroy(&user);
	return ok;
}

static const char *const confirm_fields[] = { "code", NULL };

static const char *auth_mfa_pending(const bson_t *user);

/*
 * GET /api/v1/me/mfa/totp: the caller's TOTP factor, never its secret:
 * {enabled, pending (an enrolment waits for its confirm), enrolled_at}.
 */
static bool auth_mfa_totp_get(struct em_request *req, struct em_error *err)
{
	bson_t user = BSON_INITIALIZER;
	bson_oid_t uid;
	bson_iter_t it, at;
	json_object *o;
	bool enabled, ok = false;
	char when[EM_TIME_RFC3339_SIZE];

	if (!auth_mfa_user(req, &user, &uid, err))
		goto done;
	o = json_object_new_object();
	if (!o) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate a response");
		goto done;
	}
	enabled = auth_mfa_enabled(&user);
	json_object_object_add(o, "enabled", json_object_new_boolean(enabled));
	json_object_object_add(o, "pending", json_object_new_boolean(!enabled &&
								      auth_mfa_pending(&user)));
	if (enabled && bson_iter_init(&it, &user) &&
	    bson_iter_find_descendant(&it, "mfa.enrolled_at", &at) && BSON_ITER_HOLDS_DATE_TIME(&at) &&
	    em_time_rfc3339(bson_iter_date_time(&at), when, sizeof when))
		json_object_object_add(o, "enrolled_at", json_object_new_string(when));
	else
		json_object_object_add(o, "enrolled_at", NULL);
	em_response_json(req, 200, o);
	ok = true;
done:
	bson_destroy(&user);
	return ok;
}

/* The string mfa.pending_box of user, or NULL. */
static const char *auth_mfa_pending(const bson_t *user)
{
	bson_iter_t it, sub;

	if (bson_iter_init_find(&it, user, "mfa") && BSON_ITER_HOLDS_DOCUMENT(&it) &&
	    bson_iter_recurse(&it, &sub) && bson_iter_find(&sub, "pending_box") &&
	    BSON_ITER_HOLDS_UTF8(&sub))
		return bson_iter_utf8(&sub, NULL);
	return NULL;
}

/*
 * POST /api/v1/me/mfa/totp/confirm {code}: the code of the pending secret
 * turns the factor on; 200 {recovery_codes: [10]} (shown this once, stored
 * as HMACs). Every session of the account ends, this one too: the user
 * signs in again, with the factor.
 */
static bool auth_mfa_totp_confirm(struct em_request *req, struct em_error *err)
{
	unsigned char secret[AUTH_TOTP_SECRET_BYTES];
	char codes[AUTH_RECOVERY_CODES][AUTH_RECOVERY_CODE_LEN + 1], hash[65];
	bson_t user = BSON_INITIALIZER, filter = BSON_INITIALIZER, update = BSON_INITIALIZER;
	bson_t set, unset, arr, reply;
	mongoc_collection_t *coll = NULL;
	bson_error_t berr;
	bson_oid_t uid;
	bson_iter_t it;
	json_object *o, *list;
	const char *code, *pending;
	int64_t step;
	bool ok = false, called = false;

	memset(codes, 0, sizeof(codes));
	if (!auth_mfa_user(req, &user, &uid, err))
		goto done;
	/* every field checked, every fault reported at once */
	em_error_collect(err);
	if (auth_body_check(req, confirm_fields, err) || err->field[0])
		auth_body_string(req->json, "code", 1, 16, true, &code, err);
	if (!em_error_collect_end(err))
		goto done;
	pending = auth_mfa_pending(&user);
	if (auth_mfa_enabled(&user) || !pending) {
		em_error_set(err, EM_ERR_CONFLICT, NULL,
			     "no enrolment is pending: POST /api/v1/me/mfa/totp first");
		goto done;
	}
	if (!auth_totp_open(&req->app->cfg, pending, secret)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot open the pending TOTP secret");
		goto done;
	}
	if (!auth_totp_match(secret, sizeof(secret), code, (int64_t)time(NULL), &step)) {
		em_error_set(err, EM_ERR_INVALID, "code", "the code is wrong or too old");
		goto done;
	}
	BSON_APPEND_OID(&filter, "_id", &uid);
	BSON_APPEND_UTF8(&filter, "mfa.pending_box", pending); /* the one this code proves */
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
	BSON_APPEND_BOOL(&set, "mfa.enabled", true);
	BSON_APPEND_UTF8(&set, "mfa.secret_box", pending);
	BSON_APPEND_INT64(&set, "mfa.last_step", step);
	BSON_APPEND_DATE_TIME(&set, "mfa.enrolled_at", em_now_ms());
	BSON_APPEND_ARRAY_BEGIN(&set, "mfa.recovery", &arr);
	for (int i = 0; i < AUTH_RECOVERY_CODES; i++) {
		char key[16];

		auth_recovery_code_new(codes[i]);
		auth_recovery_hash(&req->app->cfg, &uid, codes[i], hash);
		snprintf(key, sizeof(key), "%d", i);
		BSON_APPEND_UTF8(&arr, key, hash);
	}
	bson_append_array_end(&set, &arr);
	BSON_APPEND_DATE_TIME(&set, "updated_at", em_now_ms());
	bson_append_document_end(&update, &set);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$unset", &unset);
	BSON_APPEND_UTF8(&unset, "mfa.pending_box", "");
	bson_append_document_end(&update, &unset);
	coll = store_collection(&req->app->store, "users");
	called = true; /* reply is initialised by the call, whatever it returns */
	if (!mongoc_collection_update_one(coll, &filter, &update, NULL, &reply, &berr)) {
		store_error_set(err, &berr, "turn the second factor on");
		goto done;
	}
	if (!bson_iter_init_find(&it, &reply, "modifiedCount") || bson_iter_as_int64(&it) != 1) {
		em_error_set(err, EM_ERR_CONFLICT, NULL, "the enrolment changed meanwhile; start again");
		goto done;
	}
	em_info("second factor turned on for user %s", req->user_id);
	/* Sessions opened with the password alone end: from now on every
	 * session of the account has passed the second factor. */
	if (!auth_user_sessions_revoke(&req->app->store, NULL, &uid, err))
		goto done;
	o = json_object_new_object();
	list = json_object_new_array();
	for (int i = 0; list && i < AUTH_RECOVERY_CODES; i++)
		json_object_array_add(list, json_object_new_string(codes[i]));
	if (o)
		json_object_object_add(o, "recovery_codes", list);
	else
		json_object_put(list);
	em_response_json(req, 200, o);
	ok = true;
done:
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(codes, sizeof(codes));
	if (called)
		bson_destroy(&reply);
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&update);
	bson_destroy(&user);
	return ok;
}

static const struct em_route auth_mfa_table[] = {
	/* customer: the router's floor; the handlers want staff or admin (an
	 * admin that EMPORIUM_ADMIN_MFA=required holds at customer enrols here) */
	{ "GET", "/api/v1/me/mfa/totp", auth_mfa_totp_get, EM_ROLE_CUSTOMER, EM_BODY_NONE, NULL },
	{ "POST", "/api/v1/me/mfa/totp", auth_mfa_totp_begin, EM_ROLE_CUSTOMER, EM_BODY_NONE, NULL },
	{ "POST", "/api/v1/me/mfa/totp/confirm", auth_mfa_totp_confirm, EM_ROLE_CUSTOMER,
	  EM_BODY_JSON, NULL },
};

const struct em_route_table auth_mfa_routes = EM_ROUTE_TABLE("me-mfa", auth_mfa_table);
