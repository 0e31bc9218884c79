/*
 * oauth.c - the OpenID Connect rules: provider configuration, discovery
 * and JWKS over libcurl (cached per worker), the code exchange, ID token
 * verification and the account an identity maps to. No HTTP routing here
 * (oauth_routes.c).
 *
 * The ID token is the only thing trusted about the user, and only after
 * every check in oauth_id_token_verify(): it comes from the token endpoint
 * over a verified TLS connection, but a provider's signing key is what
 * makes it the provider's word, and the nonce is what ties it to the
 * login this browser started.
 */
#include "auth/oauth.h"

#include <ctype.h>
#include <curl/curl.h>
#include <jwt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "core/alloc.h"
#include "core/curl_body.h"
#include "core/json.h"
#include "core/log.h"

#define OAUTH_FETCH_MAX (512 * 1024)   /* discovery, JWKS, token responses */
#define OAUTH_TOKEN_MAX (16 * 1024)    /* an ID token */
#define OAUTH_TIMEOUT_MS 5000L
#define OAUTH_CONNECT_TIMEOUT_MS 3000L
#define OAUTH_CACHE_SLOTS 8
#define OAUTH_JWKS_REFETCH_MIN_S 10    /* unknown kids cannot make us hammer */

/* ---- provider configuration ---- */

static bool oauth_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > OAUTH_NAME_MAX)
		return false;
	for (const char *p = name; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
			return false;
	return true;
}

/* True when name is one of the space-separated words of list. */
static bool oauth_name_listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; *p;) {
		size_t w;

		while (*p == ' ' || *p == '\t')
			p++;
		w = strcspn(p, " \t");
		if (w == n && strncmp(p, name, n) == 0)
			return true;
		p += w;
	}
	return false;
}

static bool oauth_setting(const struct em_config *cfg, const char *name, const char *what,
			  char *out, size_t size, struct em_error *err)
{
	char var[96];

	snprintf(var, sizeof(var), "EMPORIUM_OAUTH_%s_%s", name, what);
	for (char *p = var; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	if (!em_config_lookup(cfg, var, out, size) || !out[0]) {
		em_err("oauth provider %s: %s is not set (or too long)", name, var);
		em_error_set(err, EM_ERR_UNAVAILABLE, NULL,
			     "sign-in with this provider is not available right now");
		return false;
	}
	return true;
}

bool oauth_provider_load(const struct em_config *cfg, const char *name,
			 struct oauth_provider *p, struct em_error *err)
{
	size_t base;

	memset(p, 0, sizeof(*p));
	if (!name || !oauth_name_valid(name) || !oauth_name_listed(auth_config(cfg)->oauth_providers, name)) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such sign-in provider");
		return false;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (!oauth_setting(cfg, name, "ISSUER", p->issuer, sizeof(p->issuer), err) ||
	    !oauth_setting(cfg, name, "CLIENT_ID", p->client_id, sizeof(p->client_id), err) ||
	    !oauth_setting(cfg, name, "CLIENT_SECRET", p->client_secret,
			   sizeof(p->client_secret), err))
		return false;
	if (!oauth_url_allowed(p->issuer)) {
		em_err("oauth provider %s: the issuer must be https:// (or http:// to a "
		       "loopback address)", name);
		em_error_set(err, EM_ERR_UNAVAILABLE, NULL,
			     "sign-in with this provider is not available right now");
		return false;
	}
	base = strlen(cfg->public_url);
	while (base > 0 && cfg->public_url[base - 1] == '/')
		base--;
	if ((size_t)snprintf(p->redirect_uri, sizeof(p->redirect_uri),
			     "%.*s/api/v1/auth/oauth/%s/callback", (int)base, cfg->public_url,
			     name) >= sizeof(p->redirect_uri)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "the redirect URI is too long");
		return false;
	}
	return true;
}

/* ---- URLs ---- */

bool oauth_url_allowed(const char *url)
{
	static const char *const loopback[] = { "127.0.0.1", "localhost", "[::1]" };
	const char *auth;
	size_t alen;

	if (!url)
		return false;
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return false;
	if (strncmp(url, "https://", 8) == 0)
		auth = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		auth = url + 7;
	else
		return false;
	alen = strcspn(auth, "/?#");
	if (alen == 0 || memchr(auth, '@', alen) || memchr(auth, '\\', alen))
		return false;
	if (auth == url + 8)
		return true;
	/* Plain http only where no network can sit between us and the provider. */
	for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
		size_t hl = strlen(loopback[i]);

		if (alen >= hl && strncmp(auth, loopback[i], hl) == 0) {
			if (alen == hl)
				return true;
			if (auth[hl] != ':' || alen == hl + 1 || alen - hl - 1 > 5)
				return false;
			for (size_t k = hl + 1; k < alen; k++)
				if (!isdigit((unsigned char)auth[k]))
					return false;
			return true;
		}
	}
	return false;
}

/* ---- HTTP client ---- */

/*
 * GETs url (form NULL) or POSTs the urlencoded form to it, with extra
 * headers (may be NULL). Fills *status and *body (a new string, free it).
 * No redirects are followed: every URL we call was checked beforehand and
 * a redirect would bypass that check.
 */
static bool oauth_http(const char *url, const char *form, struct curl_slist *headers,
		       long *status, char **body, struct em_error *err)
{
	static bool global_done;
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
	/* A worker is single-threaded and calls this only after fork(). */
	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "libcurl cannot initialise");
			return false;
		}
		global_done = true;
	}
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
static json_object *oauth_fetch_json(const char *url, struct em_error *err)
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

static bool oauth_json_str(json_object *o, const char *key, const char **out)
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

/* ---- base64url and small crypto ---- */

/* Decodes unpadded base64url; a new buffer (free it) with a NUL after it. */
static unsigned char *oauth_b64url_decode(const char *in, size_t in_len, size_t *out_len)
{
	unsigned char *out = xmalloc(in_len * 3 / 4 + 2);
	const char *end = NULL;

	if (sodium_base642bin(out, in_len * 3 / 4 + 1, in, in_len, NULL, out_len, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != in + in_len) {
		free(out);
		return NULL;
	}
	out[*out_len] = '\0';
	return out;
}

bool oauth_pkce_challenge(const char *verifier, char *out, size_t size)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	size_t n = verifier ? strlen(verifier) : 0;

	if (n < 43 || n > 128 || size < sodium_base64_ENCODED_LEN(sizeof(digest),
				sodium_base64_VARIANT_URLSAFE_NO_PADDING))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)verifier[i]) && !strchr("-._~", verifier[i]))
			return false;
	crypto_hash_sha256(digest, (const unsigned char *)verifier, n);
	sodium_bin2base64(out, size, digest, sizeof(digest),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return true;
}

/* ---- JWK -> PEM ---- */

/* Appends a DER length. */
static size_t der_len(unsigned char *p, size_t len)
{
	if (len < 0x80) {
		p[0] = (unsigned char)len;
		return 1;
	}
	if (len < 0x100) {
		p[0] = 0x81;
		p[1] = (unsigned char)len;
		return 2;
	}
	p[0] = 0x82;
	p[1] = (unsigned char)(len >> 8);
	p[2] = (unsigned char)len;
	return 3;
}

/* Appends a DER INTEGER of the unsigned big-endian v (leading zeros dropped). */
static size_t der_uint(unsigned char *p, const unsigned char *v, size_t n)
{
	size_t k = 0;
	bool pad;

	while (n > 1 && v[0] == 0) {
		v++;
		n--;
	}
	pad = v[0] & 0x80; /* keep it positive */
	p[k++] = 0x02;
	k += der_len(p + k, n + pad);
	if (pad)
		p[k++] = 0;
	memcpy(p + k, v, n);
	return k + n;
}

char *oauth_jwk_rsa_pem(json_object *jwk, struct em_error *err)
{
	/* AlgorithmIdentifier { rsaEncryption, NULL } */
	static const unsigned char alg_id[] = {
		0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
	};
	const char *n_b64, *e_b64;
	unsigned char *n = NULL, *e = NULL, *rsa = NULL, *spki = NULL;
	size_t nlen = 0, elen = 0, rlen, slen, k;
	char *b64 = NULL, *pem = NULL;
	size_t b64len, pemcap, pos;

	if (!oauth_json_str(jwk, "n", &n_b64) || !oauth_json_str(jwk, "e", &e_b64) ||
	    !(n = oauth_b64url_decode(n_b64, strlen(n_b64), &nlen)) ||
	    !(e = oauth_b64url_decode(e_b64, strlen(e_b64), &elen))) {
		em_error_set(err, EM_ERR_UNAUTHENTICATED, NULL, "the JWK has no valid n and e");
		goto done;
	}
	while (nlen > 0 && n[0] == 0) {
		memmove(n, n + 1, nlen - 1);
		nlen--;
	}
	if (nlen < 256 || nlen > 1024 || elen == 0 || elen > 8 || !(e[elen - 1] & 1)) {
		em_error_set(err, EM_ERR_UNAUTHENTICATED, NULL,
			     "the JWK's RSA key is too weak or malformed");
		goto done;
	}
	/* RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } */
	rsa = xmalloc(nlen + elen + 32);
	k = 4; /* room for the SEQUENCE header, written once the length is known */
	k += der_uint(rsa + k, n, nlen);
	k += der_uint(rsa + k, e, elen);
	rlen = k - 4;
	spki = xmalloc(rlen + sizeof(alg_id) + 32);
	/* SubjectPublicKeyInfo ::= SEQUENCE { algorithm, BIT STRING { RSAPublicKey } } */
	{
		unsigned char hdr[4];
		size_t hl = 0, body, bitlen;

		hdr[hl++] = 0x30;
		hl += der_len(hdr + hl, rlen);
		bitlen = 1 + hl + rlen;
		body = sizeof(alg_id) + 1 + (bitlen < 0x80 ? 1 : bitlen < 0x100 ? 2 : 3) + bitlen;
		slen = 0;
		spki[slen++] = 0x30;
		slen += der_len(spki + slen, body);
		memcpy(spki + slen, alg_id, sizeof(alg_id));
		slen += sizeof(alg_id);
		spki[slen++] = 0x03;
		slen += der_len(spki + slen, bitlen);
		spki[slen++] = 0x00; /* no unused bits */
		memcpy(spki + slen, hdr, hl);
		slen += hl;
		memcpy(spki + slen, rsa + 4, rlen);
		slen += rlen;
	}
	b64len = sodium_base64_ENCODED_LEN(slen, sodium_base64_VARIANT_ORIGINAL);
	b64 = xmalloc(b64len);
	sodium_bin2base64(b64, b64len, spki, slen, sodium_base64_VARIANT_ORIGINAL);
	b64len = strlen(b64);
	pemcap = b64len + b64len / 64 + 64;
	pem = xmalloc(pemcap);
	pos = (size_t)snprintf(pem, pemcap, "-----BEGIN PUBLIC KEY-----\n");
	for (size_t i = 0; i < b64len; i += 64) {
		size_t chunk = b64len - i < 64 ? b64len - i : 64;

		memcpy(pem + pos, b64 + i, chunk);
		pos += chunk;
		pem[pos++] = '\n';
	}
	snprintf(pem + pos, pemcap - pos, "-----END PUBLIC KEY-----\n");
done:
	free(n);
	free(e);
	free(rsa);
	free(spki);
	free(b64);
	return pem;
}

/* ---- ID tokens ---- */

static bool oauth_refuse(struct em_error *err, const char *why)
{
	em_error_set(err, EM_ERR_UNAUTHENTICATED, NULL, "ID token refused: %s", why);
	return false;
}

/* The RSA signing key of jwks for kid (NULL: the only candidate), or NULL. */
static json_object *oauth_jwk_find(json_object *jwks, const char *kid)
{
	json_object *keys, *found = NULL;
	size_t candidates = 0;

	if (!jwks || !json_object_object_get_ex(jwks, "keys", &keys) ||
	    !json_object_is_type(keys, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(keys); i++) {
		json_object *k = json_object_array_get_idx(keys, i);
		const char *kty, *use, *alg, *id;

		if (!json_object_is_type(k, json_type_object) || !oauth_json_str(k, "kty", &kty) ||
		    strcmp(kty, "RSA") != 0)
			continue;
		if (oauth_json_str(k, "use", &use) && strcmp(use, "sig") != 0)
			continue;
		if (oauth_json_str(k, "alg", &alg) && strcmp(alg, "RS256") != 0)
			continue;
		if (kid) {
			if (oauth_json_str(k, "kid", &id) && strcmp(id, kid) == 0)
				return k;
			continue;
		}
		candidates++;
		found = k;
	}
	return candidates == 1 ? found : NULL;
}

/* Reads an integer claim; false when absent or not a JSON integer. */
static bool oauth_claim_int(json_object *claims, const char *key, int64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(claims, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

static bool oauth_audience_ok(json_object *claims, const char *client_id)
{
	json_object *aud;
	const char *azp;
	bool has_azp = oauth_json_str(claims, "azp", &azp), found = false;
	size_t n;

	/* OIDC Core §3.1.3.7 (3)-(5) */
	if (has_azp && strcmp(azp, client_id) != 0)
		return false;
	if (!json_object_object_get_ex(claims, "aud", &aud))
		return false;
	if (json_object_is_type(aud, json_type_string))
		return strcmp(json_object_get_string(aud), client_id) == 0;
	if (!json_object_is_type(aud, json_type_array) || (n = json_object_array_length(aud)) == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(aud, i);

		if (json_object_is_type(v, json_type_string) &&
		    strcmp(json_object_get_string(v), client_id) == 0)
			found = true;
	}
	return found && (n == 1 || has_azp);
}

bool oauth_id_token_verify(const char *token, json_object *jwks, const char *issuer,
			   const char *client_id, const char *nonce, int64_t now,
			   struct oauth_claims *out, bool *unknown_kid, struct em_error *err)
{
	const char *dot1, *dot2, *alg, *kid = NULL, *s;
	unsigned char *hraw = NULL, *praw = NULL;
	size_t hlen = 0, plen = 0, tlen;
	json_object *header = NULL, *claims = NULL, *jwk, *v;
	struct em_error perr = EM_ERROR_INIT;
	char *pem = NULL;
	jwt_t *jwt = NULL;
	int64_t exp, iat, nbf;
	bool ok = false;

	memset(out, 0, sizeof(*out));
	*unknown_kid = false;
	tlen = token ? strlen(token) : 0;
	if (tlen == 0 || tlen > OAUTH_TOKEN_MAX || !(dot1 = strchr(token, '.')) ||
	    !(dot2 = strchr(dot1 + 1, '.')) || strchr(dot2 + 1, '.'))
		return oauth_refuse(err, "not a compact JWS");
	if (!(hraw = oauth_b64url_decode(token, (size_t)(dot1 - token), &hlen)) ||
	    !(header = em_json_parse((const char *)hraw, hlen, OAUTH_TOKEN_MAX, 4, &perr)) ||
	    !json_object_is_type(header, json_type_object)) {
		oauth_refuse(err, "malformed header");
		goto done;
	}
	/*
	 * The algorithm is fixed before any key is touched: "none" would skip
	 * the signature, and HS256 would let anyone who has the provider's
	 * public key (everyone) sign with it as an HMAC secret.
	 */
	if (!oauth_json_str(header, "alg", &alg) || strcmp(alg, "RS256") != 0) {
		oauth_refuse(err, "algorithm is not RS256");
		goto done;
	}
	if (json_object_object_get_ex(header, "kid", &v) && !oauth_json_str(header, "kid", &kid)) {
		oauth_refuse(err, "kid is not a string");
		goto done;
	}
	if (json_object_object_get_ex(header, "crit", &v)) {
		oauth_refuse(err, "unsupported critical header");
		goto done;
	}
	jwk = oauth_jwk_find(jwks, kid);
	if (!jwk) {
		*unknown_kid = true;
		oauth_refuse(err, "no matching signing key");
		goto done;
	}
	pem = oauth_jwk_rsa_pem(jwk, err);
	if (!pem)
		goto done;
	if (jwt_decode(&jwt, token, (const unsigned char *)pem, (int)strlen(pem)) != 0 || !jwt) {
		oauth_refuse(err, "bad signature");
		goto done;
	}
	if (jwt_get_alg(jwt) != JWT_ALG_RS256) { /* belt and braces */
		oauth_refuse(err, "algorithm is not RS256");
		goto done;
	}
	/* The signature holds: read the claims from the same bytes. */
	if (!(praw = oauth_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &plen)) ||
	    !(claims = em_json_parse((const char *)praw, plen, OAUTH_TOKEN_MAX, 8, &perr)) ||
	    !json_object_is_type(claims, json_type_object)) {
		oauth_refuse(err, "malformed claims");
		goto done;
	}
	if (!oauth_json_str(claims, "iss", &s) || strcmp(s, issuer) != 0) {
		oauth_refuse(err, "wrong issuer");
		goto done;
	}
	if (!oauth_audience_ok(claims, client_id)) {
		oauth_refuse(err, "wrong audience");
		goto done;
	}
	if (!oauth_claim_int(claims, "exp", &exp) || now > exp + OAUTH_LEEWAY_S) {
		oauth_refuse(err, "expired or no exp");
		goto done;
	}
	if (!oauth_claim_int(claims, "iat", &iat) || iat > now + OAUTH_LEEWAY_S ||
	    iat < now - OAUTH_IAT_MAX_AGE_S - OAUTH_LEEWAY_S || exp <= iat) {
		oauth_refuse(err, "iat missing, in the future or too old");
		goto done;
	}
	if (json_object_object_get_ex(claims, "nbf", &v) &&
	    (!oauth_claim_int(claims, "nbf", &nbf) || nbf > now + OAUTH_LEEWAY_S)) {
		oauth_refuse(err, "not yet valid");
		goto done;
	}
	/* Ties the token to the login this browser started (replay defence). */
	if (!nonce || !oauth_json_str(claims, "nonce", &s) || strlen(s) != strlen(nonce) ||
	    sodium_memcmp(s, nonce, strlen(nonce)) != 0) {
		oauth_refuse(err, "nonce mismatch");
		goto done;
	}
	if (!oauth_json_str(claims, "sub", &s) || !s[0] || strlen(s) >= sizeof(out->sub)) {
		oauth_refuse(err, "no valid sub");
		goto done;
	}
	snprintf(out->sub, sizeof(out->sub), "%s", s);
	if (oauth_json_str(claims, "email", &s) && strlen(s) < sizeof(out->email))
		snprintf(out->email, sizeof(out->email), "%s", s);
	out->email_verified = json_object_object_get_ex(claims, "email_verified", &v) &&
			      json_object_is_type(v, json_type_boolean) &&
			      json_object_get_boolean(v);
	if (oauth_json_str(claims, "name", &s))
		snprintf(out->name, sizeof(out->name), "%s", s);
	ok = true;
done:
	jwt_free(jwt);
	free(pem);
	free(hraw);
	free(praw);
	json_object_put(header);
	json_object_put(claims);
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

/* ---- accounts ---- */

/* Trims and lower-cases an address; a plausibility check only (the
 * provider has verified that its owner receives mail there). */
static bool oauth_email_normalize(const char *in, char *out, size_t size)
{
	size_t b = 0, e = strlen(in), at = 0, ats = 0;

	while (b < e && isspace((unsigned char)in[b]))
		b++;
	while (e > b && isspace((unsigned char)in[e - 1]))
		e--;
	if (e - b == 0 || e - b > 254 || e - b >= size)
		return false;
	for (size_t i = b; i < e; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (ch <= 0x20 || ch >= 0x7f || strchr("\"(),:;<>[\\]", ch))
			return false;
		if (ch == '@') {
			ats++;
			at = i - b;
		}
		out[i - b] = (char)tolower(ch);
	}
	out[e - b] = '\0';
	return ats == 1 && at > 0 && at < e - b - 1 && strchr(out + at, '.');
}

/* Finds one user by filter; *found false when none. Projection: what we need. */
static bool oauth_user_find(struct em_store *st, const bson_t *filter, bson_t *out,
			    bool *found, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "users");
	bson_t *opts = BCON_NEW("limit", BCON_INT64(1), "projection", "{", "_id", BCON_INT32(1),
				"disabled", BCON_INT32(1), "email_verified", BCON_INT32(1),
				"oauth", BCON_INT32(1), "}");
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, opts, NULL);
	const bson_t *doc;
	bson_error_t berr;
	bool ok = true;

	*found = false;
	if (mongoc_cursor_next(cur, &doc)) {
		bson_copy_to(doc, out);
		*found = true;
	} else if (mongoc_cursor_error(cur, &berr)) {
		store_error_set(err, &berr, "find user");
		ok = false;
	}
	mongoc_cursor_destroy(cur);
	bson_destroy(opts);
	mongoc_collection_destroy(coll);
	return ok;
}

static bool oauth_doc_bool(const bson_t *doc, const char *key)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_BOOL(&it) &&
	       bson_iter_bool(&it);
}

static bool oauth_doc_id(const bson_t *doc, bson_oid_t *out)
{
	bson_iter_t it;

	if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_OID(&it))
		return false;
	bson_oid_copy(bson_iter_oid(&it), out);
	return true;
}

/* True when doc.oauth has an entry of provider (any subject). */
static bool oauth_doc_linked_to(const bson_t *doc, const char *provider)
{
	bson_iter_t it, arr, el;

	if (!bson_iter_init_find(&it, doc, "oauth") || !BSON_ITER_HOLDS_ARRAY(&it) ||
	    !bson_iter_recurse(&it, &arr))
		return false;
	while (bson_iter_next(&arr)) {
		if (BSON_ITER_HOLDS_DOCUMENT(&arr) && bson_iter_recurse(&arr, &el) &&
		    bson_iter_find(&el, "provider") && BSON_ITER_HOLDS_UTF8(&el) &&
		    strcmp(bson_iter_utf8(&el, NULL), provider) == 0)
			return true;
	}
	return false;
}

static bool oauth_user_by_link(struct em_store *st, const char *provider, const char *sub,
			       bson_t *out, bool *found, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER, oauth, em;
	bool ok;

	BSON_APPEND_DOCUMENT_BEGIN(&filter, "oauth", &oauth);
	BSON_APPEND_DOCUMENT_BEGIN(&oauth, "$elemMatch", &em);
	BSON_APPEND_UTF8(&em, "provider", provider);
	BSON_APPEND_UTF8(&em, "subject", sub);
	bson_append_document_end(&oauth, &em);
	bson_append_document_end(&filter, &oauth);
	ok = oauth_user_find(st, &filter, out, found, err);
	bson_destroy(&filter);
	return ok;
}

/* Adds (provider, sub) to an existing account found by e-mail. */
static bool oauth_user_link(struct em_store *st, const bson_t *user, const char *provider,
			    const char *sub, struct em_error *err)
{
	mongoc_collection_t *coll = NULL;
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, ne, push, link, set;
	bson_t reply;
	bson_error_t berr;
	bson_oid_t id;
	bson_iter_t it;
	int64_t now = (int64_t)time(NULL) * 1000;
	bool was_verified = oauth_doc_bool(user, "email_verified"), ok = false;

	if (!oauth_doc_id(user, &id)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "a user without an _id");
		return false;
	}
	BSON_APPEND_OID(&filter, "_id", &id);
	/* Guards against a concurrent link of the same provider. */
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "oauth.provider", &ne);
	BSON_APPEND_UTF8(&ne, "$ne", provider);
	bson_append_document_end(&filter, &ne);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$push", &push);
	BSON_APPEND_DOCUMENT_BEGIN(&push, "oauth", &link);
	BSON_APPEND_UTF8(&link, "provider", provider);
	BSON_APPEND_UTF8(&link, "subject", sub);
	BSON_APPEND_DATE_TIME(&link, "linked_at", now);
	bson_append_document_end(&push, &link);
	bson_append_document_end(&update, &push);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
	BSON_APPEND_BOOL(&set, "email_verified", true);
	BSON_APPEND_DATE_TIME(&set, "updated_at", now);
	/*
	 * Whoever registered this address without confirming it may not own
	 * it: the provider just proved the caller does, so the unconfirmed
	 * password stops working (account pre-hijacking defence).
	 */
	if (!was_verified)
		BSON_APPEND_NULL(&set, "password_hash");
	bson_append_document_end(&update, &set);
	coll = store_collection(st, "users");
	if (!mongoc_collection_update_one(coll, &filter, &update, NULL, &reply, &berr)) {
		store_error_set(err, &berr, "link account");
		goto done_reply;
	}
	if (!bson_iter_init_find(&it, &reply, "matchedCount") || bson_iter_as_int64(&it) != 1) {
		em_error_set(err, EM_ERR_CONFLICT, NULL,
			     "this account is already linked to another identity at this provider");
		goto done_reply;
	}
	em_info("oauth %s: linked an existing account%s", provider,
		was_verified ? "" : " (unverified before: password removed)");
	ok = true;
done_reply:
	bson_destroy(&reply);
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&update);
	return ok;
}

static bool oauth_user_create(struct em_store *st, const char *provider,
			      const struct oauth_claims *c, const char *email, bson_oid_t *id,
			      bool *duplicate, struct em_error *err)
{
	mongoc_collection_t *coll;
	bson_t doc = BSON_INITIALIZER, arr, link;
	bson_error_t berr;
	int64_t now = (int64_t)time(NULL) * 1000;
	char name[101];
	bool ok;

	*duplicate = false;
	/* A display name without control characters; the e-mail's local part
	 * when the provider sent none. */
	snprintf(name, sizeof(name), "%s", c->name[0] ? c->name : email);
	if (!c->name[0])
		name[strcspn(name, "@")] = '\0';
	for (char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	if (!bson_utf8_validate(name, strlen(name), false))
		snprintf(name, sizeof(name), "%s", "Customer");
	bson_oid_init(id, NULL);
	BSON_APPEND_OID(&doc, "_id", id);
	BSON_APPEND_UTF8(&doc, "email", email);
	BSON_APPEND_UTF8(&doc, "name", name);
	BSON_APPEND_UTF8(&doc, "role", "customer");
	BSON_APPEND_BOOL(&doc, "email_verified", true);
	BSON_APPEND_BOOL(&doc, "disabled", false);
	BSON_APPEND_NULL(&doc, "password_hash");
	BSON_APPEND_NULL(&doc, "phone");
	BSON_APPEND_ARRAY_BEGIN(&doc, "oauth", &arr);
	BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &link);
	BSON_APPEND_UTF8(&link, "provider", provider);
	BSON_APPEND_UTF8(&link, "subject", c->sub);
	BSON_APPEND_DATE_TIME(&link, "linked_at", now);
	bson_append_document_end(&arr, &link);
	bson_append_array_end(&doc, &arr);
	BSON_APPEND_DATE_TIME(&doc, "created_at", now);
	BSON_APPEND_DATE_TIME(&doc, "updated_at", now);
	coll = store_collection(st, "users");
	ok = mongoc_collection_insert_one(coll, &doc, NULL, NULL, &berr);
	if (!ok) {
		*duplicate = store_error_is_duplicate(&berr);
		store_error_set(err, &berr, "create account");
	} else {
		em_info("oauth %s: created an account", provider);
	}
	mongoc_collection_destroy(coll);
	bson_destroy(&doc);
	return ok;
}

bool oauth_user_resolve(struct em_store *st, const char *provider,
			const struct oauth_claims *c, bson_oid_t *user_id, bool *created,
			struct em_error *err)
{
	char email[256];
	bool found, duplicate;

	*created = false;
	/* Twice at most: a concurrent first login may create the account
	 * between our lookup and our insert; then it is found the second time. */
	for (int attempt = 0; attempt < 2; attempt++) {
		bson_t user = BSON_INITIALIZER, filter = BSON_INITIALIZER;
		bool ok = false, disabled;

		if (!oauth_user_by_link(st, provider, c->sub, &user, &found, err))
			goto next;
		if (!found) {
			if (!c->email[0] || !c->email_verified) {
				em_error_set(err, EM_ERR_FORBIDDEN, NULL,
					     "the sign-in provider did not confirm an e-mail "
					     "address for this account");
				goto next;
			}
			if (!oauth_email_normalize(c->email, email, sizeof(email))) {
				em_error_set(err, EM_ERR_FORBIDDEN, NULL,
					     "the sign-in provider sent an unusable e-mail address");
				goto next;
			}
			BSON_APPEND_UTF8(&filter, "email", email);
			if (!oauth_user_find(st, &filter, &user, &found, err))
				goto next;
			if (found && oauth_doc_linked_to(&user, provider)) {
				em_error_set(err, EM_ERR_CONFLICT, NULL,
					     "this account is already linked to another identity "
					     "at this provider");
				goto next;
			}
		}
		if (found) {
			disabled = oauth_doc_bool(&user, "disabled");
			if (disabled) {
				em_error_set(err, EM_ERR_FORBIDDEN, NULL, "this account is disabled");
				goto next;
			}
			if (!oauth_doc_id(&user, user_id)) {
				em_error_set(err, EM_ERR_INTERNAL, NULL, "a user without an _id");
				goto next;
			}
			/* Found by e-mail, not by link: link it now. */
			if (!oauth_doc_linked_to(&user, provider) &&
			    !oauth_user_link(st, &user, provider, c->sub, err))
				goto next;
			ok = true;
		} else if (oauth_user_create(st, provider, c, email, user_id, &duplicate, err)) {
			*created = true;
			ok = true;
		} else if (duplicate && attempt == 0) {
			em_error_clear(err);
			bson_destroy(&user);
			bson_destroy(&filter);
			continue;
		}
next:
		bson_destroy(&user);
		bson_destroy(&filter);
		return ok;
	}
	return false;
}
