/*
 * Unit tests for the accounts module's pure parts: e-mail normalisation,
 * the password policy and the shipped common-password list, argon2id
 * hashing, access-token minting, code hashing, and the other field
 * checks. The HTTP flows are tested end to end in
 * tests/integration/test_accounts.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jwt.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "app/modules.h"
#include "auth/accounts.h"
#include "auth/auth.h"
#include "auth/auth_http.h"

static struct em_config cfg;

static void test_email_normalize(void **state)
{
	static const char *const good[][2] = {
		{ "  Alice@Example.COM ", "alice@example.com" },
		{ "a.b+tag@sub.example.co.uk", "a.b+tag@sub.example.co.uk" },
		{ "x_y-z@a-b.io", "x_y-z@a-b.io" },
	};
	static const char *const bad[] = {
		"", "   ", "plain", "@example.com", "a@", "a@b", "a@@b.com", "a@b@c.com",
		"a b@example.com", "a@exa mple.com", "a@-example.com", "a@example-.com",
		"a@example..com", ".a@example.com", "a.@example.com", "a..b@example.com",
		"a\"b@example.com", "<a>@example.com", "a@example.com\n", "a@ex_ample.com",
	};
	char out[AUTH_EMAIL_MAX + 1], longmail[400];
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_true(auth_email_normalize(good[i][0], out, sizeof(out), &err));
		assert_string_equal(out, good[i][1]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		em_error_clear(&err);
		if (auth_email_normalize(bad[i], out, sizeof(out), &err))
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(err.kind, EM_ERR_INVALID);
		assert_string_equal(err.field, "email");
	}
	/* over 254 bytes */
	memset(longmail, 'a', 250);
	memcpy(longmail + 250, "@example.com", 13);
	assert_false(auth_email_normalize(longmail, out, sizeof(out), &err));
	/* a local part over 64 bytes */
	memset(longmail, 'a', 65);
	memcpy(longmail + 65, "@example.com", 13);
	assert_false(auth_email_normalize(longmail, out, sizeof(out), &err));
}

static void test_password_policy(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	char longpw[200];

	(void)state;
	assert_true(auth_password_check("Vivid-Otter-Lantern-42", &err));
	/* 12 characters, multi-byte: counted as characters, not bytes */
	assert_true(auth_password_check("ñandú-ñandú-", &err));
	assert_false(auth_password_check("ñandú-ñand", &err));
	assert_string_equal(err.field, "password");
	assert_false(auth_password_check("short", &err));
	memset(longpw, 'k', 129);
	longpw[129] = '\0';
	assert_false(auth_password_check(longpw, &err));
	longpw[128] = '\0';
	assert_true(auth_password_check(longpw, &err));
	/* the shipped list, any case */
	assert_true(auth_password_is_common("password1234"));
	assert_true(auth_password_is_common("PassWord1234"));
	assert_true(auth_password_is_common("qwertyuiop123"));
	assert_true(auth_password_is_common("iloveyou1234"));
	assert_true(auth_password_is_common("123456789012"));
	assert_false(auth_password_is_common("Vivid-Otter-Lantern-42"));
	em_error_clear(&err);
	assert_false(auth_password_check("Password1234", &err));
	assert_string_equal(err.field, "password");
	assert_non_null(strstr(err.message, "common"));
}

static void test_password_hash_verify(void **state)
{
	char hash[crypto_pwhash_STRBYTES];
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	assert_true(auth_password_hash(&cfg, "Vivid-Otter-Lantern-42", hash, sizeof(hash), &err));
	assert_int_equal(strncmp(hash, "$argon2id$v=19$m=19456,t=2,", 27), 0);
	assert_true(auth_password_verify(&cfg, hash, "Vivid-Otter-Lantern-42"));
	assert_false(auth_password_verify(&cfg, hash, "vivid-otter-lantern-42"));
	/* no hash (unknown user, OAuth-only account): always false */
	assert_false(auth_password_verify(&cfg, NULL, "Vivid-Otter-Lantern-42"));
	assert_false(auth_password_verify(&cfg, "plaintext", "plaintext"));
}

static void test_access_token(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	char *tok = auth_access_token_mint(&cfg, "0123456789abcdef01234567", "staff", 7,
					   1700000000, &err);
	jwt_t *jwt = NULL;

	(void)state;
	assert_non_null(tok);
	assert_int_equal(jwt_decode(&jwt, tok, (const unsigned char *)auth_config(&cfg)->jwt_secret,
				    (int)strlen(auth_config(&cfg)->jwt_secret)), 0);
	assert_int_equal(jwt_get_alg(jwt), JWT_ALG_HS256);
	assert_string_equal(jwt_get_grant(jwt, "iss"), "emporium");
	assert_string_equal(jwt_get_grant(jwt, "aud"), "emporium-api");
	assert_string_equal(jwt_get_grant(jwt, "sub"), "0123456789abcdef01234567");
	assert_string_equal(jwt_get_grant(jwt, "role"), "staff");
	assert_int_equal(jwt_get_grant_int(jwt, "iat"), 1700000000);
	assert_int_equal(jwt_get_grant_int(jwt, "exp"), 1700000000 + 900);
	assert_int_equal(strlen(jwt_get_grant(jwt, "jti")), 32);
	/* the user's token_version, checked by the authenticator */
	assert_int_equal(jwt_get_grant_int(jwt, "tv"), 7);
	jwt_free(jwt);
	/* another key does not verify it */
	jwt = NULL;
	assert_int_not_equal(jwt_decode(&jwt, tok, (const unsigned char *)"x-other-key-of-32-bytes-at-least-123",
					36), 0);
	jwt_free(jwt);
	free(tok);
}

static void test_secrets(void **state)
{
	char a[64], b[64], h1[65], h2[65];
	bson_oid_t u1, u2;

	(void)state;
	auth_random_token(a, sizeof(a), 32);
	auth_random_token(b, sizeof(b), 32);
	assert_int_equal(strlen(a), 43);
	assert_string_not_equal(a, b);
	assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
			 43);
	auth_sha256_hex("abc", h1);
	assert_string_equal(h1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* codes: bound to user and purpose */
	bson_oid_init_from_string(&u1, "0123456789abcdef01234567");
	bson_oid_init_from_string(&u2, "0123456789abcdef01234568");
	auth_code_hash(&cfg, &u1, "verify", "123456", h1);
	auth_code_hash(&cfg, &u1, "verify", "123456", h2);
	assert_string_equal(h1, h2);
	auth_code_hash(&cfg, &u2, "verify", "123456", h2);
	assert_string_not_equal(h1, h2);
	auth_code_hash(&cfg, &u1, "reset", "123456", h2);
	assert_string_not_equal(h1, h2);
	/* the CSRF token follows the refresh token */
	auth_csrf_token(&cfg, a, h1);
	auth_csrf_token(&cfg, b, h2);
	assert_string_not_equal(h1, h2);
	auth_csrf_token(&cfg, a, h2);
	assert_string_equal(h1, h2);
}

static void test_fields(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	bson_oid_t oid;

	(void)state;
	assert_true(auth_name_check("name", "Ann Smith", &err));
	/* a person's name is mailed: no links, addresses or symbols */
	assert_true(auth_person_name_check("name", "Ann O'Brien-Smith", &err));
	assert_true(auth_person_name_check("name", "Zoë Ångström", &err));
	assert_true(auth_person_name_check("name", "আনিসা রহমান", &err));
	assert_true(auth_person_name_check("name", "李小龍", &err));
	assert_false(auth_person_name_check("name", "Win a prize at evil.example", &err));
	assert_string_equal(err.field, "name");
	assert_false(auth_person_name_check("name", "http://evil.example", &err));
	assert_false(auth_person_name_check("name", "mail me: x@evil.example", &err));
	assert_false(auth_person_name_check("name", "evil\xef\xbc\x8e" "example", &err)); /* U+FF0E */
	assert_false(auth_person_name_check("name", "Ann \xe2\x80\xae" "gnp.exe", &err)); /* RLO */
	assert_false(auth_person_name_check("name", "Ann \xf0\x9f\x92\xb0", &err)); /* emoji */
	assert_false(auth_person_name_check("name", "   ", &err));
	assert_false(auth_person_name_check("name", "", &err));
	assert_false(auth_person_name_check("name", "\xff\xfe", &err));
	{
		char longname[80];

		memset(longname, 'a', 65);
		longname[65] = '\0';
		assert_false(auth_person_name_check("name", longname, &err));
		longname[64] = '\0';
		assert_true(auth_person_name_check("name", longname, &err));
	}
	assert_false(auth_name_check("name", "", &err));
	assert_false(auth_name_check("name", "   ", &err));
	assert_false(auth_name_check("name", "a\nb", &err));
	assert_string_equal(err.field, "name");
	assert_true(auth_phone_check("phone", "+880 1711-000000", &err));
	assert_true(auth_phone_check("phone", "(02) 955-1234", &err));
	assert_false(auth_phone_check("phone", "12345", &err));
	assert_false(auth_phone_check("phone", "call me maybe", &err));
	assert_false(auth_phone_check("phone", "+1234567890123456", &err));
	assert_true(em_oid_parse("0123456789abcdef01234567", &oid));
	assert_false(em_oid_parse("0123456789abcdef0123456", &oid));
	assert_false(em_oid_parse("0123456789abcdef0123456z", &oid));
	assert_false(em_oid_parse(NULL, &oid));
	{
		enum em_role r;

		assert_true(auth_role_parse("admin", &r));
		assert_int_equal(r, EM_ROLE_ADMIN);
		assert_false(auth_role_parse("public", &r));
		assert_false(auth_role_parse("Admin", &r));
	}
}

/* An access token signed with cfg's key; a claim given as 0 is left out. */
static char *token_make(long iat, long exp, long nbf)
{
	jwt_t *jwt = NULL;
	char *tok;

	assert_int_equal(jwt_new(&jwt), 0);
	assert_int_equal(jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)auth_config(&cfg)->jwt_secret,
				     (int)strlen(auth_config(&cfg)->jwt_secret)), 0);
	assert_int_equal(jwt_add_grant(jwt, "iss", "emporium"), 0);
	assert_int_equal(jwt_add_grant(jwt, "aud", "emporium-api"), 0);
	assert_int_equal(jwt_add_grant(jwt, "sub", "0123456789abcdef01234567"), 0);
	assert_int_equal(jwt_add_grant(jwt, "role", "staff"), 0);
	if (iat)
		assert_int_equal(jwt_add_grant_int(jwt, "iat", iat), 0);
	if (exp)
		assert_int_equal(jwt_add_grant_int(jwt, "exp", exp), 0);
	if (nbf)
		assert_int_equal(jwt_add_grant_int(jwt, "nbf", nbf), 0);
	tok = jwt_encode_str(jwt);
	assert_non_null(tok);
	jwt_free(jwt);
	return tok;
}

/*
 * Runs the router's authenticator on "Authorization: Bearer <token>".
 * app's store names a server that does not exist, so a token that passes
 * every claim check reaches the user lookup and fails there as
 * EM_ERR_UNAVAILABLE, while a refused token is EM_ERR_UNAUTHENTICATED.
 */
static enum em_error_kind authenticate_kind(struct em_app *app, long iat, long exp, long nbf)
{
	char *tok = token_make(iat, exp, nbf), header[4200];
	char *envp[] = { header, NULL };
	struct em_error err = EM_ERROR_INIT;
	struct em_request req;
	enum em_role role = EM_ROLE_PUBLIC;
	bool ok;

	assert_true((size_t)snprintf(header, sizeof(header), "HTTP_AUTHORIZATION=Bearer %s", tok) <
		    sizeof(header));
	free(tok);
	em_request_init(&req, envp, app);
	ok = auth_request_authenticate(&req, &role, &err);
	em_request_release(&req);
	assert_true(ok ? err.kind == EM_ERR_NONE : err.kind != EM_ERR_NONE);
	return err.kind;
}

/*
 * The time claims are the token's to choose: exp near LONG_MAX made
 * `now > exp + leeway` a signed overflow (UBSan aborts; without it the
 * sum wrapped and a valid token was refused). Found by fuzzing.
 */
static void test_authenticate_time_claims(void **state)
{
	struct em_app *app = *state;
	long now = (long)time(NULL);

	/* far-future expiry: accepted, on to the user lookup */
	assert_int_equal(authenticate_kind(app, now, LONG_MAX, 0), EM_ERR_UNAVAILABLE);
	assert_int_equal(authenticate_kind(app, now, LONG_MAX - 29, 0), EM_ERR_UNAVAILABLE);
	assert_int_equal(authenticate_kind(app, now, now + 900, 0), EM_ERR_UNAVAILABLE);
	/* the 30 s leeway, both sides of it */
	assert_int_equal(authenticate_kind(app, now - 900, now - 10, 0), EM_ERR_UNAVAILABLE);
	assert_int_equal(authenticate_kind(app, now - 900, now - 60, 0), EM_ERR_UNAUTHENTICATED);
	/* no, negative or minimal exp */
	assert_int_equal(authenticate_kind(app, now, 0, 0), EM_ERR_UNAUTHENTICATED);
	assert_int_equal(authenticate_kind(app, now, LONG_MIN, 0), EM_ERR_UNAUTHENTICATED);
	assert_int_equal(authenticate_kind(app, 1, 2, 0), EM_ERR_UNAUTHENTICATED);
	/* iat and nbf at the extremes */
	assert_int_equal(authenticate_kind(app, LONG_MAX, LONG_MAX, 0), EM_ERR_UNAUTHENTICATED);
	assert_int_equal(authenticate_kind(app, LONG_MAX - 1, LONG_MAX, 0), EM_ERR_UNAUTHENTICATED);
	assert_int_equal(authenticate_kind(app, LONG_MIN, LONG_MAX, 0), EM_ERR_UNAUTHENTICATED);
	assert_int_equal(authenticate_kind(app, now, LONG_MAX, LONG_MAX), EM_ERR_UNAUTHENTICATED);
	assert_int_equal(authenticate_kind(app, now, LONG_MAX, now + 60), EM_ERR_UNAUTHENTICATED);
	assert_int_equal(authenticate_kind(app, now, LONG_MAX, LONG_MIN), EM_ERR_UNAVAILABLE);
	assert_int_equal(authenticate_kind(app, now, now + 900, now), EM_ERR_UNAVAILABLE);
}

/* A worker's context whose database is a Unix socket nobody listens on. */
static int app_setup(void **state)
{
	static struct em_app app;
	struct em_error err = EM_ERROR_INIT;

	memset(&app, 0, sizeof(app));
	app.cfg = cfg;
	snprintf(app.cfg.mongodb_uri, sizeof(app.cfg.mongodb_uri),
		 "mongodb://%%2Ftmp%%2Femporium-test-auth-%ld.sock/?serverSelectionTimeoutMS=200",
		 (long)getpid());
	snprintf(app.cfg.db_name, sizeof(app.cfg.db_name), "emporium_unit");
	app.cfg.db_timeout_ms = 200;
	app.cfg.request_timeout_s = 1;
	store_global_init();
	if (!store_open(&app.store, &app.cfg, "test_auth", &err)) {
		fprintf(stderr, "store_open: %s\n", err.message);
		return -1;
	}
	*state = &app;
	return 0;
}

static int app_teardown(void **state)
{
	struct em_app *app = *state;

	store_close(&app->store);
	store_global_cleanup();
	return 0;
}

/* RFC 6238 appendix B, the SHA-256 rows (8 digits there; 6 here are their tail). */
static void test_totp(void **state)
{
	const unsigned char *seed = (const unsigned char *)"12345678901234567890123456789012";
	static const struct { uint64_t t; uint32_t code; } rows[] = {
		{ 59, 119246 }, { 1111111109, 84774 }, { 1111111111, 62674 },
		{ 1234567890, 819424 }, { 2000000000, 698825 }, { 20000000000ULL, 737706 },
	};
	unsigned char secret[AUTH_TOTP_SECRET_BYTES], back[AUTH_TOTP_SECRET_BYTES];
	char sealed[256], sealed2[256], code[8], b32[16], rc[AUTH_RECOVERY_CODE_LEN + 1];
	char h1[65], h2[65];
	int64_t step;
	bson_oid_t uid;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(auth_totp_code(seed, 32, rows[i].t / 30), rows[i].code);
	/* base32 (RFC 4648 test vector, unpadded) */
	auth_base32((const unsigned char *)"foobar", 6, b32, sizeof(b32));
	assert_string_equal(b32, "MZXW6YTBOI");
	/* the window: the step before and after, not two away */
	snprintf(code, sizeof(code), "%06u", (unsigned)auth_totp_code(seed, 32, 1000));
	assert_true(auth_totp_match(seed, 32, code, 1000 * 30 + 5, &step));
	assert_int_equal(step, 1000);
	assert_true(auth_totp_match(seed, 32, code, 1001 * 30 + 5, &step));
	assert_true(auth_totp_match(seed, 32, code, 999 * 30 + 5, &step));
	assert_false(auth_totp_match(seed, 32, code, 1002 * 30 + 5, &step));
	assert_false(auth_totp_match(seed, 32, code, 998 * 30 + 5, &step));
	assert_false(auth_totp_match(seed, 32, "12345", 1000 * 30, &step));
	assert_false(auth_totp_match(seed, 32, "12a456", 1000 * 30, &step));
	/* sealing: random nonces, opens back, refuses a changed box */
	randombytes_buf(secret, sizeof(secret));
	assert_true(auth_totp_seal(&cfg, secret, sealed, sizeof(sealed)));
	assert_true(auth_totp_seal(&cfg, secret, sealed2, sizeof(sealed2)));
	assert_string_not_equal(sealed, sealed2);
	assert_true(auth_totp_open(&cfg, sealed, back));
	assert_memory_equal(secret, back, sizeof(secret));
	sealed[10] = sealed[10] == 'A' ? 'B' : 'A';
	assert_false(auth_totp_open(&cfg, sealed, back));
	assert_false(auth_totp_open(&cfg, "not base64!", back));
	/* recovery codes: xxxxx-xxxxx, hashed per user */
	auth_recovery_code_new(rc);
	assert_int_equal(strlen(rc), AUTH_RECOVERY_CODE_LEN);
	assert_int_equal(rc[5], '-');
	bson_oid_init(&uid, NULL);
	auth_recovery_hash(&cfg, &uid, rc, h1);
	bson_oid_init(&uid, NULL);
	auth_recovery_hash(&cfg, &uid, rc, h2);
	assert_string_not_equal(h1, h2);
	assert_null(strstr(h1, rc));
}

int main(void)
{
	struct auth_config *ac;
	struct em_error err = EM_ERROR_INIT;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_email_normalize),
		cmocka_unit_test(test_password_policy),
		cmocka_unit_test(test_password_hash_verify),
		cmocka_unit_test(test_access_token),
		cmocka_unit_test(test_secrets),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_totp),
		cmocka_unit_test_setup_teardown(test_authenticate_time_claims, app_setup,
						app_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	setenv("EMPORIUM_ENV_FILE", "/dev/null", 1);
	if (!em_app_config_load(&cfg, &err)) {
		fprintf(stderr, "configuration: %s\n", err.message);
		return 1;
	}
	ac = em_config_section_mut(&cfg, &auth_config_section);
	snprintf(ac->jwt_secret, sizeof(ac->jwt_secret), "%s",
		 "unit-test-secret-0123456789abcdef0123456789abcdef");
	snprintf(ac->jwt_issuer, sizeof(ac->jwt_issuer), "emporium");
	snprintf(ac->jwt_audience, sizeof(ac->jwt_audience), "emporium-api");
	ac->access_ttl_s = 900;
	ac->refresh_ttl_s = 3600;
	ac->argon2_memory_kib = 19456;
	ac->argon2_iterations = 2;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
