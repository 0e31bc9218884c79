/*
 * oauth.h - sign-in through an OpenID Connect provider (authorization code
 * flow with PKCE), below the HTTP routes in oauth_routes.c.
 *
 * Providers are configured, never discovered from the request:
 *   EMPORIUM_OAUTH_PROVIDERS="google okta"       the names, [a-z0-9_], <= 32
 *   EMPORIUM_OAUTH_<NAME>_ISSUER=https://...     exact issuer identifier
 *   EMPORIUM_OAUTH_<NAME>_CLIENT_ID=...
 *   EMPORIUM_OAUTH_<NAME>_CLIENT_SECRET=...
 * The redirect URI registered at the provider must be
 *   <EMPORIUM_PUBLIC_URL>/api/v1/auth/oauth/<name>/callback
 *
 * Every URL taken from configuration or discovery (issuer, authorization,
 * token and JWKS endpoints) must be https:// (certificate verified), with
 * one exception: http:// to a loopback host (127.0.0.1, localhost, [::1]),
 * which only a provider on the same machine can be; that is what the test
 * suite's local provider uses.
 *
 * Collections:
 *   oauth_states  one pending login: { state_hash: hex SHA-256 of the state
 *                 (unique), provider, code_verifier, nonce, redirect_after:
 *                 string|null, used: bool, created_at, used_at, expires_at
 *                 (TTL, 10 minutes) }. Only the hash of the state is stored,
 *                 so a database reader cannot complete someone's login.
 *   users         gains oauth: [{ provider, subject, linked_at }], unique on
 *                 (oauth.provider, oauth.subject) (src/auth/module.c).
 */
#ifndef EM_AUTH_OAUTH_H
#define EM_AUTH_OAUTH_H

#include <bson/bson.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/error.h"
#include "store/store.h"

#define OAUTH_NAME_MAX 32
#define OAUTH_STATE_TTL_S 600      /* a login must finish within 10 minutes */
#define OAUTH_LEEWAY_S 60          /* clock skew allowed on exp, iat, nbf */
#define OAUTH_IAT_MAX_AGE_S 600    /* an ID token is used right after issue */
#define OAUTH_CACHE_TTL_S 300      /* discovery and JWKS, per worker */
#define OAUTH_REDIRECT_AFTER_MAX 512

/* One configured provider, filled by oauth_provider_load(). */
struct oauth_provider {
	char name[OAUTH_NAME_MAX + 1];
	char issuer[EM_CONFIG_STR_MAX];
	char client_id[256];
	char client_secret[EM_CONFIG_STR_MAX];
	char redirect_uri[EM_CONFIG_STR_MAX + 64];
};

/*
 * Loads provider name from cfg. EM_ERR_NOT_FOUND when name is not one of
 * EMPORIUM_OAUTH_PROVIDERS (the caller answers 404); EM_ERR_UNAVAILABLE,
 * logged with the variable's name, when it is listed but its issuer or
 * client settings are missing or unusable.
 */
bool oauth_provider_load(const struct em_config *cfg, const char *name,
			 struct oauth_provider *p, struct em_error *err);

/* The parts of a discovery document Emporium uses. */
struct oauth_discovery {
	char authorization_endpoint[EM_CONFIG_STR_MAX];
	char token_endpoint[EM_CONFIG_STR_MAX];
	char jwks_uri[EM_CONFIG_STR_MAX];
	bool auth_post;   /* client_secret_post; otherwise client_secret_basic */
};

/*
 * The discovery document of p (<issuer>/.well-known/openid-configuration),
 * from the per-process cache when younger than OAUTH_CACHE_TTL_S. Its
 * "issuer" must equal p->issuer exactly, its endpoints must pass
 * oauth_url_allowed(), and it must offer RS256 ID tokens and
 * client_secret_basic or client_secret_post. EM_ERR_UNAVAILABLE when the
 * provider cannot be reached or answers nonsense.
 */
bool oauth_discovery_get(const struct oauth_provider *p, struct oauth_discovery *d,
			 struct em_error *err);

/*
 * Exchanges an authorization code at the token endpoint (with the PKCE
 * verifier and the client's credentials) and returns the ID token as a new
 * string (free() it). A refused code is EM_ERR_UNAUTHENTICATED.
 */
bool oauth_code_exchange(const struct oauth_provider *p, const struct oauth_discovery *d,
			 const char *code, const char *code_verifier, char **id_token,
			 struct em_error *err);

/* What Emporium keeps of a verified ID token. */
struct oauth_claims {
	char sub[256];
	char email[256];      /* "" when absent */
	bool email_verified;  /* only a JSON true counts */
	char name[101];       /* "" when absent */
};

/*
 * Verifies an ID token against a JWKS document (a {"keys": [...]} object):
 * header alg exactly RS256 (none, HS256 and everything else refused before
 * any key is used), the key chosen by kid (or the only RSA signing key),
 * signature, iss == issuer, aud == client_id or an array holding it (azp
 * then required and == client_id), exp (OAUTH_LEEWAY_S), iat neither in the
 * future nor older than OAUTH_IAT_MAX_AGE_S, nbf, nonce == nonce. now is
 * the current Unix time. On success fills *out. *unknown_kid is set when
 * no key of jwks matches (the caller may refetch the JWKS once). Any
 * failure is EM_ERR_UNAUTHENTICATED; the message says which check, for
 * the log (it names no secret).
 */
bool oauth_id_token_verify(const char *token, json_object *jwks, const char *issuer,
			   const char *client_id, const char *nonce, int64_t now,
			   struct oauth_claims *out, bool *unknown_kid, struct em_error *err);

/*
 * Verifies token with the provider's JWKS (cached; refetched once when the
 * token's kid is unknown, for key rotation).
 */
bool oauth_id_token_check(const struct oauth_provider *p, const struct oauth_discovery *d,
			  const char *token, const char *nonce, struct oauth_claims *out,
			  struct em_error *err);

/*
 * Builds a PEM SubjectPublicKeyInfo from an RSA JWK's n and e (DER written
 * by hand: no dependency beyond libjwt's own). Refuses moduli under 2048
 * or over 8192 bits. Returns a new string (free() it) or NULL with err set.
 */
char *oauth_jwk_rsa_pem(json_object *jwk, struct em_error *err);

/*
 * True when url may be fetched or redirected to: https://host..., or
 * http:// to 127.0.0.1, localhost or [::1] (optionally with a port); no
 * userinfo, no other schemes.
 */
bool oauth_url_allowed(const char *url);

/*
 * PKCE S256: out = base64url(SHA-256(verifier)), 43 characters + NUL.
 * verifier must be 43..128 characters of [A-Za-z0-9-._~].
 */
bool oauth_pkce_challenge(const char *verifier, char *out, size_t size);

/*
 * Finds or makes the account of a verified identity: the account already
 * linked to (provider, sub); else, when the claims carry a verified
 * e-mail, the account with that e-mail, which gets linked (and, if its
 * e-mail was never verified, loses its password: someone who registered
 * the address without owning it must not keep a way in); else a new
 * verified customer account without a password. Disabled accounts are
 * EM_ERR_FORBIDDEN; no verified e-mail is EM_ERR_FORBIDDEN; an account
 * already linked to another subject of the same provider is
 * EM_ERR_CONFLICT.
 */
bool oauth_user_resolve(struct em_store *st, const char *provider,
			const struct oauth_claims *c, bson_oid_t *user_id, bool *created,
			struct em_error *err);

#endif
