/*
 * session_http.c - the HTTP side of a session: the sign-in response body,
 * the __Host- cookies, and the request-body checks the accounts routes
 * share. What goes into a session is decided in tokens.c; this file only
 * writes it out.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "auth/auth.h"
#include "auth/auth_http.h"
#include "http/peer.h"
#include "core/json.h"

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

/* The client as the throttles count it: an IPv6 client by its /64. */
const char *auth_client_addr(struct em_request *req)
{
	char key[64];

	em_peer_client_key(req->remote_addr, key, sizeof key);
	return em_request_strdup(req, key);
}

/* Set-Cookie for the refresh token and its CSRF companion. */
static void auth_session_cookies(struct em_request *req, const char *refresh,
				 const char *csrf, int max_age)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s=%s; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=%d",
		 AUTH_REFRESH_COOKIE, refresh, max_age);
	em_response_header(req, "Set-Cookie", buf);
	/* Readable by the shop's script, which echoes it in X-CSRF-Token. */
	snprintf(buf, sizeof(buf), "%s=%s; Path=/; Secure; SameSite=Strict; Max-Age=%d",
		 AUTH_CSRF_COOKIE, csrf, max_age);
	em_response_header(req, "Set-Cookie", buf);
}

void auth_session_cookies_clear(struct em_request *req)
{
	auth_session_cookies(req, "", "", 0);
}

bool auth_session_respond(struct em_request *req, const struct auth_refresh *rt,
			  bool with_body_token, struct em_error *err)
{
	struct auth_session s;
	json_object *o;
	bool ok = false;

	if (!auth_session_make(&req->app->store, &req->app->cfg, rt, &s, err))
		goto done;
	o = json_object_new_object();
	if (!o) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate a response");
		goto done;
	}
	json_object_object_add(o, "access_token", json_object_new_string(s.access));
	json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
	json_object_object_add(o, "expires_in", json_object_new_int(s.expires_in));
	if (with_body_token)
		json_object_object_add(o, "refresh_token", json_object_new_string(rt->token));
	json_object_object_add(o, "csrf_token", json_object_new_string(s.csrf));
	auth_session_cookies(req, rt->token, s.csrf, s.refresh_max_age);
	em_response_json(req, 200, o);
	ok = true;
done:
	auth_session_release(&s);
	return ok;
}

bool auth_session_issue(struct em_request *req, const bson_oid_t *user_id,
			struct em_error *err)
{
	bson_t user = BSON_INITIALIZER;
	bool found = false, mfa;

	/* A caller without the second factor (OpenID Connect) cannot sign in
	 * an account that has one: it must use its password and code. */
	if (!auth_user_find_by_id(&req->app->store, user_id, &user, &found, err)) {
		bson_destroy(&user);
		return false;
	}
	mfa = found && auth_mfa_enabled(&user);
	bson_destroy(&user);
	if (mfa) {
		em_error_set(err, EM_ERR_FORBIDDEN, NULL,
			     "this account signs in with its password and second factor");
		return false;
	}
	return auth_session_issue_passed(req, user_id, err);
}

bool auth_session_issue_passed(struct em_request *req, const bson_oid_t *user_id,
			       struct em_error *err)
{
	struct auth_refresh rt;
	bool ok;

	if (!auth_refresh_create(&req->app->store, &req->app->cfg, user_id, &rt, err))
		return false;
	ok = auth_session_respond(req, &rt, true, err);
	sodium_memzero(&rt, sizeof(rt));
	return ok;
}
