#include "store/indexes.h"

static const struct store_index ops_indexes[] = {
	/* CSP violation reports are kept 30 days, then expire. */
	{ "csp_reports", "received_at_ttl", "{\"received_at\": 1}",
	  "{\"expireAfterSeconds\": 2592000}" },
};

const struct store_index_set ops_index_set = STORE_INDEX_SET("ops", ops_indexes);
