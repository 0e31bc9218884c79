/*
 * users.c - reading the users collection, and the user as the API shows
 * it. Writes live with the flows that make them (auth_routes.c,
 * me_routes.c, admin_routes.c, admin_cmd.c).
 */
#include <string.h>

#include "app/app.h"
#include "auth/accounts.h"
#include "auth/auth.h"

const char *auth_doc_utf8(const bson_t *doc, const char *key)
{
	bson_iter_t it;

	if (bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_UTF8(&it))
		return bson_iter_utf8(&it, NULL);
	return NULL;
}

bool auth_doc_bool(const bson_t *doc, const char *key)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_BOOL(&it) &&
	       bson_iter_bool(&it);
}

bool auth_doc_oid(const bson_t *doc, const char *key, bson_oid_t *out)
{
	bson_iter_t it;

	if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_OID(&it))
		return false;
	bson_oid_copy(bson_iter_oid(&it), out);
	return true;
}

/* Finds one user by filter and copies it into out. */
static bool auth_user_find(struct em_store *st, const bson_t *filter, bson_t *out,
			   bool *found, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "users");
	bson_t *opts = BCON_NEW("limit", BCON_INT64(1));
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, opts, NULL);
	const bson_t *doc;
	bson_error_t berr;
	bool ok = true;

	*found = false;
	if (mongoc_cursor_next(cur, &doc)) {
		bson_destroy(out);
		bson_copy_to(doc, out);
		*found = true;
	} else if (mongoc_cursor_error(cur, &berr)) {
		store_error_set(err, &berr, "load user");
		ok = false;
	}
	mongoc_cursor_destroy(cur);
	bson_destroy(opts);
	mongoc_collection_destroy(coll);
	return ok;
}

bool auth_user_find_by_id(struct em_store *st, const bson_oid_t *id, bson_t *out,
			  bool *found, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER;
	bool ok;

	BSON_APPEND_OID(&filter, "_id", id);
	ok = auth_user_find(st, &filter, out, found, err);
	bson_destroy(&filter);
	return ok;
}

bool auth_user_find_by_email(struct em_store *st, const char *email, bson_t *out,
			     bool *found, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER;
	bool ok;

	BSON_APPEND_UTF8(&filter, "email", email);
	ok = auth_user_find(st, &filter, out, found, err);
	bson_destroy(&filter);
	return ok;
}

json_object *auth_user_json(const bson_t *doc)
{
	json_object *o = json_object_new_object();
	bson_oid_t oid;
	bson_iter_t it;
	char hex[25], date[EM_TIME_RFC3339_SIZE];
	const char *s;

	if (!o)
		return NULL;
	if (auth_doc_oid(doc, "_id", &oid)) {
		bson_oid_to_string(&oid, hex);
		json_object_object_add(o, "id", json_object_new_string(hex));
	}
	s = auth_doc_utf8(doc, "email");
	json_object_object_add(o, "email", s ? json_object_new_string(s) : NULL);
	s = auth_doc_utf8(doc, "name");
	json_object_object_add(o, "name", s ? json_object_new_string(s) : NULL);
	s = auth_doc_utf8(doc, "phone");
	json_object_object_add(o, "phone", s ? json_object_new_string(s) : NULL);
	s = auth_doc_utf8(doc, "role");
	json_object_object_add(o, "role", s ? json_object_new_string(s) : NULL);
	json_object_object_add(o, "email_verified",
			       json_object_new_boolean(auth_doc_bool(doc, "email_verified")));
	json_object_object_add(o, "disabled",
			       json_object_new_boolean(auth_doc_bool(doc, "disabled")));
	/* the one timestamp format (RFC 3339 UTC with milliseconds) */
	if (bson_iter_init_find(&it, doc, "created_at") && BSON_ITER_HOLDS_DATE_TIME(&it) &&
	    em_time_rfc3339(bson_iter_date_time(&it), date, sizeof(date)))
		json_object_object_add(o, "created_at", json_object_new_string(date));
	return o;
}

bool auth_user_is_verified(struct em_store *st, const char *user_id_hex, bool *verified,
			   struct em_error *err)
{
	bson_t user = BSON_INITIALIZER;
	bson_oid_t oid;
	bool found = false, ok;

	*verified = false;
	if (!em_oid_parse(user_id_hex, &oid)) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such user");
		bson_destroy(&user);
		return false;
	}
	ok = auth_user_find_by_id(st, &oid, &user, &found, err);
	if (ok && !found) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such user");
		ok = false;
	}
	if (ok)
		*verified = auth_doc_bool(&user, "email_verified") &&
			    !auth_doc_bool(&user, "disabled");
	bson_destroy(&user);
	return ok;
}
