/*
 * module.c - the jobs module: the transactional outbox, the job runner
 * (emporium-worker), mail over SMTP, and the admin view of the queue.
 */
#include <stdio.h>

#include "app/module.h"
#include "core/curl_body.h"
#include "jobs/jobs.h"
#include "jobs/jobs_routes.h"
#include "jobs/mail.h"

static const struct em_config_entry jobs_config_entries[] = {
	{ { "EMPORIUM_SMTP_URL", "smtp://127.0.0.1:25",
	    "mail server: smtp://host:port (STARTTLS per EMPORIUM_SMTP_TLS) or smtps://host:465" },
	  EM_CFG_URI, 1, 0, EM_CFG_FIELD_STR(struct jobs_config, smtp_url) },
	{ { "EMPORIUM_SMTP_TLS", "required",
	    "none (local catcher only), starttls (when offered) or required" },
	  EM_CFG_ENUM, 0, 0, EM_CFG_FIELD_ENUM(struct jobs_config, smtp_tls, "none|starttls|required") },
	{ { "EMPORIUM_SMTP_USER", "", "SMTP AUTH user; empty: no AUTH" },
	  EM_CFG_STR, 0, 0, EM_CFG_FIELD_STR(struct jobs_config, smtp_user) },
	{ { "EMPORIUM_SMTP_PASSWORD", "", "SMTP AUTH password" },
	  EM_CFG_SECRET, 1, 0, EM_CFG_FIELD_STR(struct jobs_config, smtp_password) },
	{ { "EMPORIUM_SMTP_CA_FILE", "",
	    "PEM CA bundle the mail server's certificate must chain to; empty: the system's" },
	  EM_CFG_STR, 0, 0, EM_CFG_FIELD_STR(struct jobs_config, smtp_ca_file) },
	{ { "EMPORIUM_MAIL_FROM", "Emporium <shop@localhost>", "the From: of every mail" },
	  EM_CFG_STR, 3, 0, EM_CFG_FIELD_STR(struct jobs_config, mail_from) },
	{ { "EMPORIUM_STAFF_EMAIL", "", "where staff alerts (low stock) go; empty: none" },
	  EM_CFG_STR, 0, 0, EM_CFG_FIELD_STR(struct jobs_config, staff_email) },
	{ { "EMPORIUM_TEMPLATES_DIR", "/usr/share/emporium/templates",
	    "mail templates (a checkout uses ./templates)" },
	  EM_CFG_STR, 1, 0, EM_CFG_FIELD_STR(struct jobs_config, templates_dir) },
	{ { "EMPORIUM_JOB_MAX_ATTEMPTS", "8", "attempts before a job is parked as dead" },
	  EM_CFG_INT, 1, 100, EM_CFG_FIELD_NUM(struct jobs_config, max_attempts) },
	{ { "EMPORIUM_JOB_LEASE", "60",
	    "seconds a claimed job stays leased; another worker takes it after" },
	  EM_CFG_INT, 5, 3600, EM_CFG_FIELD_NUM(struct jobs_config, lease_s) },
	{ { "EMPORIUM_JOB_POLL_MS", "1000", "how often an idle job worker looks for work" },
	  EM_CFG_INT, 50, 60000, EM_CFG_FIELD_NUM(struct jobs_config, poll_ms) },
	{ { "EMPORIUM_JOB_BACKOFF_MS", "30000",
	    "ceiling of the first retry delay (ms); it doubles per attempt up to 1 h, full jitter" },
	  EM_CFG_INT, 10, 3600000, EM_CFG_FIELD_NUM(struct jobs_config, backoff_ms) },
	{ { "EMPORIUM_WORKER_METRICS_LISTEN", "",
	    "IPv4 host:port where emporium-worker answers GET /metrics (Prometheus); empty: none" },
	  EM_CFG_STR, 0, 0, EM_CFG_FIELD_STR(struct jobs_config, metrics_listen) },
};

/* Refuses at start what would only fail later, one mail at a time. */
static bool jobs_config_check(const void *values, struct em_error *err)
{
	const struct jobs_config *c = values;
	char name[256], addr[256];

	if (!mail_from_parse(c->mail_from, name, sizeof(name), addr, sizeof(addr), err)) {
		char why[sizeof(err->message)];

		/* err->message is both the reason and the destination: copy it */
		snprintf(why, sizeof why, "%s", err->message);
		em_error_set(err, EM_ERR_INVALID, "EMPORIUM_MAIL_FROM",
			     "EMPORIUM_MAIL_FROM is not a valid From: (%s)", why);
		return false;
	}
	if (c->staff_email[0] && !mail_address_valid(c->staff_email)) {
		em_error_set(err, EM_ERR_INVALID, "EMPORIUM_STAFF_EMAIL",
			     "EMPORIUM_STAFF_EMAIL is not a mail address");
		return false;
	}
	return true;
}

const struct em_config_section jobs_config_section = {
	.name = "jobs",
	.title = "mail and background jobs",
	.entries = jobs_config_entries,
	.count = EM_COUNT(jobs_config_entries),
	.size = sizeof(struct jobs_config),
	.check = jobs_config_check,
};

static const struct em_route_table *const jobs_route_tables[] = {
	&jobs_admin_routes,
	NULL,
};

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

static const struct jobs_handler jobs_job_handlers[] = {
	{ "email", jobs_email_run },
	{ NULL, NULL },
};

static const struct jobs_periodic jobs_job_periodics[] = {
	/*
	 * Claims already take over expired leases; this also makes them show
	 * as pending (with a last_error saying why) in the admin listing,
	 * instead of "running" forever when no worker is polling.
	 */
	{ "lease_release", 30, jobs_lease_release },
	{ NULL, 0, NULL },
};

/* What MongoDB itself refuses to store for this module (migrate puts it
 * in place): int64 money and quantities, enums, required fields. */
static const struct store_validator jobs_validators[] = {
	{ "jobs",
	  "{\"bsonType\": \"object\", \"required\": [\"type\", \"status\", "
	  "\"dedupe_key\"], \"properties\": {\"type\": {\"bsonType\": \"string\", "
	  "\"maxLength\": 64, \"minLength\": 1}, \"status\": {\"enum\": [\"pending\", "
	  "\"running\", \"done\", \"dead\"]}, \"dedupe_key\": {\"bsonType\": \"string\", "
	  "\"maxLength\": 512, \"minLength\": 1}}}" },
};

const struct em_module jobs_module = {
	.name = "jobs",
	.routes = jobs_route_tables,
	.indexes = jobs_indexes,
	.nindexes = EM_COUNT(jobs_indexes),
	.validators = jobs_validators,
	.nvalidators = EM_COUNT(jobs_validators),
	.job_handlers = jobs_job_handlers,
	.periodics = jobs_job_periodics,
	.config = &jobs_config_section,
	.process_init = em_curl_process_init,
	.process_release = em_curl_process_release,
};
