/*
 * fuzz_auth - the router's authenticator (src/auth/authenticate.c):
 * Authorization header -> JWT checks -> the user lookup -> role.
 *
 * The user lookup is faked at link time (-Wl,--wrap, see local.mk): the
 * authenticator's calls to store_collection() and the mongoc collection
 * and cursor functions land here, and the "users" document they return
 * is chosen by the input, so no database is needed.
 *
 * Input: byte 0 chooses the header and the user; the rest is either the
 * whole header value, or a JSON object of claims that this harness signs
 * (HS256 with the configured key, another algorithm, or another key),
 * so the claim checks are reached with any exp/iat/nbf/iss/aud/role/sub.
 *   bits 0-1: 0 raw header, 1 signed claims, 2 signed HS512, 3 wrong key
 *   bits 2-4: the user: 0 customer, 1 staff, 2 admin, 3 role "root",
 *             4 no role, 5 disabled staff, 6 no such user, 7 database down
 *   bit 5: the user's token_version is 1 (else absent: 0)
 *   bit 6: the user has a second factor (mfa.enabled)
 *   bit 7: EMPORIUM_ADMIN_MFA=required (else optional)
 * Checked: an accepted token verifies with the key as HS256, carries the
 * configured iss and aud, is unexpired (30 s leeway), was issued no later
 * than now + 30 s and before it expires, is not "not before" a later time,
 * names a 24-hex-digit sub, carries the user's token_version, and its
 * role is the user's, who is enabled (an admin without a second factor
 * under EMPORIUM_ADMIN_MFA=required is held at customer);
 * a refusal is a 401 with WWW-Authenticate, or a 503 when the database
 * is down.
 */
#include <errno.h>
#include <jwt.h>
#include <stdbool.h>
#include <time.h>

#include "app/app.h"
#include "app/modules.h"
#include "auth/auth.h"
#include "auth/auth_http.h"
#include "fuzz.h"

#define FUZZ_SECRET "fuzz-secret-0123456789abcdef0123456789abcdef"

static struct em_app app;
static struct auth_config *mfa_setting; /* app's auth section, set per input */
static unsigned fuzz_user; /* bits 2-4 of the current input */
static bool fuzz_user_tv, fuzz_user_mfa, fuzz_mfa_required;
static bson_t *fuzz_user_doc;
static int fuzz_coll, fuzz_cursor;

/* ---- the faked user lookup ---- */

mongoc_collection_t *__wrap_store_collection(struct em_store *st, const char *name);
mongoc_cursor_t *__wrap_mongoc_collection_find_with_opts(mongoc_collection_t *coll,
							 const bson_t *filter, const bson_t *opts,
							 const mongoc_read_prefs_t *prefs);
bool __wrap_mongoc_cursor_next(mongoc_cursor_t *cur, const bson_t **doc);
bool __wrap_mongoc_cursor_error(mongoc_cursor_t *cur, bson_error_t *berr);
void __wrap_mongoc_cursor_destroy(mongoc_cursor_t *cur);
void __wrap_mongoc_collection_destroy(mongoc_collection_t *coll);

mongoc_collection_t *__wrap_store_collection(struct em_store *st, const char *name)
{
	FUZZ_CHECK(st == &app.store && strcmp(name, "users") == 0);
	return (mongoc_collection_t *)&fuzz_coll;
}

mongoc_cursor_t *__wrap_mongoc_collection_find_with_opts(mongoc_collection_t *coll,
							 const bson_t *filter, const bson_t *opts,
							 const mongoc_read_prefs_t *prefs)
{
	bson_iter_t it;

	(void)opts;
	(void)prefs;
	FUZZ_CHECK(coll == (mongoc_collection_t *)&fuzz_coll);
	/* the filter is exactly {_id: ObjectId}: nothing from the token but
	 * a checked id reaches the query */
	FUZZ_CHECK(bson_count_keys(filter) == 1 && bson_iter_init_find(&it, filter, "_id") &&
		   BSON_ITER_HOLDS_OID(&it));
	return (mongoc_cursor_t *)&fuzz_cursor;
}

bool __wrap_mongoc_cursor_next(mongoc_cursor_t *cur, const bson_t **doc)
{
	static const char *const roles[] = { "customer", "staff", "admin", "root" };

	FUZZ_CHECK(cur == (mongoc_cursor_t *)&fuzz_cursor);
	if (fuzz_user >= 6)
		return false;
	bson_reinit(fuzz_user_doc);
	if (fuzz_user < 4)
		BSON_APPEND_UTF8(fuzz_user_doc, "role", roles[fuzz_user]);
	if (fuzz_user == 5) {
		BSON_APPEND_UTF8(fuzz_user_doc, "role", "staff");
		BSON_APPEND_BOOL(fuzz_user_doc, "disabled", true);
	}
	if (fuzz_user_tv)
		BSON_APPEND_INT32(fuzz_user_doc, "token_version", 1);
	if (fuzz_user_mfa) {
		bson_t mfa;

		BSON_APPEND_DOCUMENT_BEGIN(fuzz_user_doc, "mfa", &mfa);
		BSON_APPEND_BOOL(&mfa, "enabled", true);
		bson_append_document_end(fuzz_user_doc, &mfa);
	}
	*doc = fuzz_user_doc;
	return true;
}

bool __wrap_mongoc_cursor_error(mongoc_cursor_t *cur, bson_error_t *berr)
{
	FUZZ_CHECK(cur == (mongoc_cursor_t *)&fuzz_cursor);
	if (fuzz_user != 7)
		return false;
	bson_set_error(berr, MONGOC_ERROR_SERVER_SELECTION, MONGOC_ERROR_SERVER_SELECTION_FAILURE,
		       "no suitable servers (fuzz)");
	return true;
}

void __wrap_mongoc_cursor_destroy(mongoc_cursor_t *cur)
{
	FUZZ_CHECK(cur == (mongoc_cursor_t *)&fuzz_cursor);
}

void __wrap_mongoc_collection_destroy(mongoc_collection_t *coll)
{
	FUZZ_CHECK(coll == (mongoc_collection_t *)&fuzz_coll);
}

/* ---- the harness ---- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct em_error err = EM_ERROR_INIT;

	(void)argc;
	(void)argv;
	setenv("EMPORIUM_ENV_FILE", "/dev/null", 1);
	setenv("EMPORIUM_JWT_SECRET", FUZZ_SECRET, 1);
	setenv("EMPORIUM_LOG_LEVEL", "error", 1);
	if (!em_app_config_load(&app.cfg, &err)) {
		fprintf(stderr, "fuzz_auth: configuration: %s\n", err.message);
		abort();
	}
	em_log_set_level(app.cfg.log_level);
	mfa_setting = em_config_section_mut(&app.cfg, &auth_config_section);
	fuzz_user_doc = bson_new();
	return 0;
}

/* The header for a token this harness signs from JSON claims, or NULL. */
static char *header_signed(const char *claims, unsigned how)
{
	const char *key = how == 3 ? "another-key-0123456789abcdef0123456789abcd" : FUZZ_SECRET;
	jwt_t *jwt = NULL;
	char *tok = NULL, *header = NULL;

	if (jwt_new(&jwt) != 0)
		return NULL;
	if (jwt_add_grants_json(jwt, claims) != 0 ||
	    jwt_set_alg(jwt, how == 2 ? JWT_ALG_HS512 : JWT_ALG_HS256,
			(const unsigned char *)key, (int)strlen(key)) != 0)
		goto done;
	tok = jwt_encode_str(jwt);
	if (!tok)
		goto done;
	header = xmalloc(strlen(tok) + sizeof("Bearer "));
	memcpy(header, "Bearer ", 7);
	memcpy(header + 7, tok, strlen(tok) + 1);
done:
	free(tok);
	jwt_free(jwt);
	return header;
}

/* What an accepted token must be, checked apart from the code under test. */
static void check_accepted(const char *header, enum em_role role, const char *user_id,
			   long now)
{
	const struct auth_config *ac = auth_config(&app.cfg);
	const char *tok = header + 7;
	jwt_t *jwt = NULL;
	long exp, iat, tv;
	enum em_role token_role;
	const char *s;

	while (*tok == ' ')
		tok++;
	FUZZ_CHECK(jwt_decode(&jwt, tok, (const unsigned char *)FUZZ_SECRET,
			      (int)strlen(FUZZ_SECRET)) == 0 && jwt);
	FUZZ_CHECK(jwt_get_alg(jwt) == JWT_ALG_HS256);
	exp = jwt_get_grant_int(jwt, "exp");
	iat = jwt_get_grant_int(jwt, "iat");
	FUZZ_CHECK(exp > 0 && exp >= now - 30);
	FUZZ_CHECK(iat > 0 && iat <= now + 30 && iat < exp);
	FUZZ_CHECK(jwt_get_grant_int(jwt, "nbf") <= now + 30);
	s = jwt_get_grant(jwt, "iss");
	FUZZ_CHECK(s && strcmp(s, ac->jwt_issuer) == 0);
	s = jwt_get_grant(jwt, "aud");
	FUZZ_CHECK(s && strcmp(s, ac->jwt_audience) == 0);
	s = jwt_get_grant(jwt, "sub");
	FUZZ_CHECK(s && strlen(s) == 24 && strspn(s, "0123456789abcdefABCDEF") == 24);
	FUZZ_CHECK(strcmp(user_id, s) == 0);
	errno = 0;
	tv = jwt_get_grant_int(jwt, "tv");
	if (errno == ENOENT) /* libjwt: -1 for an absent claim; it means version 0 */
		tv = 0;
	FUZZ_CHECK(tv == (fuzz_user_tv ? 1 : 0));
	s = jwt_get_grant(jwt, "role");
	FUZZ_CHECK(s && auth_role_parse(s, &token_role));
	/* and the account: enabled, with that role */
	FUZZ_CHECK(fuzz_user <= 2 && (int)fuzz_user + 1 == (int)token_role);
	if (token_role == EM_ROLE_ADMIN && fuzz_mfa_required && !fuzz_user_mfa)
		FUZZ_CHECK(role == EM_ROLE_CUSTOMER);
	else
		FUZZ_CHECK(role == token_role);
	jwt_free(jwt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct em_error err = EM_ERROR_INIT;
	enum em_role role = EM_ROLE_PUBLIC;
	struct em_request req;
	char *rest, *header, *param, *envp[3] = { NULL, "REQUEST_METHOD=GET", NULL };
	unsigned how;
	long now;
	bool ok;

	if (size < 1)
		return 0;
	how = data[0] & 3;
	fuzz_user = (data[0] >> 2) & 7;
	fuzz_user_tv = data[0] & 32;
	fuzz_user_mfa = data[0] & 64;
	fuzz_mfa_required = data[0] & 128;
	snprintf(mfa_setting->admin_mfa, sizeof(mfa_setting->admin_mfa), "%s",
		 fuzz_mfa_required ? "required" : "optional");
	rest = fuzz_cstr(data + 1, size - 1);
	header = how == 0 ? xstrdup(rest) : header_signed(rest, how);
	free(rest);
	if (!header)
		return 0;
	param = xmalloc(strlen(header) + sizeof("HTTP_AUTHORIZATION="));
	memcpy(param, "HTTP_AUTHORIZATION=", sizeof("HTTP_AUTHORIZATION=") - 1);
	memcpy(param + sizeof("HTTP_AUTHORIZATION=") - 1, header, strlen(header) + 1);
	envp[0] = param;

	em_request_init(&req, envp, &app);
	now = (long)time(NULL);
	ok = auth_request_authenticate(&req, &role, &err);
	if (ok) {
		FUZZ_CHECK(err.kind == EM_ERR_NONE);
		FUZZ_CHECK(role >= EM_ROLE_CUSTOMER && role <= EM_ROLE_ADMIN);
		FUZZ_CHECK(strlen(req.user_id) == 24);
		FUZZ_CHECK(how == 0 || how == 1);
		check_accepted(header, role, req.user_id, now);
	} else if (err.kind == EM_ERR_UNAVAILABLE) {
		FUZZ_CHECK(fuzz_user == 7);
	} else {
		FUZZ_CHECK(err.kind == EM_ERR_UNAUTHENTICATED);
		FUZZ_CHECK(req.resp.headers && strstr(req.resp.headers, "WWW-Authenticate: Bearer"));
	}
	em_request_release(&req);
	free(param);
	free(header);
	return 0;
}
