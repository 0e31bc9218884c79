/*
 * bsonjson.c - BSON to the API's JSON (see bsonjson.h).
 */
#include "core/bsonjson.h"

#include "core/time.h"

int64_t em_bson_iter_int64(const bson_iter_t *it)
{
	if (BSON_ITER_HOLDS_INT64(it))
		return bson_iter_int64(it);
	if (BSON_ITER_HOLDS_INT32(it))
		return bson_iter_int32(it);
	if (BSON_ITER_HOLDS_DOUBLE(it))
		return (int64_t)bson_iter_double(it);
	return 0;
}

static json_object *bsonjson_value(bson_iter_t *it);

/* The members of child into a new object or array; NULL on allocation failure. */
static json_object *bsonjson_container(bson_iter_t *child, bool array)
{
	json_object *o = array ? json_object_new_array() : json_object_new_object();

	if (!o)
		return NULL;
	while (bson_iter_next(child)) {
		json_object *v = bsonjson_value(child);

		if (array)
			json_object_array_add(o, v);
		else
			json_object_object_add(o, bson_iter_key(child), v);
	}
	return o;
}

static json_object *bsonjson_value(bson_iter_t *it)
{
	switch (bson_iter_type(it)) {
	case BSON_TYPE_UTF8:
		return json_object_new_string(bson_iter_utf8(it, NULL));
	case BSON_TYPE_INT32:
		return json_object_new_int64(bson_iter_int32(it));
	case BSON_TYPE_INT64:
		return json_object_new_int64(bson_iter_int64(it));
	case BSON_TYPE_DOUBLE:
		return json_object_new_double(bson_iter_double(it));
	case BSON_TYPE_BOOL:
		return json_object_new_boolean(bson_iter_bool(it));
	case BSON_TYPE_OID: {
		char hex[25];

		bson_oid_to_string(bson_iter_oid(it), hex);
		return json_object_new_string(hex);
	}
	case BSON_TYPE_DATE_TIME: {
		char buf[EM_TIME_RFC3339_SIZE];

		if (!em_time_rfc3339(bson_iter_date_time(it), buf, sizeof(buf)))
			return NULL;
		return json_object_new_string(buf);
	}
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY: {
		bson_iter_t child;

		if (!bson_iter_recurse(it, &child))
			return NULL;
		return bsonjson_container(&child, bson_iter_type(it) == BSON_TYPE_ARRAY);
	}
	default:
		return NULL; /* null, and types the shop never stores */
	}
}

json_object *em_bson_to_json(const bson_t *doc)
{
	bson_iter_t it;

	if (!bson_iter_init(&it, doc))
		return NULL;
	return bsonjson_container(&it, false);
}
