/*
 * coupon.c - coupon codes, documents and the rules that need no lines:
 * active, dates, usage limits, first order. The arithmetic ones
 * (min_subtotal, scope) are the pricing engine's.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cart/cart.h"
#include "core/json.h"

#define CART_AMOUNT_MAX INT64_C(1000000000000) /* 10^12 minor units, like the catalog */
#define CART_LIMIT_MAX  INT64_C(1000000000)

bool cart_coupon_code_check(const char *code, char *key, size_t size, struct em_error *err)
{
	size_t n = code ? strlen(code) : 0;

	if (n < 1 || n > CART_COUPON_CODE_MAX || size <= n) {
		em_error_setc(err, EM_ERR_INVALID, "code", n < 1 ? EM_CODE_TOO_SHORT : EM_CODE_TOO_LONG,
			      "a coupon code is 1 to %d characters", CART_COUPON_CODE_MAX);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)code[i];

		if (!isalnum(c) && c != '-' && c != '_') {
			em_error_setc(err, EM_ERR_INVALID, "code", EM_CODE_INVALID_FORMAT,
				      "a coupon code holds only letters, digits, '-' and '_'");
			return false;
		}
		key[i] = (char)tolower(c);
	}
	key[n] = '\0';
	return true;
}

/* ---- time ---- */

static bool cart_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

bool cart_time_parse(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi, sec, frac = 0, oh = 0, om = 0, sign = 0;
	const char *p;
	struct tm tm;
	time_t t;

	if (!s || strlen(s) < 20 || strlen(s) > 35)
		return false;
	if (!cart_digits(s, 4, &y) || s[4] != '-' || !cart_digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !cart_digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    !cart_digits(s + 11, 2, &h) || s[13] != ':' || !cart_digits(s + 14, 2, &mi) ||
	    s[16] != ':' || !cart_digits(s + 17, 2, &sec))
		return false;
	p = s + 19;
	if (*p == '.') {
		int n = 0;

		p++;
		while (isdigit((unsigned char)p[n]))
			n++;
		if (n < 1 || n > 9)
			return false;
		/* milliseconds: the first three digits, the rest dropped */
		for (int i = 0; i < 3; i++)
			frac = frac * 10 + (i < n ? p[i] - '0' : 0);
		p += n;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (!cart_digits(p + 1, 2, &oh) || p[3] != ':' || !cart_digits(p + 4, 2, &om) ||
		    oh > 23 || om > 59)
			return false;
		p += 6;
	} else {
		return false;
	}
	if (*p || y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 59)
		return false;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	/* timegm normalises 31 February into March: refuse what moved */
	if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1)
		return false;
	*ms = ((int64_t)t - sign * (oh * 3600 + om * 60)) * 1000 + frac;
	return true;
}

void cart_time_format(int64_t ms, char *out, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm)) {
		snprintf(out, size, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* ---- documents ---- */

static int64_t cart_iter_i64(const bson_iter_t *it)
{
	if (BSON_ITER_HOLDS_INT64(it))
		return bson_iter_int64(it);
	if (BSON_ITER_HOLDS_INT32(it))
		return bson_iter_int32(it);
	return 0;
}

static size_t cart_read_oids(const bson_iter_t *arr, bson_oid_t *out, size_t max)
{
	bson_iter_t a;
	size_t n = 0;

	if (!BSON_ITER_HOLDS_ARRAY(arr) || !bson_iter_recurse(arr, &a))
		return 0;
	while (bson_iter_next(&a) && n < max)
		if (BSON_ITER_HOLDS_OID(&a))
			bson_oid_copy(bson_iter_oid(&a), &out[n++]);
	return n;
}

bool cart_coupon_from_bson(const bson_t *doc, struct cart_coupon *c, struct em_error *err)
{
	bson_iter_t it;

	memset(c, 0, sizeof *c);
	if (!bson_iter_init(&it, doc))
		goto bad;
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);

		if (strcmp(k, "_id") == 0 && BSON_ITER_HOLDS_OID(&it)) {
			bson_oid_copy(bson_iter_oid(&it), &c->id);
		} else if (strcmp(k, "code") == 0 && BSON_ITER_HOLDS_UTF8(&it)) {
			snprintf(c->code, sizeof c->code, "%s", bson_iter_utf8(&it, NULL));
		} else if (strcmp(k, "type") == 0 && BSON_ITER_HOLDS_UTF8(&it)) {
			const char *t = bson_iter_utf8(&it, NULL);

			c->type = strcmp(t, "percent") == 0 ? CART_COUPON_PERCENT :
				  strcmp(t, "fixed") == 0 ? CART_COUPON_FIXED :
				  strcmp(t, "free_shipping") == 0 ? CART_COUPON_FREE_SHIPPING : 0;
		} else if (strcmp(k, "percent_bp") == 0) {
			c->percent_bp = cart_iter_i64(&it);
		} else if (strcmp(k, "amount") == 0) {
			c->amount = cart_iter_i64(&it);
		} else if (strcmp(k, "max_discount") == 0 && !BSON_ITER_HOLDS_NULL(&it)) {
			c->has_max_discount = true;
			c->max_discount = cart_iter_i64(&it);
		} else if (strcmp(k, "min_subtotal") == 0) {
			c->min_subtotal = cart_iter_i64(&it);
		} else if (strcmp(k, "starts_at") == 0 && BSON_ITER_HOLDS_DATE_TIME(&it)) {
			c->starts_at = bson_iter_date_time(&it);
		} else if (strcmp(k, "ends_at") == 0 && BSON_ITER_HOLDS_DATE_TIME(&it)) {
			c->ends_at = bson_iter_date_time(&it);
		} else if (strcmp(k, "usage_limit") == 0) {
			c->usage_limit = cart_iter_i64(&it);
		} else if (strcmp(k, "usage_limit_per_customer") == 0) {
			c->usage_limit_per_customer = cart_iter_i64(&it);
		} else if (strcmp(k, "used_count") == 0) {
			c->used_count = cart_iter_i64(&it);
		} else if (strcmp(k, "first_order_only") == 0 && BSON_ITER_HOLDS_BOOL(&it)) {
			c->first_order_only = bson_iter_bool(&it);
		} else if (strcmp(k, "active") == 0 && BSON_ITER_HOLDS_BOOL(&it)) {
			c->active = bson_iter_bool(&it);
		} else if (strcmp(k, "scope") == 0 && BSON_ITER_HOLDS_DOCUMENT(&it)) {
			bson_iter_t s;

			c->has_scope = true;
			if (!bson_iter_recurse(&it, &s))
				goto bad;
			while (bson_iter_next(&s)) {
				if (strcmp(bson_iter_key(&s), "product_ids") == 0)
					c->nscope_products =
						cart_read_oids(&s, c->scope_products, CART_SCOPE_MAX);
				else if (strcmp(bson_iter_key(&s), "category_ids") == 0)
					c->nscope_categories =
						cart_read_oids(&s, c->scope_categories, CART_SCOPE_MAX);
			}
		}
	}
	if (!c->type || !c->code[0])
		goto bad;
	return true;
bad:
	em_error_set(err, EM_ERR_INTERNAL, NULL, "a stored coupon is malformed");
	return false;
}

const char *cart_coupon_rules(const struct cart_coupon *c, int64_t now_ms, bool customer_known,
			      int64_t customer_uses, int64_t customer_orders)
{
	if (!c->active)
		return "unknown";
	if (c->starts_at && now_ms < c->starts_at)
		return "not_started";
	if (c->ends_at && now_ms >= c->ends_at)
		return "expired";
	if (c->usage_limit && c->used_count >= c->usage_limit)
		return "usage_limit";
	if (customer_known && c->usage_limit_per_customer &&
	    customer_uses >= c->usage_limit_per_customer)
		return "per_customer_limit";
	if (customer_known && c->first_order_only && customer_orders > 0)
		return "first_order_only";
	return NULL;
}

struct pricing_coupon cart_coupon_pricing(const struct cart_coupon *c)
{
	struct pricing_coupon p;

	memset(&p, 0, sizeof p);
	p.type = c->type == CART_COUPON_PERCENT ? PRICING_COUPON_TYPE_PERCENT :
		 c->type == CART_COUPON_FIXED ? PRICING_COUPON_TYPE_FIXED :
		 PRICING_COUPON_TYPE_FREE_SHIPPING;
	p.percent_bp = c->percent_bp;
	p.amount = c->amount;
	p.has_max_discount = c->has_max_discount;
	p.max_discount = c->max_discount;
	p.min_subtotal = c->min_subtotal;
	return p;
}

bool cart_coupon_in_scope(const struct cart_coupon *c, const bson_oid_t *product_id,
			  const bson_oid_t *category_chain, size_t nchain)
{
	if (!c->has_scope)
		return true;
	for (size_t i = 0; i < c->nscope_products; i++)
		if (product_id && bson_oid_equal(&c->scope_products[i], product_id))
			return true;
	for (size_t i = 0; i < c->nscope_categories; i++)
		for (size_t j = 0; j < nchain; j++)
			if (bson_oid_equal(&c->scope_categories[i], &category_chain[j]))
				return true;
	return false;
}

/* ---- admin bodies ---- */

static const char *const coupon_fields[] = {
	"code", "type", "percent_bp", "amount", "max_discount", "min_subtotal", "starts_at",
	"ends_at", "usage_limit", "usage_limit_per_customer", "first_order_only", "scope",
	"active", NULL,
};

static bool cart_json_null(json_object *in, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(in, key, &v) && json_object_is_type(v, json_type_null);
}

/* An optional integer that null removes (PATCH) or leaves out (POST). */
static bool cart_build_int(json_object *in, const char *key, int64_t min, int64_t max,
			   bool nullable, bson_t *set, bson_t *unset, struct em_error *err)
{
	bool present = false;
	int64_t v;

	if (nullable && cart_json_null(in, key)) {
		BSON_APPEND_INT32(unset, key, 1);
		return true;
	}
	if (!em_json_get_int64(in, key, min, max, false, &present, &v, err))
		return false;
	if (present)
		BSON_APPEND_INT64(set, key, v);
	return true;
}

static bool cart_build_date(json_object *in, const char *key, bson_t *set, bson_t *unset,
			    struct em_error *err)
{
	const char *s;
	int64_t ms;

	if (cart_json_null(in, key)) {
		BSON_APPEND_INT32(unset, key, 1);
		return true;
	}
	if (!em_json_get_string(in, key, 1, 40, false, &s, err))
		return false;
	if (!s)
		return true;
	if (!cart_time_parse(s, &ms)) {
		em_error_setc(err, EM_ERR_INVALID, key, EM_CODE_INVALID_FORMAT,
			      "%s must be an RFC 3339 date-time", key);
		return false;
	}
	BSON_APPEND_DATE_TIME(set, key, ms);
	return true;
}

static bool cart_build_bool(json_object *in, const char *key, bson_t *set, struct em_error *err)
{
	json_object *v;

	if (!json_object_object_get_ex(in, key, &v))
		return true;
	if (!json_object_is_type(v, json_type_boolean)) {
		em_error_setc(err, EM_ERR_INVALID, key, EM_CODE_INVALID_TYPE,
			      "%s must be true or false", key);
		return false;
	}
	BSON_APPEND_BOOL(set, key, json_object_get_boolean(v));
	return true;
}

static bool cart_build_ids(json_object *scope, const char *key, bson_t *out, struct em_error *err)
{
	json_object *arr;
	char field[64];
	bson_t child;
	size_t n;

	snprintf(field, sizeof field, "scope.%s", key);
	BSON_APPEND_ARRAY_BEGIN(out, key, &child);
	if (json_object_object_get_ex(scope, key, &arr)) {
		if (!json_object_is_type(arr, json_type_array) ||
		    (n = json_object_array_length(arr)) > CART_SCOPE_MAX) {
			em_error_set(err, EM_ERR_INVALID, field, "%s is a list of at most %d ids", field,
				     CART_SCOPE_MAX);
			bson_append_array_end(out, &child);
			return false;
		}
		for (size_t i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(arr, i);
			const char *s = json_object_is_type(e, json_type_string) ?
						json_object_get_string(e) : NULL;
			char idx[24];
			bson_oid_t oid;

			if (!s || strlen(s) != 24 || !bson_oid_is_valid(s, 24)) {
				em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_INVALID_FORMAT,
					      "%s[%zu] is not an id", field, i);
				bson_append_array_end(out, &child);
				return false;
			}
			bson_oid_init_from_string(&oid, s);
			snprintf(idx, sizeof idx, "%zu", i);
			BSON_APPEND_OID(&child, idx, &oid);
		}
	}
	bson_append_array_end(out, &child);
	return true;
}

bool cart_coupon_build(json_object *in, bool creating, bson_t *set, struct em_error *err)
{
	bson_t unset = BSON_INITIALIZER;
	const char *code = NULL, *type = NULL;
	char key[CART_COUPON_CODE_MAX + 1];
	json_object *scope;
	bool ok = false;

	/* every field checked, every fault reported at once */
	em_error_collect(err);
	if (!em_json_check_fields(in, coupon_fields, err) && !err->field[0]) {
		em_error_collect_end(err);
		goto done; /* not an object */
	}
	if (em_json_get_string(in, "code", 1, 64, creating, &code, err) && code &&
	    cart_coupon_code_check(code, key, sizeof key, err)) {
		BSON_APPEND_UTF8(set, "code", code);
		BSON_APPEND_UTF8(set, "code_key", key);
	}
	if (em_json_get_string(in, "type", 1, 20, creating, &type, err) && type) {
		if (strcmp(type, "percent") != 0 && strcmp(type, "fixed") != 0 &&
		    strcmp(type, "free_shipping") != 0)
			em_error_setc(err, EM_ERR_INVALID, "type", EM_CODE_INVALID_VALUE,
				      "type is percent, fixed or free_shipping");
		else
			BSON_APPEND_UTF8(set, "type", type);
	}
	cart_build_int(in, "percent_bp", 1, PRICING_BP_ONE, false, set, &unset, err);
	cart_build_int(in, "amount", 1, CART_AMOUNT_MAX, false, set, &unset, err);
	cart_build_int(in, "max_discount", 0, CART_AMOUNT_MAX, true, set, &unset, err);
	cart_build_int(in, "min_subtotal", 0, CART_AMOUNT_MAX, false, set, &unset, err);
	cart_build_int(in, "usage_limit", 1, CART_LIMIT_MAX, true, set, &unset, err);
	cart_build_int(in, "usage_limit_per_customer", 1, CART_LIMIT_MAX, true, set, &unset, err);
	cart_build_date(in, "starts_at", set, &unset, err);
	cart_build_date(in, "ends_at", set, &unset, err);
	cart_build_bool(in, "first_order_only", set, err);
	cart_build_bool(in, "active", set, err);
	if (cart_json_null(in, "scope")) {
		BSON_APPEND_INT32(&unset, "scope", 1);
	} else if (json_object_object_get_ex(in, "scope", &scope)) {
		static const char *const scope_fields[] = { "product_ids", "category_ids", NULL };
		struct em_error serr = EM_ERROR_INIT;
		bson_t s;

		if (!json_object_is_type(scope, json_type_object)) {
			em_error_setc(err, EM_ERR_INVALID, "scope", EM_CODE_INVALID_TYPE,
				      "scope is {product_ids: [...], category_ids: [...]}");
		} else if (!em_json_check_fields(scope, scope_fields, &serr)) {
			char f[sizeof err->field];

			snprintf(f, sizeof f, "scope.%.50s", serr.field);
			em_error_setc(err, serr.kind, f, em_error_code(&serr), "%s", serr.message);
		} else {
			BSON_APPEND_DOCUMENT_BEGIN(set, "scope", &s);
			if (cart_build_ids(scope, "product_ids", &s, err))
				cart_build_ids(scope, "category_ids", &s, err);
			bson_append_document_end(set, &s);
		}
	}
	if (!em_error_collect_end(err))
		goto done;
	/* Fields a PATCH sends as null are recorded under "$unset" for the caller. */
	if (!bson_empty(&unset))
		BSON_APPEND_DOCUMENT(set, "$unset", &unset);
	ok = true;
done:
	bson_destroy(&unset);
	return ok;
}

json_object *cart_coupon_json(const bson_t *doc)
{
	json_object *o = json_object_new_object();
	bson_iter_t it;

	if (!o || !bson_iter_init(&it, doc)) {
		json_object_put(o);
		return NULL;
	}
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);
		json_object *v = NULL;
		char buf[40];

		if (strcmp(k, "code_key") == 0)
			continue;
		if (strcmp(k, "_id") == 0 && BSON_ITER_HOLDS_OID(&it)) {
			bson_oid_to_string(bson_iter_oid(&it), buf);
			json_object_object_add(o, "id", json_object_new_string(buf));
			continue;
		}
		if (BSON_ITER_HOLDS_UTF8(&it)) {
			v = json_object_new_string(bson_iter_utf8(&it, NULL));
		} else if (BSON_ITER_HOLDS_INT64(&it) || BSON_ITER_HOLDS_INT32(&it)) {
			v = json_object_new_int64(cart_iter_i64(&it));
		} else if (BSON_ITER_HOLDS_BOOL(&it)) {
			v = json_object_new_boolean(bson_iter_bool(&it));
		} else if (BSON_ITER_HOLDS_DATE_TIME(&it)) {
			cart_time_format(bson_iter_date_time(&it), buf, sizeof buf);
			v = json_object_new_string(buf);
		} else if (strcmp(k, "scope") == 0 && BSON_ITER_HOLDS_DOCUMENT(&it)) {
			bson_iter_t s;

			v = json_object_new_object();
			if (v && bson_iter_recurse(&it, &s))
				while (bson_iter_next(&s)) {
					json_object *arr = json_object_new_array();
					bson_iter_t a;

					if (!arr)
						continue;
					if (bson_iter_recurse(&s, &a))
						while (bson_iter_next(&a))
							if (BSON_ITER_HOLDS_OID(&a)) {
								bson_oid_to_string(bson_iter_oid(&a), buf);
								json_object_array_add(
									arr, json_object_new_string(buf));
							}
					json_object_object_add(v, bson_iter_key(&s), arr);
				}
		}
		if (v)
			json_object_object_add(o, k, v);
	}
	return o;
}

bool cart_coupon_validate(const struct cart_coupon *c, struct em_error *err)
{
	if (c->type == CART_COUPON_PERCENT && c->percent_bp < 1) {
		em_error_set(err, EM_ERR_INVALID, "percent_bp", "a percent coupon needs percent_bp");
		return false;
	}
	if (c->type == CART_COUPON_FIXED && c->amount < 1) {
		em_error_set(err, EM_ERR_INVALID, "amount", "a fixed coupon needs an amount");
		return false;
	}
	if (c->has_max_discount && c->type != CART_COUPON_PERCENT) {
		em_error_set(err, EM_ERR_INVALID, "max_discount",
			     "max_discount applies to percent coupons only");
		return false;
	}
	if (c->starts_at && c->ends_at && c->ends_at <= c->starts_at) {
		em_error_set(err, EM_ERR_INVALID, "ends_at", "ends_at must be after starts_at");
		return false;
	}
	return true;
}
