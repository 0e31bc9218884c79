/*
 * fuzz_cursor - keyset pagination input: ?limit= and ?cursor= through
 * em_page_params() (src/http/page.c), the _id cursor
 * (em_page_cursor_oid_decode) and the catalog's sort-key cursor
 * (catalog_cursor_decode), which take a client's string as is.
 *
 * Input: a query string (cut at its first NUL, as FastCGI gives it); when
 * it has no cursor= parameter the whole input is also tried as a cursor.
 * Checked: a limit is 1..EM_PAGE_LIMIT_MAX or refused on field "limit";
 * a cursor that decodes is canonical (it encodes back to the same
 * string, or for the catalog's, is base64url and encodes to one that
 * decodes to the same values);
 * every refusal is EM_ERR_INVALID on field "cursor".
 */
#include <math.h>
#include <stdbool.h>

#include "catalog/catalog.h"
#include "fuzz.h"
#include "http/page.h"

#define B64URL "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

static void check_oid_cursor(const char *s)
{
	struct em_error err = EM_ERROR_INIT;
	char back[EM_PAGE_OID_CURSOR_SIZE];
	bson_oid_t oid;

	if (!em_page_cursor_oid_decode(s, &oid, &err)) {
		FUZZ_CHECK(err.kind == EM_ERR_INVALID && strcmp(err.field, "cursor") == 0);
		return;
	}
	em_page_cursor_oid_encode(&oid, back);
	FUZZ_CHECK(strcmp(back, s) == 0);
}

static bool cursor_same(const struct catalog_cursor *a, const struct catalog_cursor *b)
{
	return a->sort == b->sort && a->ival == b->ival &&
	       memcmp(&a->dval, &b->dval, sizeof(a->dval)) == 0 &&
	       memcmp(a->id.bytes, b->id.bytes, sizeof(a->id.bytes)) == 0;
}

static void check_catalog_cursor(const char *s)
{
	struct em_error err = EM_ERROR_INIT;
	struct catalog_cursor c, again;
	char back[128];

	if (!catalog_cursor_decode(s, &c, &err)) {
		FUZZ_CHECK(err.kind == EM_ERR_INVALID && strcmp(err.field, "cursor") == 0);
		return;
	}
	FUZZ_CHECK(strspn(s, B64URL) == strlen(s));
	FUZZ_CHECK(strchr(CATALOG_CURSOR_SORTS, c.sort) != NULL && c.sort != '\0');
	FUZZ_CHECK(!isnan(c.dval));
	catalog_cursor_encode(&c, back, sizeof(back));
	FUZZ_CHECK(back[0] != '\0');
	FUZZ_CHECK(catalog_cursor_decode(back, &again, &err));
	FUZZ_CHECK(cursor_same(&c, &again));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *qs = fuzz_cstr(data, size), *param = xmalloc(strlen(qs) + sizeof("QUERY_STRING="));
	char *envp[] = { param, "REQUEST_METHOD=GET", "REQUEST_URI=/api/v1/products", NULL };
	struct em_error err = EM_ERROR_INIT;
	struct em_request req;
	const char *cursor = NULL;
	int limit = -1;

	memcpy(param, "QUERY_STRING=", sizeof("QUERY_STRING=") - 1);
	memcpy(param + sizeof("QUERY_STRING=") - 1, qs, strlen(qs) + 1);
	em_request_init(&req, envp, NULL);
	if (req.parse_error.kind == EM_ERR_NONE) {
		if (em_page_params(&req, 20, &limit, &cursor, &err)) {
			FUZZ_CHECK(limit >= 1 && limit <= EM_PAGE_LIMIT_MAX);
			FUZZ_CHECK(!cursor || cursor[0] != '\0');
		} else {
			FUZZ_CHECK(err.kind == EM_ERR_INVALID && strcmp(err.field, "limit") == 0);
			cursor = em_request_query(&req, "cursor");
		}
		if (cursor && *cursor) {
			check_oid_cursor(cursor);
			check_catalog_cursor(cursor);
		}
	}
	if (!cursor) {
		check_oid_cursor(qs);
		check_catalog_cursor(qs);
	}
	em_request_release(&req);
	free(param);
	free(qs);
	return 0;
}
