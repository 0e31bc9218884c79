#include "core/json.h"

#include <string.h>

json_object *em_json_parse(const char *buf, size_t len, size_t max_len,
			   int max_depth, struct em_error *err)
{
	json_tokener *tok = NULL;
	json_object *obj = NULL;
	enum json_tokener_error jerr;
	size_t tail;

	if (len > max_len) {
		em_error_set(err, EM_ERR_TOO_LARGE, NULL,
			     "the JSON body is larger than %zu bytes", max_len);
		return NULL;
	}
	if (len == 0) {
		em_error_set(err, EM_ERR_INVALID, NULL, "the request body is empty");
		return NULL;
	}
	if (memchr(buf, '\0', len)) {
		em_error_set(err, EM_ERR_INVALID, NULL,
			     "the JSON body contains a NUL byte");
		return NULL;
	}
	tok = json_tokener_new_ex(max_depth);
	if (!tok) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate a JSON parser");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) {
		/* Every byte was a valid prefix. A bare number or literal at the
		 * very end ("8", "true") is then still open, since json-c cannot
		 * know the input ends there: say so with a NUL, json-c's end of
		 * input (the body holds none, checked above). */
		obj = json_tokener_parse_ex(tok, "", 1);
		if (json_tokener_get_error(tok) != json_tokener_success) {
			em_error_set(err, EM_ERR_INVALID, NULL,
				     "malformed JSON: the body ends before the value does");
			goto fail;
		}
		tail = len; /* the whole body was the value */
	} else if (jerr != json_tokener_success) {
		em_error_set(err, EM_ERR_INVALID, NULL, "malformed JSON at byte %zu: %s",
			     json_tokener_get_parse_end(tok),
			     json_tokener_error_desc(jerr));
		goto fail;
	} else {
		tail = json_tokener_get_parse_end(tok);
	}
	/* json-c gives no object for a JSON null; no caller wants one, and
	 * NULL must mean failure (with err set) to them. */
	if (!obj) {
		em_error_set(err, EM_ERR_INVALID, NULL,
			     "the body must be a JSON object, not null");
		goto fail;
	}
	/* Only whitespace may follow the value. */
	for (size_t i = tail; i < len; i++) {
		if (!strchr(" \t\r\n", buf[i])) {
			em_error_set(err, EM_ERR_INVALID, NULL,
				     "malformed JSON: unexpected data after the value at byte %zu",
				     i);
			goto fail;
		}
	}
	json_tokener_free(tok);
	return obj;
fail:
	json_object_put(obj);
	json_tokener_free(tok);
	return NULL;
}

/*
 * A JSON string may spell NUL as \u0000; json-c keeps it, but every C
 * reader (strlen, strcmp, BSON_APPEND_UTF8) stops there, so "ABC\u0000x"
 * would be validated and stored as "ABC". field names the member it
 * belongs to (an array's elements belong to the array's member).
 */
static bool json_string_nul_free(json_object *s, const char *field, struct em_error *err)
{
	size_t len = (size_t)json_object_get_string_len(s);

	if (memchr(json_object_get_string(s), '\0', len)) {
		em_error_set(err, EM_ERR_INVALID, field, "%.60s may not contain a NUL character",
			     field ? field : "a string");
		return false;
	}
	return true;
}

static bool json_check_keys_at(json_object *o, const char *field, int depth,
			       struct em_error *err)
{
	if (depth > EM_JSON_MAX_DEPTH) {
		em_error_set(err, EM_ERR_INVALID, NULL, "the JSON is nested too deeply");
		return false;
	}
	switch (json_object_get_type(o)) {
	case json_type_object: {
		json_object_object_foreach(o, key, val) {
			if (key[0] == '$' || strchr(key, '.') || key[0] == '\0') {
				em_error_set(err, EM_ERR_INVALID, key,
					     "field names may not be empty, start with '$' or contain '.'");
				return false;
			}
			if (!json_check_keys_at(val, key, depth + 1, err))
				return false;
		}
		return true;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (!json_check_keys_at(json_object_array_get_idx(o, i), field,
						depth + 1, err))
				return false;
		return true;
	case json_type_string:
		return json_string_nul_free(o, field, err);
	default:
		return true;
	}
}

bool em_json_check_keys(json_object *o, struct em_error *err)
{
	return json_check_keys_at(o, NULL, 0, err);
}

bool em_json_check_fields(json_object *o, const char *const *allowed, struct em_error *err)
{
	bool ok = true;

	if (!json_object_is_type(o, json_type_object)) {
		em_error_set(err, EM_ERR_INVALID, NULL, "the body must be a JSON object");
		return false;
	}
	json_object_object_foreach(o, key, val) {
		size_t i;

		(void)val;
		for (i = 0; allowed[i] && strcmp(allowed[i], key) != 0; i++)
			;
		if (!allowed[i]) {
			em_error_setc(err, EM_ERR_INVALID, key, EM_CODE_UNKNOWN_FIELD,
				      "%.60s is not a field of this request", key);
			ok = false;
			/* a collecting validator hears of every unknown field */
			if (!err || !err->collect)
				return false;
		}
	}
	return ok;
}

static bool json_absent_required(const char *key, struct em_error *err)
{
	em_error_setc(err, EM_ERR_INVALID, key, EM_CODE_REQUIRED, "%s is required", key);
	return false;
}

/*
 * A JSON null where the accessors are asked for a value: "required" for
 * a required field; for an optional one "invalid_type", since null is not
 * "absent" (docs/api/README.md, "Absent, null and empty"): a field that
 * null clears is read by its caller before it asks for the value.
 */
static bool json_null_refused(const char *key, bool required, struct em_error *err)
{
	if (required)
		return json_absent_required(key, err);
	em_error_setc(err, EM_ERR_INVALID, key, EM_CODE_INVALID_TYPE,
		      "%s cannot be null: leave it out, or give a value", key);
	return false;
}

bool em_json_get_string(json_object *obj, const char *key, size_t min_len,
			size_t max_len, bool required, const char **out,
			struct em_error *err)
{
	json_object *v = NULL;
	size_t len;

	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &v))
		return required ? json_absent_required(key, err) : true;
	if (json_object_is_type(v, json_type_null))
		return json_null_refused(key, required, err);
	if (!json_object_is_type(v, json_type_string)) {
		em_error_setc(err, EM_ERR_INVALID, key, EM_CODE_INVALID_TYPE, "%s must be a string", key);
		return false;
	}
	/* Request bodies were checked whole by em_json_check_keys; this
	 * covers JSON from elsewhere (provider responses). */
	if (!json_string_nul_free(v, key, err))
		return false;
	len = (size_t)json_object_get_string_len(v);
	if (len < min_len || len > max_len) {
		em_error_setc(err, EM_ERR_INVALID, key,
			      len < min_len ? EM_CODE_TOO_SHORT : EM_CODE_TOO_LONG,
			      "%s must be %zu to %zu bytes long", key, min_len, max_len);
		return false;
	}
	*out = json_object_get_string(v);
	return true;
}

bool em_json_get_int64(json_object *obj, const char *key, int64_t min,
		       int64_t max, bool required, bool *present, int64_t *out,
		       struct em_error *err)
{
	json_object *v = NULL;
	int64_t n;

	if (present)
		*present = false;
	if (!json_object_object_get_ex(obj, key, &v))
		return required ? json_absent_required(key, err) : true;
	if (json_object_is_type(v, json_type_null))
		return json_null_refused(key, required, err);
	if (!json_object_is_type(v, json_type_int)) {
		em_error_setc(err, EM_ERR_INVALID, key, EM_CODE_INVALID_TYPE, "%s must be an integer", key);
		return false;
	}
	/* json-c saturates out-of-range integers at INT64_MIN/MAX; the range
	 * check below refuses them as long as max < INT64_MAX. */
	n = json_object_get_int64(v);
	if (n < min || n > max) {
		em_error_setc(err, EM_ERR_INVALID, key, EM_CODE_OUT_OF_RANGE,
			      "%s must be from %lld to %lld", key, (long long)min,
			      (long long)max);
		return false;
	}
	if (present)
		*present = true;
	*out = n;
	return true;
}

const char *em_json_text(json_object *o, size_t *len)
{
	size_t l = 0;
	const char *s = json_object_to_json_string_length(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &l);

	if (len)
		*len = l;
	return s;
}
