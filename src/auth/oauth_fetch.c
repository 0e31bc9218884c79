/*
 * oauth_fetch.c - talking to the provider over libcurl: the bounded HTTP
 * client, discovery and JWKS (cached per worker process, refetched on an
 * unknown key id), the ID-token check against the cached keys, and the
 * authorization-code exchange.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <jwt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/accounts.h"
#include "auth/auth.h"
#include "auth/oauth.h"
#include "auth/oauth_internal.h"
#include "core/alloc.h"
#include "core/curl_body.h"
#include "core/json.h"
#include "core/log.h"

/* ---- HTTP client ---- */

/*
 * GETs url (form NULL) or POSTs the urlencoded form to it, with extra
 * headers (may be NULL). Fills *status and *body (a new string, free it).
 * No redirects are followed: every URL we call was checked beforehand and
 * a redirect would bypass that check.
 */
bool oauth_http(const char *url, const char *form, struct curl_slist *headers,
		       long *status, char **body, struct em_error *err)
{
	struct em_curl_body b = EM_CURL_BODY_INIT(OAUTH_FETCH_MAX);
	struct curl_slist *hl = NULL;
	CURL *c = NULL;
	CURLcode rc;
	bool ok = false;

	*body = NULL;
	if (!oauth_url_allowed(url)) {
		em_err("oauth: refusing to call %s (not https, not loopback)", url);
		em_error_set(err, EM_ERR_UNAVAILABLE, NULL, "the sign-in provider is misconfigured");
		return false;
	}
	/* libcurl was initialised by the module's process_init (module.c). */
	c = curl_easy_init();
	if (!c) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "libcurl cannot make a handle");
		return false;
	}
	hl = curl_slist_append(NULL, "Accept: application/json");
	if (!hl) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate headers");
		goto done;
	}
	for (struct curl_slist *h = headers; h; h = h->next) {
		struct curl_slist *n = curl_slist_append(hl, h->data);

		if (!n) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate headers");
			goto done;
		}
		hl = n;
	}
	if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
#if LIBCURL_VERSION_NUM >= 0x075500
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
#else
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) != CURLE_OK ||
#endif
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, OAUTH_TIMEOUT_MS) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, OAUTH_CONNECT_TIMEOUT_MS) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, "emporium-oauth/1") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, em_curl_body_collect) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b) != CURLE_OK ||
	    (form && curl_easy_setopt(c, CURLOPT_POSTFIELDS, form) != CURLE_OK)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "libcurl refused an option");
		goto done;
	}
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		em_err("oauth: %s %s: %s", form ? "POST" : "GET", url,
		       b.overflow ? "response too large" : curl_easy_strerror(rc));
		em_error_set(err, EM_ERR_UNAVAILABLE, NULL, "the sign-in provider cannot be reached");
		goto done;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	*body = b.p ? b.p : xstrdup("");
	b.p = NULL;
	ok = true;
done:
	free(b.p);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return ok;
}

/* GETs url and parses a JSON object from a 200 answer. */
json_object *oauth_fetch_json(const char *url, struct em_error *err)
{
	json_object *o = NULL;
	char *body = NULL;
	long status = 0;

	if (!oauth_http(url, NULL, NULL, &status, &body, err))
		return NULL;
	if (status != 200) {
		em_err("oauth: GET %s answered %ld", url, status);
		em_error_set(err, EM_ERR_UNAVAILABLE, NULL, "the sign-in provider is not answering");
		goto done;
	}
	o = em_json_parse(body, strlen(body), OAUTH_FETCH_MAX, EM_JSON_MAX_DEPTH, err);
	if (!o || !json_object_is_type(o, json_type_object)) {
		em_err("oauth: GET %s: not a JSON object", url);
		json_object_put(o);
		o = NULL;
		em_error_set(err, EM_ERR_UNAVAILABLE, NULL, "the sign-in provider answered nonsense");
	}
done:
	free(body);
	return o;
}

/* ---- discovery and JWKS, cached per worker ---- */

struct oauth_cache_slot {
	char issuer[EM_CONFIG_STR_MAX];
	time_t discovered_at;
	struct oauth_discovery d;
	json_object *jwks;
	time_t jwks_at;
};

/* Per process: workers never share it, and the master never fills it. */
static struct oauth_cache_slot oauth_cache[OAUTH_CACHE_SLOTS];

static struct oauth_cache_slot *oauth_cache_slot(const char *issuer)
{
	struct oauth_cache_slot *oldest = &oauth_cache[0];

	for (size_t i = 0; i < OAUTH_CACHE_SLOTS; i++) {
		if (strcmp(oauth_cache[i].issuer, issuer) == 0)
			return &oauth_cache[i];
		if (oauth_cache[i].discovered_at < oldest->discovered_at)
			oldest = &oauth_cache[i];
	}
	json_object_put(oldest->jwks);
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->issuer, sizeof(oldest->issuer), "%s", issuer);
	return oldest;
}

bool oauth_json_str(json_object *o, const char *key, const char **out)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return false;
	*out = json_object_get_string(v);
	return true;
}

/* True when o[key] is absent, or an array of strings holding want. */
static bool oauth_json_array_has(json_object *o, const char *key, const char *want,
				 bool *present)
{
	json_object *a;

	*present = json_object_object_get_ex(o, key, &a);
	if (!*present || !json_object_is_type(a, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *v = json_object_array_get_idx(a, i);

		if (json_object_is_type(v, json_type_string) &&
		    strcmp(json_object_get_string(v), want) == 0)
			return true;
	}
	return false;
}

static bool oauth_copy_url(json_object *doc, const char *key, char *out, size_t size,
			   const char *issuer, struct em_error *err)
{
	const char *v;

	if (!oauth_json_str(doc, key, &v) || !oauth_url_allowed(v) ||
	    (size_t)snprintf(out, size, "%s", v) >= size) {
		em_err("oauth: discovery of %s: %s is missing, too long or not https", issuer, key);
		em_error_set(err, EM_ERR_UNAVAILABLE, NULL, "the sign-in provider is misconfigured");
		return false;
	}
	return true;
}

static bool oauth_discovery_parse(const struct oauth_provider *p, json_object *doc,
				  struct oauth_discovery *d, struct em_error *err)
{
	const char *iss;
	bool present;

	memset(d, 0, sizeof(*d));
	/* OpenID Connect Discovery 1.0 §4.3: the issuer must match exactly. */
	if (!oauth_json_str(doc, "issuer", &iss) || strcmp(iss, p->issuer) != 0) {
		em_err("oauth: discovery of %s names another issuer", p->issuer);
		em_error_set(err, EM_ERR_UNAVAILABLE, NULL, "the sign-in provider is misconfigured");
		return false;
	}
	if (!oauth_copy_url(doc, "authorization_endpoint", d->authorization_endpoint,
			    sizeof(d->authorization_endpoint), p->issuer, err) ||
	    !oauth_copy_url(doc, "token_endpoint", d->token_endpoint, sizeof(d->token_endpoint),
			    p->issuer, err) ||
	    !oauth_copy_url(doc, "jwks_uri", d->jwks_uri, sizeof(d->jwks_uri), p->issuer, err))
		return false;
	if (!oauth_json_array_has(doc, "id_token_signing_alg_values_supported", "RS256",
				  &present)) {
		em_err("oauth: %s does not sign ID tokens with RS256", p->issuer);
		em_error_set(err, EM_ERR_UNAVAILABLE, NULL, "the sign-in provider is misconfigured");
		return false;
	}
	/* The default, when the provider lists none, is client_secret_basic. */
	if (oauth_json_array_has(doc, "token_endpoint_auth_methods_supported",
				 "client_secret_basic", &present) || !present) {
		d->auth_post = false;
	} else if (oauth_json_array_has(doc, "token_endpoint_auth_methods_supported",
					"client_secret_post", &present)) {
		d->auth_post = true;
	} else {
		em_err("oauth: %s supports neither client_secret_basic nor client_secret_post",
		       p->issuer);
		em_error_set(err, EM_ERR_UNAVAILABLE, NULL, "the sign-in provider is misconfigured");
		return false;
	}
	return true;
}

bool oauth_discovery_get(const struct oauth_provider *p, struct oauth_discovery *d,
			 struct em_error *err)
{
	struct oauth_cache_slot *slot = oauth_cache_slot(p->issuer);
	time_t now = time(NULL);
	char url[EM_CONFIG_STR_MAX + 64];
	size_t n = strlen(p->issuer);
	json_object *doc;
	bool ok;

	if (slot->discovered_at && now - slot->discovered_at < OAUTH_CACHE_TTL_S) {
		*d = slot->d;
		return true;
	}
	/* "<issuer>/.well-known/...", without doubling a trailing slash. */
	snprintf(url, sizeof(url), "%.*s/.well-known/openid-configuration",
		 (int)(n && p->issuer[n - 1] == '/' ? n - 1 : n), p->issuer);
	doc = oauth_fetch_json(url, err);
	if (!doc)
		return false;
	ok = oauth_discovery_parse(p, doc, d, err);
	json_object_put(doc);
	if (ok) {
		slot->d = *d;
		slot->discovered_at = now;
	}
	return ok;
}

bool oauth_id_token_check(const struct oauth_provider *p, const struct oauth_discovery *d,
			  const char *token, const char *nonce, struct oauth_claims *out,
			  struct em_error *err)
{
	struct oauth_cache_slot *slot = oauth_cache_slot(p->issuer);
	time_t now = time(NULL);
	bool unknown_kid = false;

	for (int attempt = 0; attempt < 2; attempt++) {
		bool stale = !slot->jwks || now - slot->jwks_at >= OAUTH_CACHE_TTL_S;
		bool rotate = attempt == 1 && unknown_kid &&
			      now - slot->jwks_at >= OAUTH_JWKS_REFETCH_MIN_S;

		if (attempt == 1 && !rotate)
			break;
		if (stale || rotate) {
			json_object *jwks = oauth_fetch_json(d->jwks_uri, err);

			if (!jwks)
				return false;
			json_object_put(slot->jwks);
			slot->jwks = jwks;
			slot->jwks_at = now;
		}
		em_error_clear(err);
		if (oauth_id_token_verify(token, slot->jwks, p->issuer, p->client_id, nonce,
					  (int64_t)now, out, &unknown_kid, err))
			return true;
		if (!unknown_kid)
			break;
	}
	em_warn("oauth %s: %s", p->name, err->message);
	return false;
}

/* ---- the code exchange ---- */

/* Appends "&key=urlencoded(value)" (no '&' first) to a form; false on failure. */
static bool oauth_form_add(CURL *c, char **form, size_t *len, const char *key, const char *value)
{
	char *enc = curl_easy_escape(c, value, 0);
	size_t need;

	if (!enc)
		return false;
	need = *len + strlen(key) + strlen(enc) + 3;
	*form = xrealloc(*form, need);
	*len += (size_t)snprintf(*form + *len, need - *len, "%s%s=%s", *len ? "&" : "", key, enc);
	curl_free(enc);
	return true;
}

bool oauth_code_exchange(const struct oauth_provider *p, const struct oauth_discovery *d,
			 const char *code, const char *code_verifier, char **id_token,
			 struct em_error *err)
{
	CURL *esc = curl_easy_init();
	struct curl_slist *headers = NULL;
	char *form = NULL, *body = NULL, *basic = NULL, *b64 = NULL, *eid = NULL, *esec = NULL;
	size_t flen = 0;
	json_object *resp = NULL;
	struct em_error perr = EM_ERROR_INIT;
	const char *tok;
	long status = 0;
	bool ok = false;

	*id_token = NULL;
	if (!esc) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "libcurl cannot make a handle");
		return false;
	}
	if (!oauth_form_add(esc, &form, &flen, "grant_type", "authorization_code") ||
	    !oauth_form_add(esc, &form, &flen, "code", code) ||
	    !oauth_form_add(esc, &form, &flen, "redirect_uri", p->redirect_uri) ||
	    !oauth_form_add(esc, &form, &flen, "code_verifier", code_verifier) ||
	    (d->auth_post && (!oauth_form_add(esc, &form, &flen, "client_id", p->client_id) ||
			      !oauth_form_add(esc, &form, &flen, "client_secret",
					      p->client_secret)))) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot build the token request");
		goto done;
	}
	if (!d->auth_post) {
		/* RFC 6749 §2.3.1: id and secret are form-urlencoded before base64. */
		size_t plain_len, b64cap;
		char *plain;

		eid = curl_easy_escape(esc, p->client_id, 0);
		esec = curl_easy_escape(esc, p->client_secret, 0);
		if (!eid || !esec) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot encode the client credentials");
			goto done;
		}
		plain_len = strlen(eid) + strlen(esec) + 1;
		plain = xmalloc(plain_len + 1);
		snprintf(plain, plain_len + 1, "%s:%s", eid, esec);
		b64cap = sodium_base64_ENCODED_LEN(plain_len, sodium_base64_VARIANT_ORIGINAL);
		b64 = xmalloc(b64cap);
		sodium_bin2base64(b64, b64cap, (const unsigned char *)plain, plain_len,
				  sodium_base64_VARIANT_ORIGINAL);
		sodium_memzero(plain, plain_len);
		free(plain);
		basic = xmalloc(strlen(b64) + 32);
		snprintf(basic, strlen(b64) + 32, "Authorization: Basic %s", b64);
		headers = curl_slist_append(NULL, basic);
		if (!headers) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot allocate headers");
			goto done;
		}
	}
	if (!oauth_http(d->token_endpoint, form, headers, &status, &body, err))
		goto done;
	resp = em_json_parse(body, strlen(body), OAUTH_FETCH_MAX, EM_JSON_MAX_DEPTH, &perr);
	if (status != 200) {
		const char *e = NULL;

		if (resp)
			oauth_json_str(resp, "error", &e);
		em_warn("oauth %s: the token endpoint answered %ld (%.64s)", p->name, status,
			e ? e : "no error code");
		if (status == 400 || status == 401)
			em_error_set(err, EM_ERR_UNAUTHENTICATED, NULL,
				     "the sign-in provider refused the authorization code");
		else
			em_error_set(err, EM_ERR_UNAVAILABLE, NULL,
				     "the sign-in provider is not answering");
		goto done;
	}
	if (!resp || !oauth_json_str(resp, "id_token", &tok) || strlen(tok) > OAUTH_TOKEN_MAX) {
		em_err("oauth %s: the token response holds no ID token", p->name);
		em_error_set(err, EM_ERR_UNAVAILABLE, NULL, "the sign-in provider answered nonsense");
		goto done;
	}
	*id_token = xstrdup(tok);
	ok = true;
done:
	if (b64)
		sodium_memzero(b64, strlen(b64));
	if (basic)
		sodium_memzero(basic, strlen(basic));
	if (form)
		sodium_memzero(form, flen);
	free(b64);
	free(basic);
	free(form);
	free(body);
	curl_free(eid);
	curl_free(esec);
	curl_slist_free_all(headers);
	json_object_put(resp);
	curl_easy_cleanup(esc);
	return ok;
}
