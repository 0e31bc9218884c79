/*
 * oauth_idtoken.c - ID token verification: a pure function of the token, the
 * provider's keys, the expected issuer, audience and nonce, and the time.
 *
 * The ID token is the only thing trusted about the user, and only after
 * every check in oauth_id_token_verify(): it comes from the token endpoint
 * over a verified TLS connection, but a provider's signing key is what
 * makes it the provider's word, and the nonce is what ties it to the
 * login this browser started.
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
