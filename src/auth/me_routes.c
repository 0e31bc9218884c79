/*
 * me_routes.c - the signed-in caller's own account: GET/PATCH /api/v1/me
 * and the address book under /api/v1/me/addresses.
 *
 * Every query carries the caller's user_id from the access token, never
 * an id from the request alone: another customer's address id finds
 * nothing and answers 404, exactly like an id that does not exist.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "auth/accounts.h"
#include "auth/auth.h"
#include "auth/auth_http.h"
#include "auth/auth_routes.h"
#include "core/json.h"

#define AUTH_ADDRESSES_MAX 20

/* The caller's id (set by the authenticator) as an ObjectId. */
static bool auth_me_oid(struct em_request *req, bson_oid_t *oid, struct em_error *err)
{
	if (!em_oid_parse(req->user_id, oid)) {
		em_error_set(err, EM_ERR_UNAUTHENTICATED, NULL, "no signed-in account");
		return false;
	}
	return true;
}

static bool auth_me_render(struct em_request *req, const bson_oid_t *uid, struct em_error *err)
{
	bson_t user = BSON_INITIALIZER;
	bool found = false, ok = false;
	json_object *o;

	if (!auth_user_find_by_id(&req->app->store, uid, &user, &found, err))
		goto done;
	if (!found) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such account");
		goto done;
	}
	o = auth_user_json(&user);
	if (!o) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate a response");
		goto done;
	}
	em_response_json(req, 200, o);
	ok = true;
done:
	bson_destroy(&user);
	return ok;
}

/* GET /api/v1/me */
static bool auth_me_get(struct em_request *req, struct em_error *err)
{
	bson_oid_t uid;

	return auth_me_oid(req, &uid, err) && auth_me_render(req, &uid, err);
}

static const char *const me_fields[] = { "name", "phone", NULL };

/*
 * PATCH /api/v1/me {name?, phone? (null clears)}: the only fields a
 * caller may change about themselves; role, email, email_verified and
 * the rest are refused by name.
 */
static bool auth_me_patch(struct em_request *req, struct em_error *err)
{
	bson_t set = BSON_INITIALIZER, unset = BSON_INITIALIZER, update = BSON_INITIALIZER;
	bson_t *filter = NULL;
	mongoc_collection_t *coll = NULL;
	bson_error_t berr;
	bson_oid_t uid;
	json_object *v;
	const char *name = NULL, *phone = NULL;
	bool ok = false, phone_null = false;

	if (!auth_me_oid(req, &uid, err))
		goto done;
	/* every field checked, every fault reported at once */
	em_error_collect(err);
	if (auth_body_check(req, me_fields, err) || err->field[0]) {
		/* name is not nullable: the accessor refuses null */
		if (auth_body_string(req->json, "name", 1, AUTH_NAME_MAX, false, &name, err) && name)
			auth_person_name_check("name", name, err);
		/* phone is nullable: null clears it (read before the accessor,
		 * which refuses null for a field that is not) */
		phone_null = json_object_object_get_ex(req->json, "phone", &v) &&
			     json_object_is_type(v, json_type_null);
		if (!phone_null &&
		    auth_body_string(req->json, "phone", 1, 20, false, &phone, err) && phone)
			auth_phone_check("phone", phone, err);
	}
	if (!em_error_collect_end(err))
		goto done;
	if (name)
		BSON_APPEND_UTF8(&set, "name", name);
	if (phone)
		BSON_APPEND_UTF8(&set, "phone", phone);
	else if (phone_null)
		BSON_APPEND_NULL(&set, "phone");
	BSON_APPEND_DATE_TIME(&set, "updated_at", em_now_ms());
	BSON_APPEND_DOCUMENT(&update, "$set", &set);
	filter = BCON_NEW("_id", BCON_OID(&uid));
	coll = store_collection(&req->app->store, "users");
	if (!mongoc_collection_update_one(coll, filter, &update, NULL, NULL, &berr)) {
		store_error_set(err, &berr, "update profile");
		goto done;
	}
	ok = auth_me_render(req, &uid, err);
done:
	if (coll)
		mongoc_collection_destroy(coll);
	if (filter)
		bson_destroy(filter);
	bson_destroy(&set);
	bson_destroy(&unset);
	bson_destroy(&update);
	return ok;
}

/* ---- address book ---- */

/* ISO 3166-1 alpha-2 codes assigned today. */
static const char auth_countries[] =
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO "
	"BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ "
	"DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP "
	"GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG "
	"KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML "
	"MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE "
	"PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL "
	"SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM "
	"US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

static bool auth_country_valid(const char *c)
{
	/* entries are "XX" separated by one space; the last has none */
	if (strlen(c) != 2)
		return false;
	for (size_t i = 0; i + 1 < sizeof(auth_countries) - 1; i += 3)
		if (auth_countries[i] == c[0] && auth_countries[i + 1] == c[1])
			return true;
	return false;
}

struct auth_addr_field {
	const char *name;
	size_t max;
	bool required;
};

static const struct auth_addr_field auth_addr_fields[] = {
	{ "name", 100, true },       { "line1", 200, true },     { "line2", 200, false },
	{ "city", 100, true },       { "region", 100, false },   { "postal_code", 20, true },
	{ "country", 2, true },      { "phone", 20, false },
};
#define AUTH_ADDR_NFIELDS (sizeof(auth_addr_fields) / sizeof(auth_addr_fields[0]))

static const char *const addr_body_fields[] = {
	"name", "line1", "line2", "city", "region", "postal_code", "country", "phone",
	"default_shipping", "default_billing", NULL,
};

/* Per-field rules beyond length: no control characters; codes and phone. */
static bool auth_addr_value_check(const char *field, const char *v, struct em_error *err)
{
	if (strcmp(field, "country") == 0) {
		if (!auth_country_valid(v)) {
			em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_INVALID_FORMAT,
				      "country must be an ISO 3166-1 alpha-2 code in capitals (\"BD\")");
			return false;
		}
		return true;
	}
	if (strcmp(field, "phone") == 0)
		return auth_phone_check(field, v, err);
	if (strcmp(field, "postal_code") == 0) {
		for (const char *p = v; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != ' ' && *p != '-') {
				em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_INVALID_FORMAT,
					      "postal_code may hold letters, digits, spaces and '-'");
				return false;
			}
	}
	return auth_name_check(field, v, err);
}

/*
 * Validates an address body into set (fields present) and unset (optional
 * fields sent as null). creating: required fields must be there. The
 * default flags come back through *ship / *bill (-1 absent, 0, 1).
 */
static bool auth_addr_parse(json_object *body, bool creating, bson_t *set, bson_t *unset,
			    int *ship, int *bill, struct em_error *err)
{
	/* every field checked, every fault reported at once */
	em_error_collect(err);
	if (!em_json_check_fields(body, addr_body_fields, err) && !err->field[0])
		goto done; /* not an object: nothing more to check */
	for (size_t i = 0; i < AUTH_ADDR_NFIELDS; i++) {
		const struct auth_addr_field *f = &auth_addr_fields[i];
		json_object *v;
		const char *s;
		bool present = json_object_object_get_ex(body, f->name, &v);

		/* null clears an optional field; on a required one it is
		 * "required" where the request needs it (a create), else (a
		 * PATCH) a value of the wrong type: the field cannot be removed */
		if (present && json_object_is_type(v, json_type_null)) {
			if (!f->required)
				BSON_APPEND_UTF8(unset, f->name, "");
			else if (creating)
				em_error_setc(err, EM_ERR_INVALID, f->name, EM_CODE_REQUIRED,
					      "%s is required", f->name);
			else
				em_error_setc(err, EM_ERR_INVALID, f->name, EM_CODE_INVALID_TYPE,
					      "%s cannot be null (it cannot be removed)", f->name);
			continue;
		}
		if (!auth_body_string(body, f->name, 1, f->max, creating && f->required, &s, err) ||
		    !s || !auth_addr_value_check(f->name, s, err))
			continue;
		BSON_APPEND_UTF8(set, f->name, s);
	}
	*ship = *bill = -1;
	for (int k = 0; k < 2; k++) {
		const char *name = k ? "default_billing" : "default_shipping";
		json_object *v;
		int *out = k ? bill : ship;

		if (!json_object_object_get_ex(body, name, &v))
			continue;
		if (!json_object_is_type(v, json_type_boolean)) {
			em_error_setc(err, EM_ERR_INVALID, name, EM_CODE_INVALID_TYPE,
				      "%s must be true or false", name);
			continue;
		}
		*out = json_object_get_boolean(v) ? 1 : 0;
		BSON_APPEND_BOOL(set, name, *out == 1);
	}
done:
	return em_error_collect_end(err);
}

static json_object *auth_addr_json(const bson_t *doc)
{
	json_object *o = json_object_new_object();
	bson_oid_t oid;
	char hex[25];

	if (!o)
		return NULL;
	if (auth_doc_oid(doc, "_id", &oid)) {
		bson_oid_to_string(&oid, hex);
		json_object_object_add(o, "id", json_object_new_string(hex));
	}
	for (size_t i = 0; i < AUTH_ADDR_NFIELDS; i++) {
		const char *s = auth_doc_utf8(doc, auth_addr_fields[i].name);

		json_object_object_add(o, auth_addr_fields[i].name,
				       s ? json_object_new_string(s) : NULL);
	}
	json_object_object_add(o, "default_shipping",
			       json_object_new_boolean(auth_doc_bool(doc, "default_shipping")));
	json_object_object_add(o, "default_billing",
			       json_object_new_boolean(auth_doc_bool(doc, "default_billing")));
	return o;
}

/* Clears a default flag on the user's other addresses (one default each). */
static bool auth_addr_default_clear(mongoc_collection_t *coll, const bson_oid_t *uid,
				    const bson_oid_t *keep, const char *flag,
				    struct em_error *err)
{
	bson_t *filter = BCON_NEW("user_id", BCON_OID(uid), "_id", "{", "$ne", BCON_OID(keep), "}");
	bson_t *update = BCON_NEW("$set", "{", flag, BCON_BOOL(false), "}");
	bson_error_t berr;
	bool ok = mongoc_collection_update_many(coll, filter, update, NULL, NULL, &berr);

	if (!ok)
		store_error_set(err, &berr, "clear default address");
	bson_destroy(filter);
	bson_destroy(update);
	return ok;
}

/* Loads the caller's address {id} into out; 404 when not theirs. */
static bool auth_addr_load(mongoc_collection_t *coll, const bson_oid_t *uid, const char *id,
			   bson_oid_t *aid, bson_t *out, struct em_error *err)
{
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_t *filter;
	bson_error_t berr;
	bool ok = false;

	if (!em_oid_parse(id, aid)) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such address");
		return false;
	}
	filter = BCON_NEW("_id", BCON_OID(aid), "user_id", BCON_OID(uid));
	cur = mongoc_collection_find_with_opts(coll, filter, NULL, NULL);
	if (mongoc_cursor_next(cur, &doc)) {
		bson_destroy(out);
		bson_copy_to(doc, out);
		ok = true;
	} else if (mongoc_cursor_error(cur, &berr)) {
		store_error_set(err, &berr, "load address");
	} else {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such address");
	}
	mongoc_cursor_destroy(cur);
	bson_destroy(filter);
	return ok;
}

/* GET /api/v1/me/addresses: all of them (at most AUTH_ADDRESSES_MAX). */
static bool auth_addr_list(struct em_request *req, struct em_error *err)
{
	mongoc_collection_t *coll = NULL;
	mongoc_cursor_t *cur = NULL;
	const bson_t *doc;
	bson_t *filter = NULL, *opts = NULL;
	bson_error_t berr;
	bson_oid_t uid;
	json_object *o = NULL, *items;
	bool ok = false;

	/* No paging: the whole book fits one answer, so limit/cursor are
	 * refused like any unknown name rather than silently ignored. */
	if (!em_request_query_check(req, NULL, 0, err) || !auth_me_oid(req, &uid, err))
		return false;
	o = json_object_new_object();
	items = json_object_new_array();
	if (!o || !items) {
		json_object_put(items);
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate a response");
		goto done;
	}
	json_object_object_add(o, "items", items);
	json_object_object_add(o, "next_cursor", NULL);
	filter = BCON_NEW("user_id", BCON_OID(&uid));
	/* oldest first by the time of creation in milliseconds: an ObjectId
	 * orders only to the second across worker processes */
	opts = BCON_NEW("sort", "{", "created_at", BCON_INT32(1), "_id", BCON_INT32(1), "}",
			"limit", BCON_INT64(AUTH_ADDRESSES_MAX));
	coll = store_collection(&req->app->store, "addresses");
	cur = mongoc_collection_find_with_opts(coll, filter, opts, NULL);
	while (mongoc_cursor_next(cur, &doc)) {
		json_object *a = auth_addr_json(doc);

		if (a)
			json_object_array_add(items, a);
	}
	if (mongoc_cursor_error(cur, &berr)) {
		store_error_set(err, &berr, "list addresses");
		goto done;
	}
	em_response_json(req, 200, o);
	o = NULL;
	ok = true;
done:
	json_object_put(o);
	if (cur)
		mongoc_cursor_destroy(cur);
	if (coll)
		mongoc_collection_destroy(coll);
	if (filter)
		bson_destroy(filter);
	if (opts)
		bson_destroy(opts);
	return ok;
}

/* POST /api/v1/me/addresses: 201 with the new address. */
static bool auth_addr_create(struct em_request *req, struct em_error *err)
{
	mongoc_collection_t *coll = NULL;
	bson_t set = BSON_INITIALIZER, unset = BSON_INITIALIZER, doc = BSON_INITIALIZER;
	bson_t *count_filter = NULL;
	bson_error_t berr;
	bson_oid_t uid, aid;
	int ship, bill;
	int64_t n, now = em_now_ms();
	bool ok = false;
	char hex[25], loc[64];

	if (!auth_me_oid(req, &uid, err) ||
	    !auth_addr_parse(req->json, true, &set, &unset, &ship, &bill, err))
		goto done;
	coll = store_collection(&req->app->store, "addresses");
	count_filter = BCON_NEW("user_id", BCON_OID(&uid));
	n = mongoc_collection_count_documents(coll, count_filter, NULL, NULL, NULL, &berr);
	if (n < 0) {
		store_error_set(err, &berr, "count addresses");
		goto done;
	}
	if (n >= AUTH_ADDRESSES_MAX) {
		em_error_set(err, EM_ERR_CONFLICT, NULL,
			     "an account can keep at most %d addresses; delete one first",
			     AUTH_ADDRESSES_MAX);
		goto done;
	}
	/* The first address is the default for both until told otherwise. */
	if (n == 0) {
		ship = ship == -1 ? 1 : ship;
		bill = bill == -1 ? 1 : bill;
	}
	bson_oid_init(&aid, NULL);
	BSON_APPEND_OID(&doc, "_id", &aid);
	BSON_APPEND_OID(&doc, "user_id", &uid);
	bson_concat(&doc, &set);
	if (!bson_has_field(&set, "default_shipping"))
		BSON_APPEND_BOOL(&doc, "default_shipping", ship == 1);
	if (!bson_has_field(&set, "default_billing"))
		BSON_APPEND_BOOL(&doc, "default_billing", bill == 1);
	BSON_APPEND_DATE_TIME(&doc, "created_at", now);
	BSON_APPEND_DATE_TIME(&doc, "updated_at", now);
	if (!mongoc_collection_insert_one(coll, &doc, NULL, NULL, &berr)) {
		store_error_set(err, &berr, "create address");
		goto done;
	}
	if ((ship == 1 && !auth_addr_default_clear(coll, &uid, &aid, "default_shipping", err)) ||
	    (bill == 1 && !auth_addr_default_clear(coll, &uid, &aid, "default_billing", err)))
		goto done;
	bson_oid_to_string(&aid, hex);
	snprintf(loc, sizeof(loc), "/api/v1/me/addresses/%s", hex);
	em_response_header(req, "Location", loc);
	em_response_json(req, 201, auth_addr_json(&doc));
	ok = true;
done:
	if (coll)
		mongoc_collection_destroy(coll);
	if (count_filter)
		bson_destroy(count_filter);
	bson_destroy(&set);
	bson_destroy(&unset);
	bson_destroy(&doc);
	return ok;
}

/* GET /api/v1/me/addresses/{id} */
static bool auth_addr_get(struct em_request *req, struct em_error *err)
{
	mongoc_collection_t *coll;
	bson_t doc = BSON_INITIALIZER;
	bson_oid_t uid, aid;
	bool ok = false;

	if (!auth_me_oid(req, &uid, err)) {
		bson_destroy(&doc);
		return false;
	}
	coll = store_collection(&req->app->store, "addresses");
	if (auth_addr_load(coll, &uid, em_request_path_param(req, "id"), &aid, &doc, err)) {
		em_response_json(req, 200, auth_addr_json(&doc));
		ok = true;
	}
	mongoc_collection_destroy(coll);
	bson_destroy(&doc);
	return ok;
}

/* PATCH /api/v1/me/addresses/{id}: the fields sent; null removes an optional one. */
static bool auth_addr_patch(struct em_request *req, struct em_error *err)
{
	mongoc_collection_t *coll = NULL;
	bson_t set = BSON_INITIALIZER, unset = BSON_INITIALIZER, update = BSON_INITIALIZER;
	bson_t doc = BSON_INITIALIZER, *filter = NULL;
	bson_error_t berr;
	bson_oid_t uid, aid;
	int ship, bill;
	bool ok = false;

	if (!auth_me_oid(req, &uid, err))
		goto done;
	coll = store_collection(&req->app->store, "addresses");
	/* Ownership first: someone else's id is a 404 even with a bad body. */
	if (!auth_addr_load(coll, &uid, em_request_path_param(req, "id"), &aid, &doc, err) ||
	    !auth_addr_parse(req->json, false, &set, &unset, &ship, &bill, err))
		goto done;
	BSON_APPEND_DATE_TIME(&set, "updated_at", em_now_ms());
	BSON_APPEND_DOCUMENT(&update, "$set", &set);
	if (!bson_empty(&unset))
		BSON_APPEND_DOCUMENT(&update, "$unset", &unset);
	filter = BCON_NEW("_id", BCON_OID(&aid), "user_id", BCON_OID(&uid));
	if (!mongoc_collection_update_one(coll, filter, &update, NULL, NULL, &berr)) {
		store_error_set(err, &berr, "update address");
		goto done;
	}
	if ((ship == 1 && !auth_addr_default_clear(coll, &uid, &aid, "default_shipping", err)) ||
	    (bill == 1 && !auth_addr_default_clear(coll, &uid, &aid, "default_billing", err)) ||
	    !auth_addr_load(coll, &uid, em_request_path_param(req, "id"), &aid, &doc, err))
		goto done;
	em_response_json(req, 200, auth_addr_json(&doc));
	ok = true;
done:
	if (coll)
		mongoc_collection_destroy(coll);
	if (filter)
		bson_destroy(filter);
	bson_destroy(&set);
	bson_destroy(&unset);
	bson_destroy(&update);
	bson_destroy(&doc);
	return ok;
}

/* DELETE /api/v1/me/addresses/{id}: 204; 404 when not the caller's. */
static bool auth_addr_delete(struct em_request *req, struct em_error *err)
{
	mongoc_collection_t *coll = NULL;
	bson_t *filter = NULL, reply;
	bson_error_t berr;
	bson_oid_t uid, aid;
	bson_iter_t it;
	bool ok = false;

	if (!auth_me_oid(req, &uid, err))
		return false;
	if (!em_oid_parse(em_request_path_param(req, "id"), &aid)) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such address");
		return false;
	}
	filter = BCON_NEW("_id", BCON_OID(&aid), "user_id", BCON_OID(&uid));
	coll = store_collection(&req->app->store, "addresses");
	if (!mongoc_collection_delete_one(coll, filter, NULL, &reply, &berr)) {
		store_error_set(err, &berr, "delete address");
	} else if (!bson_iter_init_find(&it, &reply, "deletedCount") ||
		   bson_iter_as_int64(&it) != 1) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such address");
	} else {
		em_response_empty(req, 204);
		ok = true;
	}
	bson_destroy(&reply);
	bson_destroy(filter);
	mongoc_collection_destroy(coll);
	return ok;
}

static const struct em_route auth_me_table[] = {
	{ "GET", "/api/v1/me", auth_me_get, EM_ROLE_CUSTOMER, EM_BODY_NONE, NULL },
	{ "PATCH", "/api/v1/me", auth_me_patch, EM_ROLE_CUSTOMER, EM_BODY_JSON, NULL },
	{ "GET", "/api/v1/me/addresses", auth_addr_list, EM_ROLE_CUSTOMER, EM_BODY_NONE, NULL },
	{ "POST", "/api/v1/me/addresses", auth_addr_create, EM_ROLE_CUSTOMER, EM_BODY_JSON, NULL },
	{ "GET", "/api/v1/me/addresses/{id}", auth_addr_get, EM_ROLE_CUSTOMER, EM_BODY_NONE, NULL },
	{ "PATCH", "/api/v1/me/addresses/{id}", auth_addr_patch, EM_ROLE_CUSTOMER, EM_BODY_JSON,
	  NULL },
	{ "DELETE", "/api/v1/me/addresses/{id}", auth_addr_delete, EM_ROLE_CUSTOMER, EM_BODY_NONE,
	  NULL },
};

const struct em_route_table auth_me_routes = EM_ROUTE_TABLE("me", auth_me_table);
