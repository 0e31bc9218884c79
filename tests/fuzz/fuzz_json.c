/*
 * fuzz_json - the request-body JSON rules of src/core/json.c: size and
 * depth bounds, strict syntax, UTF-8, no NUL, nothing after the value,
 * and the key rules ($-prefixed or dotted keys refused at any depth).
 *
 * Checked: a NULL result always comes with an error (a NULL without one
 * is what the router turned into a 500), limits hold on success, no
 * string that passed the key rules holds a NUL (not even from "\u0000"),
 * what is accepted serialises to JSON that parses again to the same text,
 * and the typed getters never accept a value of another type.
 */
#include <stdbool.h>

#include "core/json.h"
#include "fuzz.h"

#define FUZZ_JSON_MAX 65536

/* No string in a body that passed em_json_check_keys holds a NUL:
 * callers read them as C strings, so a "\u0000" would cut what they see
 * short of what was checked. */
static void check_no_nul(json_object *o, int depth)
{
	FUZZ_CHECK(depth <= EM_JSON_MAX_DEPTH + 1);
	switch (json_object_get_type(o)) {
	case json_type_string:
		FUZZ_CHECK(strlen(json_object_get_string(o)) ==
			   (size_t)json_object_get_string_len(o));
		break;
	case json_type_object: {
		json_object_object_foreach(o, key, val) {
			FUZZ_CHECK(key != NULL);
			check_no_nul(val, depth + 1);
		}
		break;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			check_no_nul(json_object_array_get_idx(o, i), depth + 1);
		break;
	default:
		break;
	}
}

static void check_getters(json_object *o)
{
	struct em_error err = EM_ERROR_INIT;
	static const char *const allowed[] = { "a", "name", "price", NULL };
	const char *s = NULL;
	int64_t n = 0;
	bool present = true;

	if (em_json_get_string(o, "name", 1, 64, false, &s, &err) && s)
		FUZZ_CHECK(strlen(s) >= 1 && strlen(s) <= 64); /* all of it, no NUL */
	if (em_json_get_int64(o, "price", 0, INT64_MAX - 1, false, &present, &n, &err) && present)
		FUZZ_CHECK(n >= 0 && n < INT64_MAX);
	if (em_json_check_fields(o, allowed, &err))
		FUZZ_CHECK(json_object_is_type(o, json_type_object));
	else
		FUZZ_CHECK(err.kind == EM_ERR_INVALID);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct em_error err = EM_ERROR_INIT, err2 = EM_ERROR_INIT;
	json_object *o, *again;
	const char *text;
	char *copy;
	size_t len = 0;

	o = em_json_parse((const char *)data, size, FUZZ_JSON_MAX, EM_JSON_MAX_DEPTH, &err);
	if (!o) {
		FUZZ_CHECK(err.kind == EM_ERR_INVALID || err.kind == EM_ERR_TOO_LARGE);
		FUZZ_CHECK(err.message[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(err.kind == EM_ERR_NONE);
	FUZZ_CHECK(size > 0 && size <= FUZZ_JSON_MAX && !memchr(data, '\0', size));
	if (em_json_check_keys(o, &err))
		check_no_nul(o, 0); /* what the router lets through to handlers */
	else
		FUZZ_CHECK(err.kind == EM_ERR_INVALID);
	check_getters(o);

	/* what was accepted serialises to JSON that is accepted again */
	text = em_json_text(o, &len);
	FUZZ_CHECK(text != NULL && strlen(text) == len);
	copy = xmemdup0(text, len);
	again = em_json_parse(copy, len, (size_t)-1, EM_JSON_MAX_DEPTH + 1, &err2);
	if (!again)
		fprintf(stderr, "fuzz: re-parse of '%.200s' failed: %s\n", copy, err2.message);
	FUZZ_CHECK(again != NULL);
	FUZZ_CHECK(strcmp(em_json_text(again, NULL), copy) == 0);
	json_object_put(again);
	free(copy);
	json_object_put(o);
	return 0;
}
