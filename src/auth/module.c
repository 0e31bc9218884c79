/*
 * module.c - the auth module: accounts (register, verify, sign in,
 * refresh, reset), the caller's profile and address book, the admin's
 * user management, OpenID Connect sign-in, and the router's
 * authenticator.
 */
#include "app/module.h"
#include "core/curl_body.h"
#include "auth/auth.h"
#include "auth/auth_http.h"
#include "auth/accounts.h"
#include "auth/auth_routes.h"
#include "jobs/jobs.h"

static const struct em_config_entry auth_config_entries[] = {
	{ { "EMPORIUM_JWT_SECRET", "",
	    "HS256 key for access tokens: at least 32 random bytes, e.g.\n"
	    "  openssl rand -base64 48\n"
	    "emporium-fcgi refuses to start without it. Keep it out of version control." },
	  EM_CFG_SECRET, 32, 0, EM_CFG_FIELD_STR(struct auth_config, jwt_secret) },
	{ { "EMPORIUM_JWT_ISSUER", "emporium", "the iss claim of access tokens" },
	  EM_CFG_STR, 1, 0, EM_CFG_FIELD_STR(struct auth_config, jwt_issuer) },
	{ { "EMPORIUM_JWT_AUDIENCE", "emporium-api", "the aud claim of access tokens" },
	  EM_CFG_STR, 1, 0, EM_CFG_FIELD_STR(struct auth_config, jwt_audience) },
	{ { "EMPORIUM_ACCESS_TOKEN_TTL", "900", "access token lifetime in seconds" },
	  EM_CFG_INT, 60, 86400, EM_CFG_FIELD_NUM(struct auth_config, access_ttl_s) },
	{ { "EMPORIUM_REFRESH_TOKEN_TTL", "2592000", "refresh token lifetime in seconds" },
	  EM_CFG_INT, 3600, 31536000, EM_CFG_FIELD_NUM(struct auth_config, refresh_ttl_s) },
	{ { "EMPORIUM_REFRESH_FAMILY_MAX_AGE", "2592000",
	    "absolute lifetime in seconds of a sign-in (a refresh token family):\n"
	    "rotation never extends it; then the user signs in again" },
	  EM_CFG_INT, 3600, 31536000,
	  EM_CFG_FIELD_NUM(struct auth_config, refresh_family_max_age_s) },
	{ { "EMPORIUM_ARGON2_MEMORY_KIB", "19456",
	    "argon2id memory cost in KiB (OWASP: at least 19456)" },
	  EM_CFG_INT, 8192, 4194304, EM_CFG_FIELD_NUM(struct auth_config, argon2_memory_kib) },
	{ { "EMPORIUM_ARGON2_ITERATIONS", "2", "argon2id time cost (OWASP: at least 2)" },
	  EM_CFG_INT, 1, 20, EM_CFG_FIELD_NUM(struct auth_config, argon2_iterations) },
	{ { "EMPORIUM_OAUTH_PROVIDERS", "",
	    "OpenID Connect login: space-separated provider names. For each NAME:\n"
	    "  EMPORIUM_OAUTH_<NAME>_ISSUER=https://accounts.google.com\n"
	    "  EMPORIUM_OAUTH_<NAME>_CLIENT_ID=...\n"
	    "  EMPORIUM_OAUTH_<NAME>_CLIENT_SECRET=..." },
	  EM_CFG_STR, 0, 0, EM_CFG_FIELD_STR(struct auth_config, oauth_providers) },
	{ { "EMPORIUM_ADMIN_MFA", "optional",
	    "second factor (TOTP) for admin accounts: optional, or required (an admin\n"
	    "without one acts as a customer until it enrols at POST /api/v1/me/mfa/totp)" },
	  EM_CFG_ENUM, 0, 0,
	  EM_CFG_FIELD_ENUM(struct auth_config, admin_mfa, "optional|required") },
};

const struct em_config_section auth_config_section = {
	.name = "auth",
	.title = "accounts and tokens",
	.entries = auth_config_entries,
	.count = EM_COUNT(auth_config_entries),
	.size = sizeof(struct auth_config),
};

static const struct em_route_table *const auth_route_tables[] = {
	&auth_oauth_routes,
	&auth_routes,
	&auth_me_routes,
	&auth_mfa_routes,
	&auth_admin_routes,
	NULL,
};

/* The indexes that serve this module's queries (emporium-admin migrate). */
static const struct store_index auth_indexes[] = {
	/* login, register, reset look accounts up by e-mail; one account each;
	 * the admin prefix search is a range on it */
	{ "users", "email_unique", "{\"email\": 1}", "{\"unique\": true}" },
	/* a refresh token is found by its hash; each hash is one token */
	{ "refresh_tokens", "hash_unique", "{\"hash\": 1}", "{\"unique\": true}" },
	/* revoking a family (reuse, logout) and all of a user's (disable, reset) */
	{ "refresh_tokens", "family_id", "{\"family_id\": 1}", "{}" },
	{ "refresh_tokens", "user_id", "{\"user_id\": 1}", "{}" },
	/* dead refresh tokens go when they expire */
	{ "refresh_tokens", "expires_at_ttl", "{\"expires_at\": 1}", "{\"expireAfterSeconds\": 0}" },
	/* one live code per user and purpose (the resend cooldown relies on it) */
	{ "email_codes", "user_purpose_unique", "{\"user_id\": 1, \"purpose\": 1}",
	  "{\"unique\": true}" },
	/* codes live 10 minutes */
	{ "email_codes", "expires_at_ttl", "{\"expires_at\": 1}", "{\"expireAfterSeconds\": 0}" },
	/* throttle windows disappear when they end */
	{ "rate_limits", "expires_at_ttl", "{\"expires_at\": 1}", "{\"expireAfterSeconds\": 0}" },
	/* a user's address book, in creation order */
	{ "addresses", "user_id", "{\"user_id\": 1, \"_id\": 1}", "{}" },
	/* the address book in the order it was written (created_at in ms) */
	{ "addresses", "user_created", "{\"user_id\": 1, \"created_at\": 1, \"_id\": 1}", "{}" },
	/* OpenID Connect: the callback looks a pending login up by the hash
	 * of its state. */
	{ "oauth_states", "state_hash_unique", "{\"state_hash\": 1}", "{\"unique\": true}" },
	/* Pending logins vanish once expired (the callback also checks). */
	{ "oauth_states", "expires_at_ttl", "{\"expires_at\": 1}", "{\"expireAfterSeconds\": 0}" },
	/*
	 * One account per identity at a provider. Partial, so the accounts
	 * without any link (no oauth.subject) do not all collide on null.
	 */
	{ "users", "oauth_identity_unique", "{\"oauth.provider\": 1, \"oauth.subject\": 1}",
	  "{\"unique\": true, \"partialFilterExpression\": {\"oauth.subject\": {\"$exists\": true}}}" },
};

/* Every mail of the accounts flows: made and sent by emporium-worker. */
static const struct jobs_handler auth_job_handlers[] = {
	{ AUTH_MAIL_JOB, auth_mail_run },
	{ NULL, NULL },
};

static const struct em_admin_cmd auth_admin_cmds[] = {
	{ "create-admin", "create-admin --email E: an admin account (password on stdin)",
	  auth_cmd_create_admin },
	{ NULL, NULL, NULL },
};

/* After fork(): what every request of the process needs ready (libcurl
 * for OpenID Connect, the dummy hash for unknown accounts). */
static bool auth_process_init(const struct em_config *cfg, struct em_error *err)
{
	return em_curl_process_init(cfg, err) && auth_password_init(cfg, err);
}

/* What MongoDB itself refuses to store for this module (migrate puts it
 * in place): int64 money and quantities, enums, required fields. */
static const struct store_validator auth_validators[] = {
	{ "users",
	  "{\"bsonType\": \"object\", \"required\": [\"email\", \"role\"], "
	  "\"properties\": {\"email\": {\"bsonType\": \"string\", \"maxLength\": 254, "
	  "\"minLength\": 3}, \"role\": {\"enum\": [\"customer\", \"staff\", \"admin\"]}, "
	  "\"email_verified\": {\"bsonType\": \"bool\"}, "
	  "\"disabled\": {\"bsonType\": \"bool\"}}}" },
};

const struct em_module auth_module = {
	.name = "auth",
	.routes = auth_route_tables,
	.authenticate = auth_request_authenticate,
	.indexes = auth_indexes,
	.nindexes = EM_COUNT(auth_indexes),
	.validators = auth_validators,
	.nvalidators = EM_COUNT(auth_validators),
	.job_handlers = auth_job_handlers,
	.admin_cmds = auth_admin_cmds,
	.config = &auth_config_section,
	.process_init = auth_process_init,
	.process_release = em_curl_process_release,
};
