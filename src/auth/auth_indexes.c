#include "store/indexes.h"

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
};

const struct store_index_set auth_index_set = STORE_INDEX_SET("auth", auth_indexes);
