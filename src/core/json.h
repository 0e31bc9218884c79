/*
 * json.h - bounded JSON parsing and small typed accessors over json-c.
 *
 * Request bodies are parsed with a size and nesting bound, must be valid
 * UTF-8, must hold exactly one JSON value and no NUL byte. The accessors
 * check types strictly (json-c's own getters silently convert strings and
 * doubles to integers, see PITFALLS.md) so a wrong type is a clear error
 * naming the field.
 */
#ifndef EM_CORE_JSON_H
#define EM_CORE_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define EM_JSON_MAX_DEPTH 16

/*
 * Parses len bytes of buf. Returns a new reference (json_object_put() it)
 * or NULL with err set (EM_ERR_INVALID, or EM_ERR_TOO_LARGE past max_len).
 */
json_object *em_json_parse(const char *buf, size_t len, size_t max_len,
			   int max_depth, struct em_error *err);

/*
 * Rejects keys MongoDB would read as operators or paths ("$..." or with
 * a "."), at any depth, so no request document can smuggle an operator
 * into a query or update built from it; and string values holding a NUL
 * (written \u0000), which C code would read as a shorter string than
 * the one validated (EM_ERR_INVALID naming the member).
 */
bool em_json_check_keys(json_object *o, struct em_error *err);

/*
 * Checks that o is a JSON object whose every key is in allowed
 * (NULL-terminated): mass assignment and typos are refused, naming the
 * first unknown field (EM_ERR_INVALID).
 */
bool em_json_check_fields(json_object *o, const char *const *allowed, struct em_error *err);

/*
 * Reads obj[key] as a string of min_len..max_len bytes (UTF-8 already
 * validated by the parser) with no NUL inside. A missing key fails only
 * when required; then *out is NULL. *out points into obj. A JSON null is
 * never "absent": required -> "required", optional -> "invalid_type"; a
 * field that null clears (documented nullable) is checked for null by
 * the caller first. "" is a value like any other (min_len decides).
 */
bool em_json_get_string(json_object *obj, const char *key, size_t min_len,
			size_t max_len, bool required, const char **out,
			struct em_error *err);

/* Reads obj[key] as a JSON integer (not a double, not a string) in range;
 * absent and null as em_json_get_string. */
bool em_json_get_int64(json_object *obj, const char *key, int64_t min,
		       int64_t max, bool required, bool *present, int64_t *out,
		       struct em_error *err);

/* Serialises o compactly; the string is owned by o. */
const char *em_json_text(json_object *o, size_t *len);

#endif
