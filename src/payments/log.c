/*
 * log.c - payment_logs: every call to the gateway and every callback from
 * it, for audits and disputes. Insert-only: nothing in the code base
 * updates or deletes an entry. Secrets (the store password, its MD5 that
 * the signature is made with, the signatures) never reach the collection.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/time.h"
#include "payments/payments.h"

#define LOG_RESPONSE_MAX (16 * 1024)

bool payments_log_field_secret(const char *key)
{
	return strcmp(key, "store_passwd") == 0 || strcmp(key, "verify_sign") == 0 ||
	       strcmp(key, "verify_sign_sha2") == 0;
}

/* Replaces every occurrence of needle in s (in place) by '*'. */
static void log_mask_all(char *s, const char *needle)
{
	size_t n = needle ? strlen(needle) : 0;
	char *p = s;

	if (n < 4) /* a shorter "secret" would mask ordinary text; config requires more */
		return;
	while ((p = strstr(p, needle)) != NULL) {
		memset(p, '*', n);
		p += n;
	}
}

void payments_log_write(const struct payments_call *c, const struct payments_log_entry *e)
{
	const struct payments_config *pc = payments_config(c->cfg);
	mongoc_collection_t *coll = store_collection(c->st, "payment_logs");
	bson_t doc = BSON_INITIALIZER, fields;
	bson_error_t berr;
	char pw_md5[33] = "", *resp = NULL;

	if (pc->store_password[0])
		(void)payments_md5_hex(pc->store_password, strlen(pc->store_password), pw_md5);
	if (c->order_id)
		BSON_APPEND_OID(&doc, "order_id", c->order_id);
	else
		BSON_APPEND_NULL(&doc, "order_id");
	if (c->tran_id && c->tran_id[0])
		BSON_APPEND_UTF8(&doc, "tran_id", c->tran_id);
	else
		BSON_APPEND_NULL(&doc, "tran_id");
	BSON_APPEND_UTF8(&doc, "direction", e->direction);
	BSON_APPEND_UTF8(&doc, "kind", e->kind);
	BSON_APPEND_UTF8(&doc, "method", e->method ? e->method : "");
	BSON_APPEND_UTF8(&doc, "url", e->url ? e->url : "");
	BSON_APPEND_DOCUMENT_BEGIN(&doc, "fields", &fields);
	for (size_t i = 0; e->fields && i < e->fields->n; i++) {
		const char *k = e->fields->items[i].key, *v = e->fields->items[i].value;

		/* a key MongoDB would read as an operator or a path is not stored as a key */
		if (!k[0] || k[0] == '$' || strchr(k, '.'))
			continue;
		if (payments_log_field_secret(k)) {
			BSON_APPEND_UTF8(&fields, k, "***");
		} else {
			char *copy = xstrdup(v ? v : "");

			log_mask_all(copy, pc->store_password);
			log_mask_all(copy, pw_md5);
			if (bson_utf8_validate(copy, strlen(copy), false))
				BSON_APPEND_UTF8(&fields, k, copy);
			else
				BSON_APPEND_UTF8(&fields, k, "(not UTF-8)");
			free(copy);
		}
	}
	bson_append_document_end(&doc, &fields);
	BSON_APPEND_INT32(&doc, "http_status", (int32_t)e->http_status);
	BSON_APPEND_INT64(&doc, "duration_ms", e->duration_ms);
	if (e->response) {
		size_t n = strlen(e->response);

		resp = xstrndup(e->response, n > LOG_RESPONSE_MAX ? LOG_RESPONSE_MAX : n);
		log_mask_all(resp, pc->store_password);
		log_mask_all(resp, pw_md5);
		if (bson_utf8_validate(resp, strlen(resp), false))
			BSON_APPEND_UTF8(&doc, "response", resp);
		else
			BSON_APPEND_UTF8(&doc, "response", "(not UTF-8)");
	} else {
		BSON_APPEND_NULL(&doc, "response");
	}
	if (e->error)
		BSON_APPEND_UTF8(&doc, "error", e->error);
	else
		BSON_APPEND_NULL(&doc, "error");
	BSON_APPEND_DATE_TIME(&doc, "at", em_now_ms());
	if (!mongoc_collection_insert_one(coll, &doc, NULL, NULL, &berr))
		em_err("payment_logs: an entry (%s %s) was not written: %s", e->direction, e->kind,
		       berr.message);
	free(resp);
	bson_destroy(&doc);
	mongoc_collection_destroy(coll);
}
