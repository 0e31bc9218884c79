#include "store/indexes.h"

/* The indexes OpenID Connect sign-in relies on (emporium-admin migrate). */
static const struct store_index oauth_indexes[] = {
	/* The callback looks a pending login up by the hash of its state. */
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

const struct store_index_set oauth_index_set = STORE_INDEX_SET("oauth", oauth_indexes);
