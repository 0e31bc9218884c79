/*
 * jobs.h - the transactional outbox: work that must happen, reliably,
 * outside the web request (mail, alerts, sweeps).
 *
 * A job is a document in the `jobs` collection:
 *   { _id: ObjectId, type: "email"|..., payload: {...}, dedupe_key: string
 *     (unique), status: "pending"|"running"|"done"|"dead", run_after: date,
 *     attempts: int32, lease_until: date|null, last_error: string|null,
 *     created_at: date, updated_at: date, request_id: string (the request
 *     that enqueued it, when there was one: the worker logs the job's lines
 *     with it) }
 * Writers enqueue in the same transaction as the change that causes the
 * job, so both commit or neither does; emporium-worker claims due jobs
 * with findAndModify and a lease, and retries with backoff.
 *
 * The dedupe key is unique: enqueueing the same key twice is a no-op
 * (success), so one event never makes two jobs.
 */
#ifndef EM_JOBS_JOBS_H
#define EM_JOBS_JOBS_H

#include <mongoc/mongoc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/error.h"
#include "http/metrics.h"
#include "store/store.h"

/* The module's configuration (EMPORIUM_SMTP_*, EMPORIUM_JOB_*, ...). */
struct jobs_config {
	char smtp_url[EM_CONFIG_STR_MAX];   /* EMPORIUM_SMTP_URL */
	char smtp_tls[16];                  /* EMPORIUM_SMTP_TLS: none|starttls|required */
	char smtp_user[128];                /* EMPORIUM_SMTP_USER */
	char smtp_password[256];            /* EMPORIUM_SMTP_PASSWORD */
	char smtp_ca_file[EM_CONFIG_STR_MAX]; /* EMPORIUM_SMTP_CA_FILE: "" = the system's CAs */
	char mail_from[256];                /* EMPORIUM_MAIL_FROM */
	char staff_email[256];              /* EMPORIUM_STAFF_EMAIL */
	char templates_dir[EM_CONFIG_STR_MAX]; /* EMPORIUM_TEMPLATES_DIR */
	int max_attempts;                   /* EMPORIUM_JOB_MAX_ATTEMPTS */
	int lease_s;                        /* EMPORIUM_JOB_LEASE */
	int poll_ms;                        /* EMPORIUM_JOB_POLL_MS */
	int backoff_ms;                     /* EMPORIUM_JOB_BACKOFF_MS: first retry delay */
	char metrics_listen[64];            /* EMPORIUM_WORKER_METRICS_LISTEN: "" = none */
};

extern const struct em_config_section jobs_config_section;

/* The jobs module's values in cfg. */
static inline const struct jobs_config *jobs_config(const struct em_config *cfg)
{
	return em_config_section(cfg, &jobs_config_section);
}

/*
 * Enqueues a job. session may be NULL (no transaction) or the session of
 * a store_txn_run() callback; then a driver failure is reported through
 * berr (see txn.h) as well as err. run_after_ms is a Unix time in ms, 0
 * for now. payload is copied.
 */
bool jobs_enqueue(struct em_store *st, mongoc_client_session_t *session, const char *type,
		  const bson_t *payload, const char *dedupe_key, int64_t run_after_ms,
		  bson_error_t *berr, struct em_error *err);

/*
 * Enqueues an "email" job: payload { to, template, vars }. template names
 * a template set in EMPORIUM_TEMPLATES_DIR (<name>.subject, <name>.txt,
 * <name>.html); vars fills its {{placeholders}} (values HTML-escaped in the
 * HTML part). Templates: verify_email, password_reset, account_exists,
 * order_confirmation, order_shipped, order_delivered, low_stock.
 */
bool jobs_email_enqueue(struct em_store *st, mongoc_client_session_t *session,
			const char *to, const char *template_name, const bson_t *vars,
			const char *dedupe_key, bson_error_t *berr, struct em_error *err);


/* ------------------------------------------------------------------ */
/* The worker side: emporium-worker (src/jobs/runner.c).              */
/* ------------------------------------------------------------------ */

/*
 * Job lifecycle, as the worker writes it:
 *   pending --claim--> running --ok--> done     (finished_at set: a TTL
 *                                                index drops it after 7 d)
 *                              --fail--> pending (run_after = now + backoff,
 *                                                 last_error)
 *                              --fail, attempts >= max, or a permanent
 *                                error--> dead   (dead_at, last_error; kept
 *                                                 until an admin retries)
 * A claim is a findAndModify on {status: pending, run_after <= now} or
 * {status: running, lease_until < now} (a worker died mid-job), sorted by
 * run_after, that sets status running, lease_until = now + EMPORIUM_JOB_LEASE,
 * lease_owner = the worker's id and increments attempts (int32). Every
 * later write of that worker is guarded by {_id, status: running,
 * lease_owner}, so a worker whose lease was taken over cannot overwrite
 * the new owner's result.
 *
 * Extra fields the worker adds: lease_owner (string|null), claimed_at,
 * finished_at (done only), dead_at (dead only), done_by, and for email
 * jobs sent_at + message_id (see src/jobs/email_job.c).
 */

/* One emporium-worker process: its configuration, store and SMTP handle. */
struct jobs_worker {
	struct em_config cfg;
	struct em_store store;
	void *curl;            /* CURL *, reused so the SMTP connection is kept */
	char owner[128];       /* lease_owner: "host:pid:random" */
	int64_t lease_cap_s;   /* lease length used for new claims */
	unsigned long runs, failures;
	/* this worker's last job failed and will be retried: the next success
	 * of that type means its dependency (SMTP, a gateway) is back */
	bool last_failed;
	char last_failed_type[64];
	/* GET /metrics (src/jobs/metrics_listen.c): the listening socket (-1:
	 * none) and the process's counters; both outlive a reload */
	int metrics_fd;
	struct em_metrics_slot *metrics;
	int64_t started_ms;
};

/* A claimed job, as a handler sees it; everything points into doc. */
struct jobs_job {
	const bson_t *doc;     /* the whole job document after the claim */
	bson_oid_t id;
	char id_hex[25];
	const char *type;
	const char *dedupe_key;
	bson_t payload;        /* a read-only view of doc.payload */
	int32_t attempts;      /* including this run */
};

/*
 * A job type's handler. Returns true when the work is done. On false, err
 * says why, and its kind decides what happens (jobs_error_is_permanent):
 * EM_ERR_INVALID / EM_ERR_NOT_FOUND (malformed payload, missing template,
 * a recipient the server refuses for good) park the job as dead at once;
 * anything else is retried with backoff. A handler may run more than once
 * for one job (a crash after its side effect, before the job was marked
 * done): make side effects idempotent or record them on the job, as the
 * email handler does.
 */
typedef bool (*jobs_handler_fn)(struct jobs_worker *w, const struct jobs_job *job,
				struct em_error *err);

struct jobs_handler {
	const char *type;
	jobs_handler_fn run;
};

/*
 * The job types a module runs are listed in its descriptor
 * (struct em_module, src/app/module.h), terminated by { NULL, NULL }.
 */

/*
 * Periodic tasks ("sweeps"): each runs in every worker process once at
 * start and then every interval_s. They must be idempotent and cheap,
 * since N workers run them N times; a task that must run once per period
 * across the fleet should instead enqueue a job whose dedupe key names
 * the period ("order_expiry_sweep:2024-05-01T10:05"), so exactly one
 * worker gets it. Listed in the module's descriptor, terminated by
 * { NULL, 0, NULL }.
 */
struct jobs_periodic {
	const char *name;
	int interval_s;
	bool (*run)(struct jobs_worker *w, struct em_error *err);
};

/* Handler of "email" jobs (src/jobs/email_job.c): payload {to, template, vars}. */
bool jobs_email_run(struct jobs_worker *w, const struct jobs_job *job, struct em_error *err);

/* Periodic: puts running jobs whose lease expired back to pending. */
bool jobs_lease_release(struct jobs_worker *w, struct em_error *err);

/*
 * Opens the worker's store and SMTP handle for cfg (copied). No I/O yet.
 * jobs_worker_release() frees everything.
 */
bool jobs_worker_init(struct jobs_worker *w, const struct em_config *cfg, struct em_error *err);
void jobs_worker_release(struct jobs_worker *w);

/*
 * Claims one due job and runs it to its next state. *ran is false when
 * no job was due. False only when the database could not be used (the
 * job's own failure is recorded on the job, not returned).
 */
bool jobs_worker_run_one(struct jobs_worker *w, bool *ran, struct em_error *err);

/*
 * The worker's main loop: periodic tasks, claim-and-run, idle polls of
 * EMPORIUM_JOB_POLL_MS. Returns (0) once *stop is set, after the job in
 * hand is finished; *reload set asks for the configuration to be read
 * again (SIGHUP).
 */
int jobs_worker_loop(struct jobs_worker *w, volatile sig_atomic_t *stop,
		     volatile sig_atomic_t *reload);

/*
 * emporium-worker's own GET /metrics (src/jobs/metrics_listen.c), on
 * EMPORIUM_WORKER_METRICS_LISTEN. jobs_metrics_open() binds it (nothing
 * when the setting is empty); jobs_metrics_wait() sleeps up to ms,
 * answering scrapes meanwhile, and returns early on a signal. The worker
 * is single-threaded: a scrape waits for the job in hand (at most one
 * job's run), which is what a scrape of a busy worker should see anyway.
 */
bool jobs_metrics_open(struct jobs_worker *w, struct em_error *err);
void jobs_metrics_wait(struct jobs_worker *w, int64_t ms);
void jobs_metrics_close(struct jobs_worker *w);

/* The longest a failed job waits, whatever the attempt: one hour. */
#define JOBS_BACKOFF_CAP_MS (3600LL * 1000)

/*
 * The delay before retry number `attempts` (1 after the first failure):
 * "full jitter" - uniform in [0, min(cap_ms, base_ms * 2^(attempts-1))],
 * drawn from rnd (a uniformly random 64-bit value), so failing jobs of
 * many workers spread out instead of retrying in lockstep.
 */
int64_t jobs_backoff_ms(int32_t attempts, int64_t base_ms, int64_t cap_ms, uint64_t rnd);

/* True when a handler's error should park the job as dead at once. */
bool jobs_error_is_permanent(const struct em_error *err);

#endif
