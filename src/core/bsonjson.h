/*
 * bsonjson.h - stored BSON documents as the API shows them in JSON, and
 * reading integers back from them.
 */
#ifndef EM_CORE_BSONJSON_H
#define EM_CORE_BSONJSON_H

#include <bson/bson.h>
#include <json-c/json.h>
#include <stdint.h>

/*
 * Converts a BSON document to JSON: ObjectIds as 24 hex digits, dates as
 * RFC 3339 UTC strings with milliseconds (em_time_rfc3339), int32/int64
 * as JSON integers, documents and arrays recursively; null and the types
 * the shop never stores become JSON null. Returns a new reference
 * (json_object_put it) or NULL when an allocation failed.
 */
json_object *em_bson_to_json(const bson_t *doc);

/*
 * The value at it as an int64: int64 and int32 as they are, an integral
 * double truncated (documents written by other tools), anything else 0.
 */
int64_t em_bson_iter_int64(const bson_iter_t *it);

#endif
