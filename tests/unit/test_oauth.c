/*
 * Unit tests for the OpenID Connect rules (src/auth/oauth.c): ID token
 * verification with real RS256 signatures (test keys made with the
 * openssl CLI at start), the JWK -> PEM construction (compared with
 * openssl's own output), PKCE, URL policy and provider configuration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jwt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/modules.h"
#include "auth/auth.h"
#include "auth/oauth.h"

#define ISS "https://id.example.test"
#define CLIENT "emporium-client"
#define NONCE "n-0123456789abcdef0123456789abcdef0123456789"

static char tmpdir[] = "/tmp/test_oauth.XXXXXX";
static char *priv_pem, *pub_pem, *weak_pub_n;
static json_object *jwks;

static char *slurp(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char *buf = calloc(1, 65536);
	size_t n;

	assert_non_null(p);
	assert_non_null(buf);
	n = fread(buf, 1, 65535, p);
	buf[n] = '\0';
	assert_int_equal(pclose(p), 0);
	return buf;
}

/* "Modulus=HEX\n" -> base64url of the bytes. */
static char *modulus_b64url(const char *keyfile)
{
	char cmd[512], *out, *hex, *b64;
	unsigned char bin[1024];
	size_t blen = 0;

	snprintf(cmd, sizeof(cmd), "openssl rsa -in %s -noout -modulus 2>/dev/null", keyfile);
	out = slurp(cmd);
	hex = strchr(out, '=');
	assert_non_null(hex);
	hex++;
	hex[strcspn(hex, "\r\n")] = '\0';
	assert_int_equal(sodium_hex2bin(bin, sizeof(bin), hex, strlen(hex), NULL, &blen, NULL), 0);
	b64 = malloc(sodium_base64_ENCODED_LEN(blen, sodium_base64_VARIANT_URLSAFE_NO_PADDING));
	assert_non_null(b64);
	sodium_bin2base64(b64, sodium_base64_ENCODED_LEN(blen, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
			  bin, blen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	free(out);
	return b64;
}

static int setup(void **state)
{
	char cmd[1024], key[256], weak[256], *n;
	json_object *k, *keys;

	(void)state;
	if (sodium_init() < 0 || !mkdtemp(tmpdir))
		return -1;
	snprintf(key, sizeof(key), "%s/key.pem", tmpdir);
	snprintf(weak, sizeof(weak), "%s/weak.pem", tmpdir);
	snprintf(cmd, sizeof(cmd),
		 "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out %s 2>/dev/null && "
		 "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out %s 2>/dev/null",
		 key, weak);
	if (system(cmd) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "cat %s", key);
	priv_pem = slurp(cmd);
	snprintf(cmd, sizeof(cmd), "openssl rsa -in %s -pubout 2>/dev/null", key);
	pub_pem = slurp(cmd);
	n = modulus_b64url(key);
	weak_pub_n = modulus_b64url(weak);
	jwks = json_object_new_object();
	keys = json_object_new_array();
	/* an EC key and an encryption key first: both must be skipped */
	k = json_object_new_object();
	json_object_object_add(k, "kty", json_object_new_string("EC"));
	json_object_object_add(k, "kid", json_object_new_string("k1"));
	json_object_array_add(keys, k);
	k = json_object_new_object();
	json_object_object_add(k, "kty", json_object_new_string("RSA"));
	json_object_object_add(k, "use", json_object_new_string("enc"));
	json_object_object_add(k, "kid", json_object_new_string("k1"));
	json_object_object_add(k, "n", json_object_new_string(n));
	json_object_object_add(k, "e", json_object_new_string("AQAB"));
	json_object_array_add(keys, k);
	k = json_object_new_object();
	json_object_object_add(k, "kty", json_object_new_string("RSA"));
	json_object_object_add(k, "use", json_object_new_string("sig"));
	json_object_object_add(k, "alg", json_object_new_string("RS256"));
	json_object_object_add(k, "kid", json_object_new_string("k1"));
	json_object_object_add(k, "n", json_object_new_string(n));
	json_object_object_add(k, "e", json_object_new_string("AQAB"));
	json_object_array_add(keys, k);
	json_object_object_add(jwks, "keys", keys);
	free(n);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return -1;
	free(priv_pem);
	free(pub_pem);
	free(weak_pub_n);
	json_object_put(jwks);
	return 0;
}

struct tok_opts {
	jwt_alg_t alg;
	const char *kid;
	const char *iss, *aud_json, *azp, *nonce, *email;
	long iat_delta, exp_delta;
	bool email_verified;
};

static struct tok_opts defaults(void)
{
	return (struct tok_opts){ JWT_ALG_RS256, "k1", ISS, "\"" CLIENT "\"", NULL, NONCE,
				  "Shopper@Example.Test", 0, 300, true };
}

static char *token(const struct tok_opts *o)
{
	jwt_t *jwt = NULL;
	long now = (long)time(NULL);
	char json[512], *s;

	assert_int_equal(jwt_new(&jwt), 0);
	if (o->alg == JWT_ALG_RS256)
		assert_int_equal(jwt_set_alg(jwt, JWT_ALG_RS256, (const unsigned char *)priv_pem,
					     (int)strlen(priv_pem)), 0);
	else /* the classic attack: the public key used as an HMAC secret */
		assert_int_equal(jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)pub_pem,
					     (int)strlen(pub_pem)), 0);
	if (o->kid)
		jwt_add_header(jwt, "kid", o->kid);
	jwt_add_grant(jwt, "iss", o->iss);
	jwt_add_grant(jwt, "sub", "subject-1");
	snprintf(json, sizeof(json), "{\"aud\": %s}", o->aud_json);
	assert_int_equal(jwt_add_grants_json(jwt, json), 0);
	if (o->azp)
		jwt_add_grant(jwt, "azp", o->azp);
	if (o->nonce)
		jwt_add_grant(jwt, "nonce", o->nonce);
	jwt_add_grant(jwt, "email", o->email);
	snprintf(json, sizeof(json), "{\"email_verified\": %s, \"name\": \"Sam Shopper\"}",
		 o->email_verified ? "true" : "false");
	assert_int_equal(jwt_add_grants_json(jwt, json), 0);
	jwt_add_grant_int(jwt, "iat", now + o->iat_delta);
	jwt_add_grant_int(jwt, "exp", now + o->iat_delta + o->exp_delta);
	s = jwt_encode_str(jwt);
	assert_non_null(s);
	jwt_free(jwt);
	return s;
}

static bool verify(const char *tok, struct oauth_claims *c, bool *unknown_kid,
		   struct em_error *err)
{
	return oauth_id_token_verify(tok, jwks, ISS, CLIENT, NONCE, (int64_t)time(NULL), c,
				     unknown_kid, err);
}

static void expect_refused(const struct tok_opts *o, const char *why)
{
	struct em_error err = EM_ERROR_INIT;
	struct oauth_claims c;
	bool unk;
	char *t = token(o);

	assert_false(verify(t, &c, &unk, &err));
	assert_int_equal(err.kind, EM_ERR_UNAUTHENTICATED);
	if (!strstr(err.message, why))
		fail_msg("expected '%s', got '%s'", why, err.message);
	free(t);
}

static void test_valid_token(void **state)
{
	struct tok_opts o = defaults();
	struct em_error err = EM_ERROR_INIT;
	struct oauth_claims c;
	bool unk = true;
	char *t = token(&o);

	(void)state;
	if (!verify(t, &c, &unk, &err))
		fail_msg("refused: %s", err.message);
	assert_false(unk);
	assert_string_equal(c.sub, "subject-1");
	assert_string_equal(c.email, "Shopper@Example.Test");
	assert_true(c.email_verified);
	assert_string_equal(c.name, "Sam Shopper");
	free(t);
	/* an audience array with our client and azp = us is fine too */
	o.aud_json = "[\"" CLIENT "\", \"other\"]";
	o.azp = CLIENT;
	t = token(&o);
	assert_true(verify(t, &c, &unk, &err));
	free(t);
}

static void test_alg_none_refused(void **state)
{
	struct tok_opts o = defaults();
	struct em_error err = EM_ERROR_INIT;
	struct oauth_claims c;
	char *t = token(&o), forged[8192], *h, *hb;
	const char *none = "{\"alg\":\"none\",\"kid\":\"k1\"}";
	size_t hcap = sodium_base64_ENCODED_LEN(strlen(none),
						sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	bool unk;

	(void)state;
	hb = malloc(hcap);
	assert_non_null(hb);
	sodium_bin2base64(hb, hcap, (const unsigned char *)none, strlen(none),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	/* the real claims, an "alg":"none" header, no signature */
	h = strchr(t, '.');
	snprintf(forged, sizeof(forged), "%s.%.*s.", hb, (int)(strrchr(t, '.') - h - 1), h + 1);
	assert_false(verify(forged, &c, &unk, &err));
	assert_non_null(strstr(err.message, "RS256"));
	free(hb);
	free(t);
}

static void test_hs256_with_public_key_refused(void **state)
{
	struct tok_opts o = defaults();

	(void)state;
	o.alg = JWT_ALG_HS256;
	expect_refused(&o, "algorithm is not RS256");
}

static void test_bad_signature_refused(void **state)
{
	struct tok_opts o = defaults();
	struct em_error err = EM_ERROR_INIT;
	struct oauth_claims c;
	char *t = token(&o), *sig = strrchr(t, '.') + 1, *p1, *p2, *tampered;
	bool unk;

	(void)state;
	/* one changed signature character */
	sig[10] = sig[10] == 'A' ? 'B' : 'A';
	assert_false(verify(t, &c, &unk, &err));
	assert_non_null(strstr(err.message, "bad signature"));
	free(t);
	/* a changed claim (the e-mail) under the original signature */
	t = token(&o);
	p1 = strchr(t, '.');
	p2 = strrchr(t, '.');
	{
		size_t plen = (size_t)(p2 - p1 - 1), dlen = 0, cap;
		unsigned char *claims = malloc(plen);
		char *evil, *b64;

		assert_int_equal(sodium_base642bin(claims, plen, p1 + 1, plen, NULL, &dlen, NULL,
						   sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
		evil = strndup((char *)claims, dlen);
		memcpy(strstr(evil, "Shopper@"), "Attackr@", 8);
		cap = sodium_base64_ENCODED_LEN(dlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		b64 = malloc(cap);
		sodium_bin2base64(b64, cap, (unsigned char *)evil, dlen,
				  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		tampered = malloc(strlen(t) + cap + 4);
		snprintf(tampered, strlen(t) + cap + 4, "%.*s.%s%s", (int)(p1 - t), t, b64, p2);
		assert_false(verify(tampered, &c, &unk, &err));
		assert_non_null(strstr(err.message, "bad signature"));
		free(claims);
		free(evil);
		free(b64);
		free(tampered);
	}
	free(t);
}

static void test_claims_refused(void **state)
{
	struct tok_opts o;

	(void)state;
	o = defaults(); o.iss = "https://id.example.test/";
	expect_refused(&o, "wrong issuer");
	o = defaults(); o.aud_json = "\"someone-else\"";
	expect_refused(&o, "wrong audience");
	o = defaults(); o.aud_json = "[\"" CLIENT "\", \"other\"]"; /* no azp */
	expect_refused(&o, "wrong audience");
	o = defaults(); o.azp = "other";
	expect_refused(&o, "wrong audience");
	o = defaults(); o.iat_delta = -400; o.exp_delta = 300; /* expired 100 s ago */
	expect_refused(&o, "expired");
	o = defaults(); o.iat_delta = 600;
	expect_refused(&o, "iat");
	o = defaults(); o.iat_delta = -5000; o.exp_delta = 86400;
	expect_refused(&o, "iat");
	o = defaults(); o.nonce = "n-another-login-entirely-0000000000000000000";
	expect_refused(&o, "nonce");
	o = defaults(); o.nonce = NULL;
	expect_refused(&o, "nonce");
	/* inside the 60 s leeway: still fine */
	{
		struct em_error err = EM_ERROR_INIT;
		struct oauth_claims c;
		bool unk;
		char *t;

		o = defaults(); o.iat_delta = -330; o.exp_delta = 300; /* expired 30 s ago */
		t = token(&o);
		assert_true(verify(t, &c, &unk, &err));
		free(t);
	}
}

static void test_unknown_kid(void **state)
{
	struct tok_opts o = defaults();
	struct em_error err = EM_ERROR_INIT;
	struct oauth_claims c;
	bool unk = false;
	char *t;

	(void)state;
	o.kid = "rotated";
	t = token(&o);
	assert_false(verify(t, &c, &unk, &err));
	assert_true(unk);
	free(t);
	/* no kid: the only RSA signing key is used */
	o.kid = NULL;
	t = token(&o);
	assert_true(verify(t, &c, &unk, &err));
	free(t);
}

static void test_jwk_pem_matches_openssl(void **state)
{
	json_object *keys, *k, *weak;
	struct em_error err = EM_ERROR_INIT;
	char *pem;

	(void)state;
	assert_true(json_object_object_get_ex(jwks, "keys", &keys));
	k = json_object_array_get_idx(keys, 2);
	pem = oauth_jwk_rsa_pem(k, &err);
	assert_non_null(pem);
	assert_string_equal(pem, pub_pem);
	free(pem);
	weak = json_object_new_object();
	json_object_object_add(weak, "kty", json_object_new_string("RSA"));
	json_object_object_add(weak, "n", json_object_new_string(weak_pub_n));
	json_object_object_add(weak, "e", json_object_new_string("AQAB"));
	assert_null(oauth_jwk_rsa_pem(weak, &err));
	assert_non_null(strstr(err.message, "weak"));
	json_object_object_add(weak, "n", json_object_new_string("not base64url!"));
	assert_null(oauth_jwk_rsa_pem(weak, &err));
	json_object_put(weak);
}

static void test_malformed_tokens(void **state)
{
	const char *bad[] = { "", "abc", "a.b", "a.b.c.d", "!!!.e30.", "e30.e30.", NULL };
	struct em_error err = EM_ERROR_INIT;
	struct oauth_claims c;
	bool unk;

	(void)state;
	for (size_t i = 0; bad[i]; i++)
		assert_false(verify(bad[i], &c, &unk, &err));
	assert_false(verify(NULL, &c, &unk, &err));
}

static void test_pkce(void **state)
{
	char out[64];

	(void)state;
	/* RFC 7636 appendix B */
	assert_true(oauth_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", out,
					 sizeof(out)));
	assert_string_equal(out, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	assert_false(oauth_pkce_challenge("too-short", out, sizeof(out)));
	assert_false(oauth_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX+", out,
					  sizeof(out)));
}

static void test_url_policy(void **state)
{
	(void)state;
	assert_true(oauth_url_allowed("https://accounts.google.com"));
	assert_true(oauth_url_allowed("https://login.example.test:8443/o/token?x=1"));
	assert_true(oauth_url_allowed("http://127.0.0.1:4000/auth"));
	assert_true(oauth_url_allowed("http://localhost/token"));
	assert_true(oauth_url_allowed("http://[::1]:9/jwks"));
	assert_false(oauth_url_allowed("http://example.test/auth"));
	assert_false(oauth_url_allowed("http://127.0.0.1.evil.test/auth"));
	assert_false(oauth_url_allowed("http://localhost:80@evil.test/"));
	assert_false(oauth_url_allowed("http://127.0.0.1:99999999/"));
	assert_false(oauth_url_allowed("https://user@host/"));
	assert_false(oauth_url_allowed("ftp://127.0.0.1/"));
	assert_false(oauth_url_allowed("file:///etc/passwd"));
	assert_false(oauth_url_allowed("https://"));
	assert_false(oauth_url_allowed("https://host/a b"));
	assert_false(oauth_url_allowed(NULL));
}

static void test_provider_load(void **state)
{
	struct em_config cfg;
	struct auth_config *ac;
	struct oauth_provider p;
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	setenv("EMPORIUM_ENV_FILE", "/dev/null", 1);
	assert_true(em_app_config_load(&cfg, &err));
	ac = em_config_section_mut(&cfg, &auth_config_section);
	snprintf(cfg.public_url, sizeof(cfg.public_url), "https://shop.example.test/");
	snprintf(ac->oauth_providers, sizeof(ac->oauth_providers), " acme  half ");
	snprintf(cfg.extra[0].key, sizeof(cfg.extra[0].key), "EMPORIUM_OAUTH_ACME_ISSUER");
	snprintf(cfg.extra[0].value, sizeof(cfg.extra[0].value), ISS);
	snprintf(cfg.extra[1].key, sizeof(cfg.extra[1].key), "EMPORIUM_OAUTH_ACME_CLIENT_ID");
	snprintf(cfg.extra[1].value, sizeof(cfg.extra[1].value), CLIENT);
	snprintf(cfg.extra[2].key, sizeof(cfg.extra[2].key), "EMPORIUM_OAUTH_ACME_CLIENT_SECRET");
	snprintf(cfg.extra[2].value, sizeof(cfg.extra[2].value), "s3cret");
	snprintf(cfg.extra[3].key, sizeof(cfg.extra[3].key), "EMPORIUM_OAUTH_HALF_ISSUER");
	snprintf(cfg.extra[3].value, sizeof(cfg.extra[3].value), "http://id.example.test");
	cfg.nextra = 4;

	assert_true(oauth_provider_load(&cfg, "acme", &p, &err));
	assert_string_equal(p.issuer, ISS);
	assert_string_equal(p.client_id, CLIENT);
	assert_string_equal(p.redirect_uri,
			    "https://shop.example.test/api/v1/auth/oauth/acme/callback");
	assert_false(oauth_provider_load(&cfg, "nope", &p, &err));
	assert_int_equal(err.kind, EM_ERR_NOT_FOUND);
	assert_false(oauth_provider_load(&cfg, "ACME", &p, &err));
	assert_int_equal(err.kind, EM_ERR_NOT_FOUND);
	assert_false(oauth_provider_load(&cfg, "acm", &p, &err));
	assert_int_equal(err.kind, EM_ERR_NOT_FOUND);
	/* listed, but incomplete (and a plain-http non-loopback issuer) */
	assert_false(oauth_provider_load(&cfg, "half", &p, &err));
	assert_int_equal(err.kind, EM_ERR_UNAVAILABLE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_token),
		cmocka_unit_test(test_alg_none_refused),
		cmocka_unit_test(test_hs256_with_public_key_refused),
		cmocka_unit_test(test_bad_signature_refused),
		cmocka_unit_test(test_claims_refused),
		cmocka_unit_test(test_unknown_kid),
		cmocka_unit_test(test_jwk_pem_matches_openssl),
		cmocka_unit_test(test_malformed_tokens),
		cmocka_unit_test(test_pkce),
		cmocka_unit_test(test_url_policy),
		cmocka_unit_test(test_provider_load),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
