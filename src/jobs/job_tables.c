/*
 * job_tables.c - what emporium-worker knows how to run, as data.
 *
 * A module that needs background work writes its handler (see
 * jobs_handler_fn in jobs.h) and adds one line to jobs_handlers; a sweep
 * that must run every few minutes adds one line to jobs_periodics.
 */
#include "jobs/jobs.h"

const struct jobs_handler jobs_handlers[] = {
	{ "email", jobs_email_run },
	{ NULL, NULL },
};

const struct jobs_periodic jobs_periodics[] = {
	/*
	 * Claims already take over expired leases; this also makes them show
	 * as pending (with a last_error saying why) in the admin listing,
	 * instead of "running" forever when no worker is polling.
	 */
	{ "lease_release", 30, jobs_lease_release },
	{ NULL, 0, NULL },
};
