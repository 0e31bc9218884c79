/*
 * ids.h - MongoDB ObjectIds as the API writes them: 24 hex digits.
 */
#ifndef EM_CORE_IDS_H
#define EM_CORE_IDS_H

#include <bson/bson.h>
#include <stdbool.h>

/*
 * Parses exactly 24 hex digits (either case) into *oid. False, leaving
 * *oid untouched, on NULL, another length or any other character: path
 * parameters, body fields and token subjects all go through here, so an
 * id in upper case names the same object as in lower case.
 */
bool em_oid_parse(const char *s, bson_oid_t *oid);

#endif
