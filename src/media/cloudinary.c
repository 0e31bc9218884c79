/*
 * cloudinary.c - images stored at Cloudinary, with its signed Upload API
 * (https://cloudinary.com/documentation/image_upload_api_reference and
 * .../authentication_signatures).
 *
 * A signed request carries api_key, timestamp and signature: the hex SHA-1
 * of the request's other parameters (file, cloud_name, resource_type and
 * api_key excluded) sorted by name, joined as k=v with '&', followed by the
 * API secret. Cloudinary refuses a signature older than one hour, so the
 * timestamp is taken right before each call. The public_id is the content
 * hash, so the same image uploaded twice is one Cloudinary asset.
 *
 * libcurl handles are made per call: an upload is rare next to everything
 * else a worker does, and nothing is shared across fork().
 */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/curl_body.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "media/media.h"

#define CLD_RESPONSE_MAX (64 * 1024)

/* ---- SHA-1 (FIPS 180-4), for the signature only ---- */

static uint32_t rol32(uint32_t x, int n)
{
	return x << n | x >> (32 - n);
}

static void sha1_block(uint32_t h[5], const unsigned char *b)
{
	uint32_t w[80], a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
		       (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (int i = 0; i < 80; i++) {
		uint32_t f, k, t;

		if (i < 20) {
			f = (bb & c) | (~bb & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = bb ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (bb & c) | (bb & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = bb ^ c ^ d;
			k = 0xca62c1d6;
		}
		t = rol32(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol32(bb, 30);
		bb = a;
		a = t;
	}
	h[0] += a;
	h[1] += bb;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

void media_sha1(const unsigned char *data, size_t len, unsigned char out[20])
{
	uint32_t h[5] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 };
	unsigned char tail[128];
	size_t full = len / 64 * 64, rest = len - full, tlen;
	uint64_t bits = (uint64_t)len * 8;

	for (size_t off = 0; off < full; off += 64)
		sha1_block(h, data + off);
	memset(tail, 0, sizeof(tail));
	if (rest)
		memcpy(tail, data + full, rest);
	tail[rest] = 0x80;
	tlen = rest + 1 + 8 <= 64 ? 64 : 128;
	for (int i = 0; i < 8; i++)
		tail[tlen - 1 - i] = (unsigned char)(bits >> (8 * i));
	for (size_t off = 0; off < tlen; off += 64)
		sha1_block(h, tail + off);
	for (int i = 0; i < 5; i++) {
		out[4 * i] = (unsigned char)(h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(h[i] >> 8);
		out[4 * i + 3] = (unsigned char)h[i];
	}
}

static int param_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t xl = strcspn(x, "="), yl = strcspn(y, "=");
	int c = memcmp(x, y, xl < yl ? xl : yl);

	return c ? c : (xl > yl) - (xl < yl);
}

bool media_cloudinary_sign(const char *const *params, const char *secret, bool sha256,
			   char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	const char *sorted[16];
	size_t n = 0, total = strlen(secret) + 1;
	unsigned char digest[32];
	size_t dlen = sha256 ? 32 : 20;
	char *buf, *p;

	while (params[n]) {
		if (n >= sizeof(sorted) / sizeof(sorted[0]) || !strchr(params[n], '='))
			return false;
		sorted[n] = params[n];
		total += strlen(params[n]) + 1;
		n++;
	}
	if (size < 2 * dlen + 1)
		return false;
	qsort(sorted, n, sizeof(sorted[0]), param_cmp);
	buf = p = xmalloc(total);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(sorted[i]);

		if (i)
			*p++ = '&';
		memcpy(p, sorted[i], l);
		p += l;
	}
	memcpy(p, secret, strlen(secret));
	p += strlen(secret);
	if (sha256) {
		crypto_hash_sha256(digest, (const unsigned char *)buf, (unsigned long long)(p - buf));
	} else {
		media_sha1((const unsigned char *)buf, (size_t)(p - buf), digest);
	}
	free(buf);
	for (size_t i = 0; i < dlen; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[2 * dlen] = '\0';
	return true;
}

/* ---- HTTP ---- */

static bool cld_unavailable(struct em_error *err, const char *what, const char *detail)
{
	em_warn("cloudinary %s failed: %s", what, detail);
	em_error_set(err, EM_ERR_UNAVAILABLE, "storage",
		     "the image store (Cloudinary) failed the %s: %s", what, detail);
	return false;
}

/*
 * POSTs a signed multipart request to <api>/v1_1/<cloud>/image/<action>
 * with params (NULL-terminated "k=v", signed) plus api_key and signature,
 * and the file when data != NULL. *reply is the parsed JSON of a 200.
 */
static bool cld_call(const struct em_config *cfg, const char *action,
		     const char *const *params, const unsigned char *data, size_t len,
		     const char *filename, json_object **reply, struct em_error *err)
{
	CURL *c = NULL;
	curl_mime *mime = NULL;
	curl_mimepart *part;
	struct em_curl_body body = EM_CURL_BODY_INIT(CLD_RESPONSE_MAX);
	char url[512], sig[65], detail[200];
	long status = 0;
	CURLcode rc;
	bool ok = false;
	int n;

	*reply = NULL;
	if (!media_config(cfg)->cloudinary_cloud[0] || !media_config(cfg)->cloudinary_key[0] || !media_config(cfg)->cloudinary_secret[0]) {
		em_error_set(err, EM_ERR_INTERNAL, NULL,
			     "EMPORIUM_CLOUDINARY_CLOUD, _API_KEY and _API_SECRET must be set");
		return false;
	}
	n = snprintf(url, sizeof(url), "%s/v1_1/%s/image/%s", media_config(cfg)->cloudinary_url,
		     media_config(cfg)->cloudinary_cloud, action);
	if (n <= 0 || (size_t)n >= sizeof(url) ||
	    !media_cloudinary_sign(params, media_config(cfg)->cloudinary_secret, false, sig, sizeof(sig))) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot build the Cloudinary request");
		return false;
	}
	c = curl_easy_init();
	mime = c ? curl_mime_init(c) : NULL;
	if (!mime) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot start a Cloudinary request");
		goto done;
	}
	for (size_t i = 0; params[i]; i++) {
		const char *eq = strchr(params[i], '=');
		char name[64];

		if ((size_t)(eq - params[i]) >= sizeof(name))
			goto build_fail;
		memcpy(name, params[i], (size_t)(eq - params[i]));
		name[eq - params[i]] = '\0';
		part = curl_mime_addpart(mime);
		if (!part || curl_mime_name(part, name) != CURLE_OK ||
		    curl_mime_data(part, eq + 1, CURL_ZERO_TERMINATED) != CURLE_OK)
			goto build_fail;
	}
	part = curl_mime_addpart(mime);
	if (!part || curl_mime_name(part, "api_key") != CURLE_OK ||
	    curl_mime_data(part, media_config(cfg)->cloudinary_key, CURL_ZERO_TERMINATED) != CURLE_OK)
		goto build_fail;
	part = curl_mime_addpart(mime);
	if (!part || curl_mime_name(part, "signature") != CURLE_OK ||
	    curl_mime_data(part, sig, CURL_ZERO_TERMINATED) != CURLE_OK)
		goto build_fail;
	if (data) {
		part = curl_mime_addpart(mime);
		if (!part || curl_mime_name(part, "file") != CURLE_OK ||
		    curl_mime_data(part, (const char *)data, len) != CURLE_OK ||
		    curl_mime_filename(part, filename) != CURLE_OK ||
		    curl_mime_type(part, "application/octet-stream") != CURLE_OK)
			goto build_fail;
	}
	if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_MIMEPOST, mime) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L) != CURLE_OK ||
	    /* below EMPORIUM_REQUEST_TIMEOUT's default, so we answer 502 first */
	    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, em_curl_body_collect) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, "emporium") != CURLE_OK)
		goto build_fail;
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		cld_unavailable(err, action, body.overflow ? "the answer is too large"
							  : curl_easy_strerror(rc));
		goto done;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		json_object *o = body.p ? json_tokener_parse(body.p) : NULL, *e = NULL, *m = NULL;
		const char *msg = "";

		if (o && json_object_object_get_ex(o, "error", &e) &&
		    json_object_object_get_ex(e, "message", &m) &&
		    json_object_is_type(m, json_type_string))
			msg = json_object_get_string(m);
		snprintf(detail, sizeof(detail), "HTTP %ld %.150s", status, msg);
		json_object_put(o);
		cld_unavailable(err, action, detail);
		goto done;
	}
	{
		struct em_error perr = EM_ERROR_INIT;

		*reply = body.p ? em_json_parse(body.p, body.n, CLD_RESPONSE_MAX, EM_JSON_MAX_DEPTH,
						&perr) : NULL;
		if (!*reply || !json_object_is_type(*reply, json_type_object)) {
			json_object_put(*reply);
			*reply = NULL;
			cld_unavailable(err, action, "the answer is not a JSON object");
			goto done;
		}
	}
	ok = true;
	goto done;
build_fail:
	em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot build the Cloudinary request");
done:
	curl_mime_free(mime);
	if (c)
		curl_easy_cleanup(c);
	free(body.p);
	return ok;
}

/* A string member of o, or NULL. */
static const char *json_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

bool media_cloudinary_upload(const struct em_config *cfg, const char *public_id,
			     const unsigned char *data, size_t len, const char *filename,
			     struct media_cloudinary_result *res, struct em_error *err)
{
	char p_id[320], p_ts[32];
	const char *params[] = { p_id, p_ts, NULL };
	json_object *reply = NULL;
	const char *url, *pid;
	bool ok = false;

	memset(res, 0, sizeof(*res));
	snprintf(p_id, sizeof(p_id), "public_id=%s", public_id);
	snprintf(p_ts, sizeof(p_ts), "timestamp=%lld", (long long)(em_now_ms() / 1000));
	if (!cld_call(cfg, "upload", params, data, len, filename, &reply, err))
		goto done;
	url = json_str(reply, "secure_url");
	pid = json_str(reply, "public_id");
	/* The URL goes to browsers: only an absolute http(s) URL of sane size. */
	if (!url || !pid || (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) ||
	    strlen(url) >= sizeof(res->secure_url) || strlen(pid) >= sizeof(res->public_id) ||
	    strpbrk(url, " \"<>\\\r\n")) {
		cld_unavailable(err, "upload", "the answer lacks a usable secure_url or public_id");
		goto done;
	}
	snprintf(res->secure_url, sizeof(res->secure_url), "%s", url);
	snprintf(res->public_id, sizeof(res->public_id), "%s", pid);
	ok = true;
done:
	json_object_put(reply);
	return ok;
}

bool media_cloudinary_destroy(const struct em_config *cfg, const char *public_id,
			      struct em_error *err)
{
	char p_id[320], p_ts[32];
	const char *params[] = { p_id, p_ts, NULL };
	json_object *reply = NULL;
	const char *result;
	bool ok = false;

	snprintf(p_id, sizeof(p_id), "public_id=%s", public_id);
	snprintf(p_ts, sizeof(p_ts), "timestamp=%lld", (long long)(em_now_ms() / 1000));
	if (!cld_call(cfg, "destroy", params, NULL, 0, NULL, &reply, err))
		goto done;
	result = json_str(reply, "result");
	if (!result || (strcmp(result, "ok") != 0 && strcmp(result, "not found") != 0)) {
		cld_unavailable(err, "destroy", "the answer's result is not ok");
		goto done;
	}
	ok = true;
done:
	json_object_put(reply);
	return ok;
}
