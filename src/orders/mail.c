/*
 * mail.c - the customer's mail for each step of an order, enqueued in the
 * transaction of the change (the outbox), from templates/ order_*.
 */
#include <stdio.h>
#include <string.h>

#include "jobs/jobs.h"
#include "orders/orders_internal.h"

static const char *mail_str(const bson_t *doc, const char *key)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_UTF8(&it) ?
		       bson_iter_utf8(&it, NULL) : "";
}

bool orders_mail_status(mongoc_client_session_t *session, struct em_store *st,
			const struct em_config *cfg, const bson_t *order, enum orders_status to,
			bson_error_t *berr, struct em_error *err)
{
	const char *tpl = NULL, *number = mail_str(order, "number"), *name = mail_str(order, "name");
	bson_t vars = BSON_INITIALIZER;
	char dedupe[128];
	bool ok;

	(void)cfg;
	BSON_APPEND_UTF8(&vars, "name", name[0] ? name : "customer");
	BSON_APPEND_UTF8(&vars, "order_id", number);
	switch (to) {
	case ORDERS_PROCESSING:
		/* "confirmed" (COD confirmed by staff, or paid): the confirmation,
		 * once per order whatever path led here (dedupe key) */
		{
			bson_t items, el;
			bson_iter_t it, arr;
			char key[16], money[64];
			size_t k = 0;

			tpl = "order_confirmation";
			BSON_APPEND_ARRAY_BEGIN(&vars, "items", &items);
			if (bson_iter_init_find(&it, order, "lines") && BSON_ITER_HOLDS_ARRAY(&it) &&
			    bson_iter_recurse(&it, &arr))
				while (bson_iter_next(&arr)) {
					bson_iter_t f;
					const char *title = "";
					int64_t qty = 0, total = 0;

					if (!BSON_ITER_HOLDS_DOCUMENT(&arr) || !bson_iter_recurse(&arr, &f))
						continue;
					while (bson_iter_next(&f)) {
						if (strcmp(bson_iter_key(&f), "title") == 0 &&
						    BSON_ITER_HOLDS_UTF8(&f))
							title = bson_iter_utf8(&f, NULL);
						else if (strcmp(bson_iter_key(&f), "quantity") == 0)
							qty = bson_iter_as_int64(&f);
						else if (strcmp(bson_iter_key(&f), "line_total") == 0)
							total = bson_iter_as_int64(&f);
					}
					snprintf(key, sizeof key, "%zu", k++);
					BSON_APPEND_DOCUMENT_BEGIN(&items, key, &el);
					BSON_APPEND_UTF8(&el, "title", title);
					BSON_APPEND_INT64(&el, "quantity", qty);
					orders_money_format(total, mail_str(order, "currency"), money,
							    sizeof money);
					BSON_APPEND_UTF8(&el, "price", money);
					bson_append_document_end(&items, &el);
				}
			bson_append_array_end(&vars, &items);
			if (bson_iter_init_find(&it, order, "total"))
				orders_money_format(bson_iter_as_int64(&it), mail_str(order, "currency"),
						    money, sizeof money);
			else
				snprintf(money, sizeof money, "-");
			BSON_APPEND_UTF8(&vars, "total", money);
			{
				bson_iter_t a, f;
				char address[1024] = "";
				size_t len = 0;

				if (bson_iter_init_find(&a, order, "shipping_address") &&
				    BSON_ITER_HOLDS_DOCUMENT(&a) && bson_iter_recurse(&a, &f))
					while (bson_iter_next(&f))
						if (BSON_ITER_HOLDS_UTF8(&f) &&
						    strcmp(bson_iter_key(&f), "phone") != 0) {
							int n = snprintf(address + len,
									 sizeof address - len, "%s%s",
									 len ? "\n" : "",
									 bson_iter_utf8(&f, NULL));

							if (n > 0 && (size_t)n < sizeof address - len)
								len += (size_t)n;
						}
				BSON_APPEND_UTF8(&vars, "address", address);
			}
		}
		break;
	case ORDERS_SHIPPED:
		tpl = "order_shipped";
		BSON_APPEND_UTF8(&vars, "carrier", mail_str(order, "carrier"));
		BSON_APPEND_UTF8(&vars, "tracking_number", mail_str(order, "tracking_number"));
		break;
	case ORDERS_DELIVERED:
		tpl = "order_delivered";
		break;
	case ORDERS_CANCELLED:
		tpl = "order_cancelled";
		BSON_APPEND_UTF8(&vars, "reason", "");
		break;
	default:
		break;
	}
	if (!tpl) {
		bson_destroy(&vars);
		return true;
	}
	snprintf(dedupe, sizeof dedupe, "%s:%s", tpl, number);
	ok = jobs_email_enqueue(st, session, mail_str(order, "email"), tpl, &vars, dedupe, berr,
				err);
	bson_destroy(&vars);
	return ok;
}
