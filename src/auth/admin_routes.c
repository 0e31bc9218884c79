/*
 * admin_routes.c - /api/v1/admin/users: list and search accounts, change
 * a role, disable and enable. Admin only (the router checks the role).
 *
 * The e-mail search is a prefix match done as a range on the indexed
 * email field ([prefix, prefix + U+10FFFF)), never a regular expression
 * built from the caller's text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "auth/accounts.h"
#include "auth/auth.h"
#include "auth/auth_http.h"
#include "auth/auth_routes.h"
#include "http/page.h"
#include "store/page.h"
#include "core/json.h"
#include "core/log.h"

#define AUTH_USERS_PAGE_DEFAULT 20

static json_object *auth_admin_user_item(const bson_t *doc, void *ctx)
{
	(void)ctx;
	return auth_user_json(doc);
}

/* GET /api/v1/admin/users?limit=&cursor=&email= (oldest first; email: a prefix) */
static bool auth_admin_users_list(struct em_request *req, struct em_error *err)
{
	static const char *const params[] = { "email", "limit", "cursor", NULL };
	const char *prefix = em_request_query(req, "email");
	bson_t filter = BSON_INITIALIZER, range, *projection = NULL;
	char *upper = NULL;
	bool ok = false;

	if (!em_request_query_check(req, params, 2 * AUTH_EMAIL_MAX, err))
		goto done;
	if (prefix && *prefix) {
		size_t len = strlen(prefix);

		if (len > AUTH_EMAIL_MAX || !bson_utf8_validate(prefix, len, false)) {
			em_error_setc(err, EM_ERR_INVALID, "email", EM_CODE_TOO_LONG,
				      "email must be at most %d bytes of UTF-8", AUTH_EMAIL_MAX);
			goto done;
		}
		upper = em_request_alloc(req, len + 5);
		for (size_t i = 0; i < len; i++) /* emails are stored lower-case */
			upper[i] = (char)((prefix[i] >= 'A' && prefix[i] <= 'Z') ? prefix[i] + 32
										 : prefix[i]);
		upper[len] = '\0';
		BSON_APPEND_DOCUMENT_BEGIN(&filter, "email", &range);
		BSON_APPEND_UTF8(&range, "$gte", upper);
		memcpy(upper + len, "\xf4\x8f\xbf\xbf", 5); /* U+10FFFF sorts after all */
		BSON_APPEND_UTF8(&range, "$lt", upper);
		bson_append_document_end(&filter, &range);
	}
	/* the hash never leaves the database, whatever the renderer does */
	projection = BCON_NEW("password_hash", BCON_INT32(0));
	ok = em_page_list_by_id(req, &req->app->store, "users", &filter, projection, false,
				AUTH_USERS_PAGE_DEFAULT, auth_admin_user_item, NULL, "list users",
				err);
done:
	if (projection)
		bson_destroy(projection);
	bson_destroy(&filter);
	return ok;
}

static bool auth_admin_user_render(struct em_request *req, const bson_oid_t *uid,
				   struct em_error *err)
{
	bson_t user = BSON_INITIALIZER;
	bool found = false, ok = false;

	if (!auth_user_find_by_id(&req->app->store, uid, &user, &found, err))
		goto done;
	if (!found) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such user");
		goto done;
	}
	em_response_json(req, 200, auth_user_json(&user));
	ok = true;
done:
	bson_destroy(&user);
	return ok;
}

/* GET /api/v1/admin/users/{id} */
static bool auth_admin_user_get(struct em_request *req, struct em_error *err)
{
	bson_oid_t uid;

	if (!em_oid_parse(em_request_path_param(req, "id"), &uid)) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such user");
		return false;
	}
	return auth_admin_user_render(req, &uid, err);
}

static const char *const admin_user_fields[] = { "role", "disabled", NULL };

/*
 * PATCH /api/v1/admin/users/{id} {role?, disabled?}. Disabling ends every
 * session of the account; a role change ends its access tokens. An admin cannot change or disable their own account here, so the
 * last admin cannot lock everyone out by accident.
 */
static bool auth_admin_user_patch(struct em_request *req, struct em_error *err)
{
	const char *id = em_request_path_param(req, "id"), *role = NULL;
	mongoc_collection_t *coll = NULL;
	bson_t set = BSON_INITIALIZER, update = BSON_INITIALIZER, *filter = NULL;
	bson_t reply = BSON_INITIALIZER;
	bson_error_t berr;
	bson_oid_t uid, self;
	bson_iter_t it;
	json_object *v;
	enum em_role r;
	bool ok = false, disable = false, has_disabled = false, replied = false;

	if (!em_oid_parse(id, &uid)) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such user");
		goto done;
	}
	/* every field checked, every fault reported at once */
	em_error_collect(err);
	if (auth_body_check(req, admin_user_fields, err) || err->field[0]) {
		if (auth_body_string(req->json, "role", 1, 16, false, &role, err) && role &&
		    !auth_role_parse(role, &r))
			em_error_setc(err, EM_ERR_INVALID, "role", EM_CODE_INVALID_VALUE,
				      "role must be customer, staff or admin");
		if (json_object_object_get_ex(req->json, "disabled", &v)) {
			if (!json_object_is_type(v, json_type_boolean)) {
				em_error_setc(err, EM_ERR_INVALID, "disabled", EM_CODE_INVALID_TYPE,
					      "disabled must be true or false");
			} else {
				has_disabled = true;
				disable = json_object_get_boolean(v);
			}
		}
		if (err->kind == EM_ERR_NONE && !role && !has_disabled)
			em_error_setc(err, EM_ERR_INVALID, "body", EM_CODE_REQUIRED,
				      "send role and/or disabled");
	}
	if (!em_error_collect_end(err))
		goto done;
	/* Compare the ids, not their spelling: hex digits in either case
	 * name the same account. */
	if (em_oid_parse(req->user_id, &self) && bson_oid_equal(&uid, &self)) {
		em_error_set(err, EM_ERR_CONFLICT, NULL,
			     "admins cannot change their own role or disable themselves");
		goto done;
	}
	if (role)
		BSON_APPEND_UTF8(&set, "role", role);
	if (has_disabled)
		BSON_APPEND_BOOL(&set, "disabled", disable);
	BSON_APPEND_DATE_TIME(&set, "updated_at", em_now_ms());
	BSON_APPEND_DOCUMENT(&update, "$set", &set);
	filter = BCON_NEW("_id", BCON_OID(&uid));
	coll = store_collection(&req->app->store, "users");
	replied = mongoc_collection_update_one(coll, filter, &update, NULL, &reply, &berr);
	if (!replied) {
		store_error_set(err, &berr, "update user");
		goto done;
	}
	if (!bson_iter_init_find(&it, &reply, "matchedCount") || bson_iter_as_int64(&it) != 1) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such user");
		goto done;
	}
	em_info("admin %s changed user %s:%s%s%s", req->user_id, id, role ? " role=" : "",
		role ? role : "", has_disabled ? (disable ? " disabled" : " enabled") : "");
	/* Disabling ends every session at once (refresh tokens revoked, access
	 * tokens refused); a role change ends the access tokens, and the next
	 * refresh mints one with the new role. */
	if (has_disabled && disable &&
	    !auth_user_sessions_revoke(&req->app->store, NULL, &uid, err))
		goto done;
	if (role && !(has_disabled && disable) &&
	    !auth_user_token_version_bump(&req->app->store, NULL, &uid, err))
		goto done;
	ok = auth_admin_user_render(req, &uid, err);
done:
	bson_destroy(&reply);
	if (coll)
		mongoc_collection_destroy(coll);
	if (filter)
		bson_destroy(filter);
	bson_destroy(&set);
	bson_destroy(&update);
	return ok;
}

static const struct em_route auth_admin_table[] = {
	{ "GET", "/api/v1/admin/users", auth_admin_users_list, EM_ROLE_ADMIN, EM_BODY_NONE, NULL },
	{ "GET", "/api/v1/admin/users/{id}", auth_admin_user_get, EM_ROLE_ADMIN, EM_BODY_NONE,
	  NULL },
	{ "PATCH", "/api/v1/admin/users/{id}", auth_admin_user_patch, EM_ROLE_ADMIN, EM_BODY_JSON,
	  NULL },
};

const struct em_route_table auth_admin_routes = EM_ROUTE_TABLE("admin-users", auth_admin_table);
