/*
 * runner.c - emporium-worker's engine: claim a due job with a lease, run
 * its handler, write the outcome (done, retry with backoff, dead).
 *
 * Safety rests on two things. A claim is one findAndModify, so two
 * workers (on any hosts) can never both claim a job while its lease
 * holds. And every write after the claim is guarded by the lease owner,
 * so a worker that stalled past its lease cannot clobber the job after
 * another worker took it over. What the lease cannot give is
 * exactly-once side effects: a worker that dies after its handler's side
 * effect and before marking the job done leaves a job that will run
 * again. Handlers make that window as small as they can (email records
 * sent_at right after the SMTP server accepts; see email_job.c).
 */
#include <curl/curl.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/modules.h"
#include "core/log.h"
#include "core/notify.h"
#include "core/time.h"
#include "http/metrics.h"
#include "jobs/jobs.h"

int64_t jobs_backoff_ms(int32_t attempts, int64_t base_ms, int64_t cap_ms, uint64_t rnd)
{
	int64_t ceiling;

	if (base_ms <= 0 || cap_ms <= 0)
		return 0;
	ceiling = base_ms < cap_ms ? base_ms : cap_ms;
	/* doubling stops at the cap, so this neither loops long nor overflows */
	for (int32_t i = 1; i < attempts && ceiling < cap_ms; i++)
		ceiling = ceiling > cap_ms / 2 ? cap_ms : ceiling * 2;
	return (int64_t)(rnd % ((uint64_t)ceiling + 1));
}

bool jobs_error_is_permanent(const struct em_error *err)
{
	return err->kind == EM_ERR_INVALID || err->kind == EM_ERR_NOT_FOUND;
}

bool jobs_worker_init(struct jobs_worker *w, const struct em_config *cfg, struct em_error *err)
{
	char host[64];
	unsigned char rnd[6];
	char hex[sizeof(rnd) * 2 + 1];

	memset(w, 0, sizeof(*w));
	w->cfg = *cfg;
	w->metrics_fd = -1;
	w->started_ms = em_now_ms();
	if (sodium_init() < 0) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "libsodium did not initialise");
		return false;
	}
	if (!store_open(&w->store, &w->cfg, "emporium-worker", err))
		return false;
	w->curl = curl_easy_init();
	if (!w->curl) {
		store_close(&w->store);
		em_error_set(err, EM_ERR_INTERNAL, NULL, "curl_easy_init failed");
		return false;
	}
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	/* pid alone repeats across hosts and restarts; the random part does not */
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	snprintf(w->owner, sizeof(w->owner), "%s:%d:%s", host, (int)getpid(), hex);
	return true;
}

void jobs_worker_release(struct jobs_worker *w)
{
	if (w->curl)
		curl_easy_cleanup(w->curl);
	w->curl = NULL;
	store_close(&w->store);
}

/*
 * Claims the oldest due job: pending and due, or running with an expired
 * lease (its worker died). Copies it into job (initialised here when
 * *found). False on a database failure.
 */
static bool jobs_claim(struct jobs_worker *w, bson_t *job, bool *found, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(&w->store, "jobs");
	mongoc_find_and_modify_opts_t *opts = mongoc_find_and_modify_opts_new();
	int64_t now = em_now_ms();
	bson_t query = BSON_INITIALIZER, sort = BSON_INITIALIZER, update = BSON_INITIALIZER;
	bson_t reply, or_arr, branch, cond, set, inc;
	bson_error_t berr;
	bson_iter_t it;
	bool ok = false;

	*found = false;
	BSON_APPEND_ARRAY_BEGIN(&query, "$or", &or_arr);
	BSON_APPEND_DOCUMENT_BEGIN(&or_arr, "0", &branch);
	BSON_APPEND_UTF8(&branch, "status", "pending");
	BSON_APPEND_DOCUMENT_BEGIN(&branch, "run_after", &cond);
	BSON_APPEND_DATE_TIME(&cond, "$lte", now);
	bson_append_document_end(&branch, &cond);
	bson_append_document_end(&or_arr, &branch);
	BSON_APPEND_DOCUMENT_BEGIN(&or_arr, "1", &branch);
	BSON_APPEND_UTF8(&branch, "status", "running");
	BSON_APPEND_DOCUMENT_BEGIN(&branch, "lease_until", &cond);
	BSON_APPEND_DATE_TIME(&cond, "$lt", now);
	bson_append_document_end(&branch, &cond);
	bson_append_document_end(&or_arr, &branch);
	bson_append_array_end(&query, &or_arr);

	BSON_APPEND_INT32(&sort, "run_after", 1);

	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
	BSON_APPEND_UTF8(&set, "status", "running");
	BSON_APPEND_DATE_TIME(&set, "lease_until", now + (int64_t)jobs_config(&w->cfg)->lease_s * 1000);
	BSON_APPEND_UTF8(&set, "lease_owner", w->owner);
	BSON_APPEND_DATE_TIME(&set, "claimed_at", now);
	BSON_APPEND_DATE_TIME(&set, "updated_at", now);
	bson_append_document_end(&update, &set);
	/* an int32 increment keeps attempts an int32 (the schema's type) */
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc);
	BSON_APPEND_INT32(&inc, "attempts", 1);
	bson_append_document_end(&update, &inc);

	if (!mongoc_find_and_modify_opts_set_sort(opts, &sort) ||
	    !mongoc_find_and_modify_opts_set_update(opts, &update) ||
	    !mongoc_find_and_modify_opts_set_flags(opts, MONGOC_FIND_AND_MODIFY_RETURN_NEW)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot build the claim");
		bson_init(&reply);
		goto done;
	}
	if (!mongoc_collection_find_and_modify_with_opts(coll, &query, opts, &reply, &berr)) {
		store_error_set(err, &berr, "claim a job");
		goto done;
	}
	if (bson_iter_init_find(&it, &reply, "value") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
		const uint8_t *data;
		uint32_t len;
		bson_t view;

		bson_iter_document(&it, &len, &data);
		if (!bson_init_static(&view, data, len)) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "the claimed job is corrupt");
			goto done;
		}
		bson_copy_to(&view, job);
		*found = true;
	}
	ok = true;
done:
	bson_destroy(&reply);
	bson_destroy(&query);
	bson_destroy(&sort);
	bson_destroy(&update);
	mongoc_find_and_modify_opts_destroy(opts);
	mongoc_collection_destroy(coll);
	return ok;
}

/* Fills job from the claimed document; false when it is not a job. */
static bool jobs_job_parse(const bson_t *doc, struct jobs_job *job, struct em_error *err)
{
	bson_iter_t it;
	const uint8_t *data;
	uint32_t len;

	memset(job, 0, sizeof(*job));
	job->doc = doc;
	bson_init(&job->payload);
	if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_OID(&it)) {
		em_error_set(err, EM_ERR_INVALID, "_id", "the job has no ObjectId _id");
		return false;
	}
	bson_oid_copy(bson_iter_oid(&it), &job->id);
	bson_oid_to_string(&job->id, job->id_hex);
	if (bson_iter_init_find(&it, doc, "attempts") && BSON_ITER_HOLDS_NUMBER(&it)) {
		int64_t a = bson_iter_as_int64(&it);

		job->attempts = a < 0 ? 0 : a > INT32_MAX ? INT32_MAX : (int32_t)a;
	}
	if (bson_iter_init_find(&it, doc, "dedupe_key") && BSON_ITER_HOLDS_UTF8(&it))
		job->dedupe_key = bson_iter_utf8(&it, NULL);
	if (!bson_iter_init_find(&it, doc, "type") || !BSON_ITER_HOLDS_UTF8(&it)) {
		em_error_set(err, EM_ERR_INVALID, "type", "the job has no type");
		return false;
	}
	job->type = bson_iter_utf8(&it, NULL);
	if (!bson_iter_init_find(&it, doc, "payload") || !BSON_ITER_HOLDS_DOCUMENT(&it)) {
		em_error_set(err, EM_ERR_INVALID, "payload", "the job's payload is not a document");
		return false;
	}
	bson_iter_document(&it, &len, &data);
	bson_destroy(&job->payload);
	if (!bson_init_static(&job->payload, data, len)) {
		bson_init(&job->payload);
		em_error_set(err, EM_ERR_INVALID, "payload", "the job's payload is corrupt");
		return false;
	}
	return true;
}

/*
 * Writes a claimed job's next state, guarded by our lease. status is
 * "done", "pending" (then run_after) or "dead"; last_error may be NULL.
 * A guard that matches nothing means another worker took the job over
 * after our lease expired: logged, not an error (the job is theirs now).
 */
static bool jobs_finish(struct jobs_worker *w, const struct jobs_job *job, const char *status,
			int64_t run_after, const char *last_error, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(&w->store, "jobs");
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, reply, set;
	bson_error_t berr;
	bson_iter_t it;
	int64_t now = em_now_ms();
	bool ok = false;

	BSON_APPEND_OID(&filter, "_id", &job->id);
	BSON_APPEND_UTF8(&filter, "status", "running");
	BSON_APPEND_UTF8(&filter, "lease_owner", w->owner);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
	BSON_APPEND_UTF8(&set, "status", status);
	BSON_APPEND_DATE_TIME(&set, "updated_at", now);
	BSON_APPEND_NULL(&set, "lease_until");
	BSON_APPEND_NULL(&set, "lease_owner");
	if (strcmp(status, "done") == 0) {
		/* finished_at feeds the TTL index: only done jobs get one */
		BSON_APPEND_DATE_TIME(&set, "finished_at", now);
		BSON_APPEND_UTF8(&set, "done_by", w->owner);
		BSON_APPEND_NULL(&set, "last_error");
	} else {
		if (strcmp(status, "pending") == 0)
			BSON_APPEND_DATE_TIME(&set, "run_after", run_after);
		else
			BSON_APPEND_DATE_TIME(&set, "dead_at", now);
		BSON_APPEND_UTF8(&set, "last_error", last_error ? last_error : "failed");
	}
	bson_append_document_end(&update, &set);
	if (!mongoc_collection_update_one(coll, &filter, &update, NULL, &reply, &berr)) {
		store_error_set(err, &berr, "record a job's outcome");
		goto done;
	}
	if (bson_iter_init_find(&it, &reply, "matchedCount") && bson_iter_as_int64(&it) == 0)
		em_warn("job %s: lease lost before it was marked %s (another worker took it over)",
			job->id_hex, status);
	ok = true;
done:
	bson_destroy(&reply);
	bson_destroy(&filter);
	bson_destroy(&update);
	mongoc_collection_destroy(coll);
	return ok;
}

/*
 * The job's lines carry the request id of the request that enqueued it
 * (and its type as the route), so one grep of the id finds nginx's access
 * line, the app's and the job's.
 */
static void jobs_log_context(const bson_t *doc)
{
	const char *rid = NULL, *type = NULL;
	char route[80];
	bson_iter_t it;

	if (bson_iter_init_find(&it, doc, "request_id") && BSON_ITER_HOLDS_UTF8(&it))
		rid = bson_iter_utf8(&it, NULL);
	if (bson_iter_init_find(&it, doc, "type") && BSON_ITER_HOLDS_UTF8(&it))
		type = bson_iter_utf8(&it, NULL);
	snprintf(route, sizeof(route), "job %.64s", type ? type : "?");
	em_log_set_request(rid, route);
}

/* Counts a run's outcome and its latency: from when the job was due. */
static void jobs_count(const bson_t *doc, enum em_metrics_event ev)
{
	bson_iter_t it;

	em_metrics_event(ev);
	if (bson_iter_init_find(&it, doc, "run_after") && BSON_ITER_HOLDS_DATE_TIME(&it))
		em_metrics_job_latency(em_now_ms() - bson_iter_date_time(&it));
}

static jobs_handler_fn jobs_handler_find(const char *type)
{
	return em_modules_job_handler(type);
}

/*
 * A job of this type just succeeded after this worker's last one of it
 * failed: whatever it depends on (the SMTP server, a gateway) is back, so
 * the retries of that type waiting out their backoff are made due now
 * instead of after up to an hour (an outage of a minute had pushed some
 * to 4 minutes and more). Best effort: a failure here only leaves them
 * on their backoff.
 */
static void jobs_retries_bring_forward(struct jobs_worker *w, const char *type)
{
	mongoc_collection_t *coll = store_collection(&w->store, "jobs");
	bson_t *filter, *update, reply;
	bson_error_t berr;
	bson_iter_t it;
	int64_t now = em_now_ms();

	filter = BCON_NEW("status", BCON_UTF8("pending"), "type", BCON_UTF8(type), "attempts", "{",
			  "$gt", BCON_INT32(0), "}", "run_after", "{", "$gt", BCON_DATE_TIME(now),
			  "}");
	update = BCON_NEW("$set", "{", "run_after", BCON_DATE_TIME(now), "updated_at",
			  BCON_DATE_TIME(now), "}");
	if (!mongoc_collection_update_many(coll, filter, update, NULL, &reply, &berr))
		em_warn("jobs: cannot bring %s retries forward: %s", type, berr.message);
	else if (bson_iter_init_find(&it, &reply, "modifiedCount") && bson_iter_as_int64(&it) > 0)
		em_info("jobs: %s works again: %lld waiting retries made due now", type,
			(long long)bson_iter_as_int64(&it));
	bson_destroy(&reply);
	bson_destroy(filter);
	bson_destroy(update);
	mongoc_collection_destroy(coll);
}

bool jobs_worker_run_one(struct jobs_worker *w, bool *ran, struct em_error *err)
{
	struct em_error jerr = EM_ERROR_INIT;
	struct jobs_job job;
	jobs_handler_fn run;
	bson_t doc;
	bool found = false, ok = false;
	uint64_t rnd;
	int64_t delay;

	*ran = false;
	if (!jobs_claim(w, &doc, &found, err))
		return false;
	if (!found)
		return true;
	*ran = true;
	w->runs++;
	jobs_log_context(&doc);
	if (!jobs_job_parse(&doc, &job, &jerr)) {
		if (job.id_hex[0]) {
			em_err("job %s: dead: %s", job.id_hex, jerr.message);
			ok = jobs_finish(w, &job, "dead", 0, jerr.message, err);
		} else {
			/* no usable _id: nothing to guard a write with; the lease expires */
			em_err("claimed a document that is not a job: %s", jerr.message);
			ok = true;
		}
		goto done;
	}
	if (job.attempts > jobs_config(&w->cfg)->max_attempts) {
		/* claimed once more after its last attempt: its worker died each time */
		snprintf(jerr.message, sizeof(jerr.message),
			 "its lease expired after the last attempt (%d): the worker running it "
			 "died or hung", (int)job.attempts - 1);
		em_err("job %s (%s): dead: %s", job.id_hex, job.type, jerr.message);
		ok = jobs_finish(w, &job, "dead", 0, jerr.message, err);
		jobs_count(&doc, EM_EV_JOB_DEAD);
		goto done;
	}
	run = jobs_handler_find(job.type);
	if (!run) {
		/*
		 * Retried, not dead: in a rolling upgrade an older worker may
		 * claim a type only newer workers know; a newer one gets it later.
		 */
		em_error_set(&jerr, EM_ERR_INTERNAL, "type", "no handler for job type \"%s\"",
			     job.type);
	} else if (run(w, &job, &jerr)) {
		em_info("job %s (%s): done after %d attempt(s)", job.id_hex, job.type,
			(int)job.attempts);
		ok = jobs_finish(w, &job, "done", 0, NULL, err);
		jobs_count(&doc, EM_EV_JOB_DONE);
		if (w->last_failed && strcmp(w->last_failed_type, job.type) == 0)
			jobs_retries_bring_forward(w, job.type);
		w->last_failed = false;
		goto done;
	}
	w->failures++;
	if (jobs_error_is_permanent(&jerr) || job.attempts >= jobs_config(&w->cfg)->max_attempts) {
		em_err("job %s (%s): dead after %d attempt(s): %s", job.id_hex, job.type,
		       (int)job.attempts, jerr.message);
		ok = jobs_finish(w, &job, "dead", 0, jerr.message, err);
		jobs_count(&doc, EM_EV_JOB_DEAD);
		goto done;
	}
	randombytes_buf(&rnd, sizeof(rnd));
	delay = jobs_backoff_ms(job.attempts, jobs_config(&w->cfg)->backoff_ms, JOBS_BACKOFF_CAP_MS, rnd);
	em_warn("job %s (%s): attempt %d failed, retry in %lld ms: %s", job.id_hex, job.type,
		(int)job.attempts, (long long)delay, jerr.message);
	ok = jobs_finish(w, &job, "pending", em_now_ms() + delay, jerr.message, err);
	jobs_count(&doc, EM_EV_JOB_RETRY);
	w->last_failed = true;
	snprintf(w->last_failed_type, sizeof w->last_failed_type, "%s", job.type);
done:
	em_log_set_request(NULL, NULL);
	bson_destroy(&job.payload);
	bson_destroy(&doc);
	return ok;
}

bool jobs_lease_release(struct jobs_worker *w, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(&w->store, "jobs");
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, reply, cond, set;
	bson_error_t berr;
	bson_iter_t it;
	int64_t now = em_now_ms();
	bool ok = false;

	BSON_APPEND_UTF8(&filter, "status", "running");
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "lease_until", &cond);
	BSON_APPEND_DATE_TIME(&cond, "$lt", now);
	bson_append_document_end(&filter, &cond);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
	BSON_APPEND_UTF8(&set, "status", "pending");
	BSON_APPEND_NULL(&set, "lease_until");
	BSON_APPEND_NULL(&set, "lease_owner");
	BSON_APPEND_UTF8(&set, "last_error", "lease expired: the worker running it stopped or hung");
	BSON_APPEND_DATE_TIME(&set, "updated_at", now);
	bson_append_document_end(&update, &set);
	if (!mongoc_collection_update_many(coll, &filter, &update, NULL, &reply, &berr)) {
		store_error_set(err, &berr, "release expired leases");
		goto done;
	}
	if (bson_iter_init_find(&it, &reply, "modifiedCount") && bson_iter_as_int64(&it) > 0)
		em_warn("released %lld job(s) whose lease expired", (long long)bson_iter_as_int64(&it));
	ok = true;
done:
	bson_destroy(&reply);
	bson_destroy(&filter);
	bson_destroy(&update);
	mongoc_collection_destroy(coll);
	return ok;
}

static int64_t jobs_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Re-reads the configuration; keeps the old one when the new one is bad. */
static void jobs_worker_reload(struct jobs_worker *w)
{
	struct em_config cfg;
	struct em_error err = EM_ERROR_INIT;
	struct jobs_worker fresh;

	if (!em_app_config_load(&cfg, &err)) {
		em_err("reload: configuration error, keeping the old one: %s", err.message);
		return;
	}
	if (!jobs_worker_init(&fresh, &cfg, &err)) {
		em_err("reload: %s; keeping the old configuration", err.message);
		return;
	}
	fresh.runs = w->runs;
	fresh.failures = w->failures;
	/* the counters and the metrics port stay (a new address needs a restart) */
	fresh.metrics_fd = w->metrics_fd;
	fresh.metrics = w->metrics;
	fresh.started_ms = w->started_ms;
	jobs_worker_release(w);
	*w = fresh;
	em_log_set_level(w->cfg.log_level);
	em_info("reload: configuration re-read");
}

int jobs_worker_loop(struct jobs_worker *w, volatile sig_atomic_t *stop,
		     volatile sig_atomic_t *reload)
{
	const struct jobs_periodic *periodics[16];
	size_t nperiodic = em_modules_periodics(periodics, EM_COUNT(periodics));
	int64_t next_due[16] = { 0 };
	bool failing = false;

	em_notify("READY=1");
	em_info("job worker %s ready (lease %d s, poll %d ms, max attempts %d)", w->owner,
		jobs_config(&w->cfg)->lease_s, jobs_config(&w->cfg)->poll_ms, jobs_config(&w->cfg)->max_attempts);
	while (!*stop) {
		struct em_error err = EM_ERROR_INIT;
		int64_t now = jobs_mono_ms();
		bool ran = false;

		/* a client that lost the server is replaced, not waited out */
		store_recover(&w->store);
		if (*reload) {
			*reload = 0;
			em_notify("RELOADING=1");
			jobs_worker_reload(w);
			em_notify("READY=1");
		}
		for (size_t i = 0; i < nperiodic; i++) {
			struct em_error perr = EM_ERROR_INIT;

			if (now < next_due[i])
				continue;
			next_due[i] = now + (int64_t)periodics[i]->interval_s * 1000;
			if (!periodics[i]->run(w, &perr))
				em_warn("periodic %s: %s", periodics[i]->name, perr.message);
		}
		if (!jobs_worker_run_one(w, &ran, &err)) {
			/* one line when the database goes away, one when it is back */
			if (!failing)
				em_err("job worker: %s; retrying every %d ms", err.message,
				       jobs_config(&w->cfg)->poll_ms);
			failing = true;
			jobs_metrics_wait(w, jobs_config(&w->cfg)->poll_ms);
			continue;
		}
		if (failing)
			em_info("job worker: the database answers again");
		failing = false;
		/* busy: take the next job at once; idle: poll */
		jobs_metrics_wait(w, ran ? 0 : jobs_config(&w->cfg)->poll_ms);
	}
	em_notify("STOPPING=1");
	em_info("job worker %s stopping: %lu job run(s), %lu failure(s)", w->owner, w->runs,
		w->failures);
	return 0;
}
