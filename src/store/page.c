#include "store/page.h"

#include <string.h>

#include "store/store.h"

bool store_page_collect(mongoc_cursor_t *cur, int limit, store_page_render_fn render, void *ctx,
			const char *what, json_object **items, bson_t *last, bool *more,
			bson_error_t *berr, struct em_error *err)
{
	const bson_t *doc;
	int n = 0;

	*more = false;
	memset(berr, 0, sizeof(*berr)); /* a render failure leaves code 0 */
	*items = json_object_new_array();
	if (!*items) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate a response");
		return false;
	}
	while (mongoc_cursor_next(cur, &doc)) {
		json_object *o;

		if (n == limit) {
			*more = true;
			break;
		}
		o = render(doc, ctx);
		if (!o) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot render an item");
			goto fail;
		}
		json_object_array_add(*items, o);
		bson_destroy(last);
		bson_copy_to(doc, last);
		n++;
	}
	if (mongoc_cursor_error(cur, berr)) {
		store_error_set(err, berr, what);
		goto fail;
	}
	return true;
fail:
	json_object_put(*items);
	*items = NULL;
	return false;
}
