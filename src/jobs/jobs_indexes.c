#include "store/indexes.h"

static const struct store_index jobs_indexes[] = {
	/* one job per event: enqueue upserts on this key */
	{ "jobs", "dedupe_key_unique", "{\"dedupe_key\": 1}", "{\"unique\": true}" },
	/* the claim query: due pending jobs, oldest first */
	{ "jobs", "status_run_after", "{\"status\": 1, \"run_after\": 1}", "{}" },
};

const struct store_index_set jobs_index_set = STORE_INDEX_SET("jobs", jobs_indexes);
