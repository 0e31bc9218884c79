/*
 * sslcommerz.c - the SSLCOMMERZ v4 provider: session init (form POST),
 * order validation, refund, refund status and transaction query (GETs),
 * each bounded in time and size and logged to payment_logs. The protocol:
 * ../shared/SSLCOMMERZ.md; the stand-in tests/sslcommerz-standin checks
 * the exact field names (the Node SDK once sent the password under the
 * wrong one, and every validation failed).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/curl_body.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "payments/payments.h"

#define SSL_RESPONSE_MAX (256 * 1024)

const char *payments_sslcommerz_base(const struct payments_config *pc)
{
	if (pc->base_url[0])
		return pc->base_url;
	return strcmp(pc->mode, "live") == 0 ? "https://securepay.sslcommerz.com" :
					       "https://sandbox.sslcommerz.com";
}

/* A small growable list of fields to send. */
struct ssl_fields {
	struct em_kv_list list;
	size_t cap;
};

static void ssl_field(struct ssl_fields *f, const char *k, const char *v)
{
	if (f->list.n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 32;
		f->list.items = xrealloc(f->list.items, f->cap * sizeof(*f->list.items));
	}
	f->list.items[f->list.n].key = xstrdup(k);
	f->list.items[f->list.n].value = xstrdup(v ? v : "");
	f->list.n++;
}

static void ssl_credentials(struct ssl_fields *f, const struct payments_config *pc)
{
	ssl_field(f, "store_id", pc->store_id);
	ssl_field(f, "store_passwd", pc->store_password);
}

/* "k=v&..." with every value percent-encoded; NULL on failure. */
static char *ssl_encode(CURL *curl, const struct em_kv_list *l)
{
	size_t cap = 1, used = 0;
	char *out;

	for (size_t i = 0; i < l->n; i++)
		cap += strlen(l->items[i].key) + 3 * strlen(l->items[i].value) + 2;
	out = xmalloc(cap);
	out[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		char *v = curl_easy_escape(curl, l->items[i].value, 0);
		int w;

		if (!v) {
			free(out);
			return NULL;
		}
		w = snprintf(out + used, cap - used, "%s%s=%s", i ? "&" : "", l->items[i].key, v);
		curl_free(v);
		if (w < 0 || (size_t)w >= cap - used) {
			free(out);
			return NULL;
		}
		used += (size_t)w;
	}
	return out;
}

/*
 * One call: POST (form body) or GET (query) of fields to base + path.
 * *answer is the JSON object answered. EM_ERR_BAD_GATEWAY for a transport
 * failure, a timeout, a non-2xx status or a body that is not a JSON object.
 */
static bool ssl_request(const struct payments_call *c, const char *kind, bool post,
			const char *path, const struct em_kv_list *fields, json_object **answer,
			struct em_error *err)
{
	const struct payments_config *pc = payments_config(c->cfg);
	const char *base = payments_sslcommerz_base(pc);
	struct em_curl_body body = EM_CURL_BODY_INIT(SSL_RESPONSE_MAX);
	struct curl_slist *hdrs = NULL;
	struct em_error perr = EM_ERROR_INIT;
	CURL *curl = curl_easy_init();
	char url[EM_CONFIG_STR_MAX + 128], *enc = NULL, *full = NULL, errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	int64_t t0 = em_now_ms();
	CURLcode rc = CURLE_FAILED_INIT;
	bool ok = false, plain = strncmp(base, "http://", 7) == 0;

	*answer = NULL;
	snprintf(url, sizeof url, "%s%s", base, path);
	if (!curl || !(enc = ssl_encode(curl, fields))) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "libcurl could not be set up");
		goto log;
	}
	if (!post) {
		size_t n = strlen(url) + strlen(enc) + 2;

		full = xmalloc(n);
		snprintf(full, n, "%s?%s", url, enc);
	}
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	/* plain HTTP only for a stand-in on an explicit override (tests) */
	if (!hdrs ||
	    curl_easy_setopt(curl, CURLOPT_URL, post ? url : full) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, plain ? "http" : "https") != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)pc->gateway_timeout_s) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, em_curl_body_collect) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_USERAGENT, "emporium") != CURLE_OK ||
	    (post && (curl_easy_setopt(curl, CURLOPT_POSTFIELDS, enc) != CURLE_OK ||
		      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(enc)) != CURLE_OK))) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "libcurl could not be set up");
		goto log;
	}
	rc = curl_easy_perform(curl);
	(void)curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK) {
		em_error_set(err, EM_ERR_BAD_GATEWAY, NULL, "the payment gateway did not answer (%s)",
			     errbuf[0] ? errbuf : curl_easy_strerror(rc));
		goto log;
	}
	if (status < 200 || status > 299) {
		em_error_set(err, EM_ERR_BAD_GATEWAY, NULL, "the payment gateway answered HTTP %ld",
			     status);
		goto log;
	}
	*answer = body.p ? em_json_parse(body.p, body.n, SSL_RESPONSE_MAX, EM_JSON_MAX_DEPTH, &perr)
			 : NULL;
	if (!*answer || !json_object_is_type(*answer, json_type_object)) {
		if (*answer)
			json_object_put(*answer);
		*answer = NULL;
		em_error_set(err, EM_ERR_BAD_GATEWAY, NULL,
			     "the payment gateway's answer is not a JSON object");
		goto log;
	}
	ok = true;
log:
	{
		struct payments_log_entry e = {
			.direction = "out", .kind = kind, .method = post ? "POST" : "GET", .url = url,
			.fields = fields, .http_status = status, .duration_ms = em_now_ms() - t0,
			.response = body.p, .error = ok ? NULL : err->message,
		};

		payments_log_write(c, &e);
	}
	if (!ok)
		em_warn("sslcommerz %s: %s", kind, err->message);
	if (enc) {
		memset(enc, 0, strlen(enc)); /* it holds the store password */
		free(enc);
	}
	if (full) {
		memset(full, 0, strlen(full));
		free(full);
	}
	free(body.p);
	curl_slist_free_all(hdrs);
	if (curl)
		curl_easy_cleanup(curl);
	return ok;
}

/* obj[key] as text: a string as is, a number printed, anything else "". */
static void ssl_text(json_object *obj, const char *key, char *out, size_t size)
{
	json_object *v;

	out[0] = '\0';
	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return;
	if (json_object_is_type(v, json_type_string))
		snprintf(out, size, "%s", json_object_get_string(v));
	else if (json_object_is_type(v, json_type_int))
		snprintf(out, size, "%lld", (long long)json_object_get_int64(v));
}

static void ssl_txn_read(json_object *o, struct payments_txn *t)
{
	char risk[8];

	memset(t, 0, sizeof *t);
	ssl_text(o, "status", t->status, sizeof t->status);
	ssl_text(o, "tran_id", t->tran_id, sizeof t->tran_id);
	ssl_text(o, "val_id", t->val_id, sizeof t->val_id);
	ssl_text(o, "amount", t->amount, sizeof t->amount);
	ssl_text(o, "currency", t->currency, sizeof t->currency);
	ssl_text(o, "currency_type", t->currency_type, sizeof t->currency_type);
	ssl_text(o, "currency_amount", t->currency_amount, sizeof t->currency_amount);
	ssl_text(o, "store_amount", t->store_amount, sizeof t->store_amount);
	ssl_text(o, "bank_tran_id", t->bank_tran_id, sizeof t->bank_tran_id);
	ssl_text(o, "card_type", t->card_type, sizeof t->card_type);
	ssl_text(o, "card_brand", t->card_brand, sizeof t->card_brand);
	ssl_text(o, "risk_title", t->risk_title, sizeof t->risk_title);
	ssl_text(o, "risk_level", risk, sizeof risk);
	/* anything but an explicit 0 is treated as risky: hold, do not ship */
	t->risk_level = strcmp(risk, "0") == 0 ? 0 : 1;
}

/* Reads a text field of a BSON document ("" when absent). */
static const char *ssl_bson_str(const bson_t *doc, const char *path)
{
	bson_iter_t it, sub;

	if (bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, path, &sub) &&
	    BSON_ITER_HOLDS_UTF8(&sub))
		return bson_iter_utf8(&sub, NULL);
	return "";
}

static const char *ssl_or(const char *v, const char *fallback)
{
	return v && v[0] ? v : fallback;
}

static bool ssl_init(const struct payments_call *c, const struct payments_init_req *in,
		     struct payments_init_res *out, struct em_error *err)
{
	const struct payments_config *pc = payments_config(c->cfg);
	const char *currency = ssl_bson_str(in->order, "currency");
	struct ssl_fields f = { { NULL, 0 }, 0 };
	json_object *ans = NULL;
	bson_iter_t it, arr;
	int64_t total = 0, items = 0;
	char amount[PAYMENTS_AMOUNT_MAX], url[EM_CONFIG_STR_MAX + 64], names[256] = "", num[24],
		oid[25], status[24], reason[200];
	bool ok = false;

	if (bson_iter_init_find(&it, in->order, "total") && BSON_ITER_HOLDS_INT64(&it))
		total = bson_iter_int64(&it);
	if (!payments_amount_gateway(total, currency, amount, sizeof amount)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "the order's total cannot be written");
		return false;
	}
	if (bson_iter_init_find(&it, in->order, "lines") && BSON_ITER_HOLDS_ARRAY(&it) &&
	    bson_iter_recurse(&it, &arr))
		while (bson_iter_next(&arr)) {
			bson_t line;
			const uint8_t *data;
			uint32_t len;
			bson_iter_t q;
			const char *title;
			size_t used = strlen(names);

			if (!BSON_ITER_HOLDS_DOCUMENT(&arr))
				continue;
			bson_iter_document(&arr, &len, &data);
			if (!bson_init_static(&line, data, len))
				continue;
			if (bson_iter_init_find(&q, &line, "quantity") &&
			    (BSON_ITER_HOLDS_INT64(&q) || BSON_ITER_HOLDS_INT32(&q)))
				items += bson_iter_as_int64(&q);
			title = ssl_bson_str(&line, "title");
			/* product_name is comma-separated: a comma inside a title
			 * becomes a space; the list is cut to fit */
			if (used + strlen(title) + 2 < sizeof names) {
				char *p = names + used;

				snprintf(p, sizeof names - used, "%s%s", used ? "," : "", title);
				for (p += used ? 1 : 0; *p; p++)
					if (*p == ',')
						*p = ' ';
			}
		}
	bson_oid_to_string(c->order_id, oid);
	snprintf(num, sizeof num, "%lld", (long long)(items > 0 ? items : 1));
	ssl_credentials(&f, pc);
	ssl_field(&f, "total_amount", amount);
	ssl_field(&f, "currency", currency);
	ssl_field(&f, "tran_id", in->tran_id);
	snprintf(url, sizeof url, "%s/api/v1/payments/sslcommerz/success", c->cfg->public_url);
	ssl_field(&f, "success_url", url);
	snprintf(url, sizeof url, "%s/api/v1/payments/sslcommerz/fail", c->cfg->public_url);
	ssl_field(&f, "fail_url", url);
	snprintf(url, sizeof url, "%s/api/v1/payments/sslcommerz/cancel", c->cfg->public_url);
	ssl_field(&f, "cancel_url", url);
	snprintf(url, sizeof url, "%s/api/v1/payments/sslcommerz/ipn", c->cfg->public_url);
	ssl_field(&f, "ipn_url", url);
	ssl_field(&f, "product_category", "ecommerce");
	ssl_field(&f, "product_name", ssl_or(names, "order"));
	ssl_field(&f, "product_profile", "physical-goods");
	ssl_field(&f, "num_of_item", num);
	ssl_field(&f, "cus_name", ssl_or(ssl_bson_str(in->order, "name"),
					 ssl_or(ssl_bson_str(in->order, "shipping_address.name"), "Customer")));
	ssl_field(&f, "cus_email", ssl_bson_str(in->order, "email"));
	ssl_field(&f, "cus_add1", ssl_or(ssl_bson_str(in->order, "billing_address.line1"),
					 ssl_bson_str(in->order, "shipping_address.line1")));
	ssl_field(&f, "cus_city", ssl_or(ssl_bson_str(in->order, "billing_address.city"),
					 ssl_bson_str(in->order, "shipping_address.city")));
	ssl_field(&f, "cus_postcode", ssl_or(ssl_or(ssl_bson_str(in->order, "billing_address.postal_code"),
						    ssl_bson_str(in->order, "shipping_address.postal_code")),
					     "0000"));
	ssl_field(&f, "cus_country", ssl_or(ssl_bson_str(in->order, "shipping_address.country"), "BD"));
	ssl_field(&f, "cus_phone", ssl_or(ssl_bson_str(in->order, "shipping_address.phone"), "N/A"));
	ssl_field(&f, "shipping_method", "YES");
	ssl_field(&f, "ship_name", ssl_or(ssl_bson_str(in->order, "shipping_address.name"), "Customer"));
	ssl_field(&f, "ship_add1", ssl_bson_str(in->order, "shipping_address.line1"));
	ssl_field(&f, "ship_city", ssl_bson_str(in->order, "shipping_address.city"));
	ssl_field(&f, "ship_postcode", ssl_or(ssl_bson_str(in->order, "shipping_address.postal_code"),
					      "0000"));
	ssl_field(&f, "ship_country", ssl_or(ssl_bson_str(in->order, "shipping_address.country"), "BD"));
	ssl_field(&f, "value_a", oid);
	ssl_field(&f, "value_b", ssl_bson_str(in->order, "number"));
	if (!ssl_request(c, "session", true, "/gwprocess/v4/api.php", &f.list, &ans, err))
		goto done;
	ssl_text(ans, "status", status, sizeof status);
	ssl_text(ans, "failedreason", reason, sizeof reason);
	ssl_text(ans, "sessionkey", out->sessionkey, sizeof out->sessionkey);
	ssl_text(ans, "GatewayPageURL", out->gateway_url, sizeof out->gateway_url);
	if (strcmp(status, "SUCCESS") != 0 || !out->gateway_url[0] ||
	    (strncmp(out->gateway_url, "https://", 8) != 0 && strncmp(out->gateway_url, "http://", 7) != 0)) {
		em_error_set(err, EM_ERR_BAD_GATEWAY, NULL, "the payment gateway refused the session: %.150s",
			     reason[0] ? reason : "no reason given");
		goto done;
	}
	ok = true;
done:
	if (ans)
		json_object_put(ans);
	for (size_t i = 0; i < f.list.n; i++)
		if (strcmp(f.list.items[i].key, "store_passwd") == 0)
			memset(f.list.items[i].value, 0, strlen(f.list.items[i].value));
	em_kv_list_release(&f.list);
	return ok;
}

static void ssl_fields_release(struct ssl_fields *f)
{
	for (size_t i = 0; i < f->list.n; i++)
		if (strcmp(f->list.items[i].key, "store_passwd") == 0)
			memset(f->list.items[i].value, 0, strlen(f->list.items[i].value));
	em_kv_list_release(&f->list);
}

static bool ssl_validate(const struct payments_call *c, const char *val_id,
			 struct payments_txn *out, struct em_error *err)
{
	struct ssl_fields f = { { NULL, 0 }, 0 };
	json_object *ans = NULL;
	bool ok;

	ssl_field(&f, "val_id", val_id);
	ssl_credentials(&f, payments_config(c->cfg));
	ssl_field(&f, "v", "1");
	ssl_field(&f, "format", "json");
	ok = ssl_request(c, "validation", false, "/validator/api/validationserverAPI.php", &f.list,
			 &ans, err);
	if (ok)
		ssl_txn_read(ans, out);
	if (ans)
		json_object_put(ans);
	ssl_fields_release(&f);
	return ok;
}

static bool ssl_refund(const struct payments_call *c, const struct payments_refund_req *in,
		       struct payments_refund_res *out, struct em_error *err)
{
	struct ssl_fields f = { { NULL, 0 }, 0 };
	json_object *ans = NULL;
	char amount[PAYMENTS_AMOUNT_MAX];
	bool ok = false;

	memset(out, 0, sizeof *out);
	if (!payments_amount_gateway(in->amount, in->currency, amount, sizeof amount)) {
		em_error_set(err, EM_ERR_INVALID, "amount", "cannot be written");
		return false;
	}
	ssl_field(&f, "bank_tran_id", in->bank_tran_id);
	ssl_field(&f, "refund_amount", amount);
	ssl_field(&f, "refund_remarks", in->remarks);
	if (in->refe_id)
		ssl_field(&f, "refe_id", in->refe_id);
	ssl_credentials(&f, payments_config(c->cfg));
	ssl_field(&f, "v", "1");
	ssl_field(&f, "format", "json");
	if (ssl_request(c, "refund", false, "/validator/api/merchantTransIDvalidationAPI.php",
			&f.list, &ans, err)) {
		ssl_text(ans, "status", out->status, sizeof out->status);
		ssl_text(ans, "refund_ref_id", out->refund_ref_id, sizeof out->refund_ref_id);
		ssl_text(ans, "errorReason", out->error, sizeof out->error);
		ok = true;
	}
	if (ans)
		json_object_put(ans);
	ssl_fields_release(&f);
	return ok;
}

static bool ssl_refund_status(const struct payments_call *c, const char *ref,
			      struct payments_refund_res *out, struct em_error *err)
{
	struct ssl_fields f = { { NULL, 0 }, 0 };
	json_object *ans = NULL;
	bool ok = false;

	memset(out, 0, sizeof *out);
	ssl_field(&f, "refund_ref_id", ref);
	ssl_credentials(&f, payments_config(c->cfg));
	ssl_field(&f, "v", "1");
	ssl_field(&f, "format", "json");
	if (ssl_request(c, "refund_status", false, "/validator/api/merchantTransIDvalidationAPI.php",
			&f.list, &ans, err)) {
		ssl_text(ans, "status", out->status, sizeof out->status);
		ssl_text(ans, "refund_ref_id", out->refund_ref_id, sizeof out->refund_ref_id);
		ssl_text(ans, "errorReason", out->error, sizeof out->error);
		ok = true;
	}
	if (ans)
		json_object_put(ans);
	ssl_fields_release(&f);
	return ok;
}

/*
 * The transactions of a tran_id: the first VALID/VALIDATED element wins
 * (a paid one is what reconciliation is after), else the first element.
 */
static bool ssl_query(const struct payments_call *c, const char *tran_id, struct payments_txn *out,
		      bool *found, struct em_error *err)
{
	struct ssl_fields f = { { NULL, 0 }, 0 };
	json_object *ans = NULL, *list;
	bool ok = false;

	*found = false;
	memset(out, 0, sizeof *out);
	ssl_field(&f, "tran_id", tran_id);
	ssl_credentials(&f, payments_config(c->cfg));
	ssl_field(&f, "v", "1");
	ssl_field(&f, "format", "json");
	if (!ssl_request(c, "query", false, "/validator/api/merchantTransIDvalidationAPI.php", &f.list,
			 &ans, err))
		goto done;
	if (json_object_object_get_ex(ans, "element", &list) &&
	    json_object_is_type(list, json_type_array)) {
		size_t n = json_object_array_length(list);

		for (size_t i = 0; i < n; i++) {
			json_object *el = json_object_array_get_idx(list, i);
			struct payments_txn t;

			if (!el || !json_object_is_type(el, json_type_object))
				continue;
			ssl_txn_read(el, &t);
			if (strcmp(t.tran_id, tran_id) != 0)
				continue;
			if (!*found || strcmp(t.status, "VALID") == 0 || strcmp(t.status, "VALIDATED") == 0) {
				bool paid = *found && (strcmp(out->status, "VALID") == 0 ||
						       strcmp(out->status, "VALIDATED") == 0);

				if (!paid)
					*out = t;
				*found = true;
			}
		}
	}
	ok = true;
done:
	if (ans)
		json_object_put(ans);
	ssl_fields_release(&f);
	return ok;
}

const struct payments_gateway payments_sslcommerz = {
	.name = "sslcommerz",
	.init = ssl_init,
	.validate = ssl_validate,
	.refund = ssl_refund,
	.refund_status = ssl_refund_status,
	.query = ssl_query,
};
