/*
 * ids.c - ObjectId parsing (see ids.h).
 */
#include "core/ids.h"

#include <string.h>

bool em_oid_parse(const char *s, bson_oid_t *oid)
{
	/* strnlen: never read past the 25th byte of a long input */
	if (!s || strnlen(s, 25) != 24 || !bson_oid_is_valid(s, 24))
		return false;
	bson_oid_init_from_string(oid, s);
	return true;
}
