#include "store/indexes.h"

static const struct store_index jobs_indexes[] = {
	/* one job per event: enqueue upserts on this key */
	{ "jobs", "dedupe_key_unique", "{\"dedupe_key\": 1}", "{\"unique\": true}" },
	/* the claim query: due pending jobs, oldest first */
	{ "jobs", "status_run_after", "{\"status\": 1, \"run_after\": 1}", "{}" },
	/* the claim's other branch and the lease sweep: running, lease expired */
	{ "jobs", "status_lease_until", "{\"status\": 1, \"lease_until\": 1}", "{}" },
	/* the admin listing: by status, newest first, keyset on _id */
	{ "jobs", "status_id", "{\"status\": 1, \"_id\": -1}", "{}" },
	/* done jobs are kept 7 days for inspection, then expire (only done
	 * jobs have finished_at; dead ones stay until an admin acts) */
	{ "jobs", "finished_at_ttl", "{\"finished_at\": 1}", "{\"expireAfterSeconds\": 604800}" },
};

const struct store_index_set jobs_index_set = STORE_INDEX_SET("jobs", jobs_indexes);
