#include "http/metrics.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "core/log.h"

const double em_metrics_bucket_le[EM_METRICS_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
};

struct em_metrics *em_metrics_create(void)
{
	void *p = mmap(NULL, sizeof(struct em_metrics), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		em_warn("no shared memory for the metrics: /metrics shows nothing");
		return NULL;
	}
	return p; /* anonymous pages are zero */
}

void em_metrics_request(struct em_metrics_slot *slot, size_t route, int status,
			double duration_ms)
{
	struct em_metrics_route *r;
	int cls = status / 100 - 1;
	size_t b = 0;

	if (!slot)
		return;
	if (route >= EM_METRICS_ROUTES)
		route = 0;
	if (cls < 0 || cls >= EM_METRICS_CLASSES)
		cls = EM_METRICS_CLASSES - 1;
	r = &slot->routes[route];
	while (b < EM_METRICS_BUCKETS && duration_ms / 1000.0 > em_metrics_bucket_le[b])
		b++;
	em_metrics_add(&slot->requests, 1);
	em_metrics_add(&r->requests[cls], 1);
	em_metrics_add(&r->buckets[b], 1);
	em_metrics_add(&r->duration_us, duration_ms > 0 ? (uint64_t)(duration_ms * 1000.0) : 0);
}

/* ---- events ---- */

const double em_metrics_job_le[EM_METRICS_JOB_BUCKETS] = {
	0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600,
};

struct metrics_event_desc {
	const char *name;
	const char *labels; /* "" or `key="value"` */
	const char *help;
};

static const struct metrics_event_desc metrics_events[EM_EV_COUNT] = {
	[EM_EV_DB_UNAVAILABLE] = { "emporium_db_errors_total", "kind=\"unavailable\"",
				   "Database operations that failed, by kind (unavailable: no "
				   "server or a network error)." },
	[EM_EV_DB_DUPLICATE] = { "emporium_db_errors_total", "kind=\"duplicate_key\"", NULL },
	[EM_EV_DB_OTHER] = { "emporium_db_errors_total", "kind=\"other\"", NULL },
	[EM_EV_DB_CLIENT_REBUILD] = { "emporium_db_client_rebuilds_total", "",
				      "MongoDB clients rebuilt after the server was lost (to skip "
				      "the driver's 5 s cooldown)." },
	[EM_EV_TXN_COMMITTED] = { "emporium_db_transactions_total", "result=\"committed\"",
				  "Transactions run, by result (given_up: still conflicting at "
				  "the retry bound, answered 503)." },
	[EM_EV_TXN_ABORTED] = { "emporium_db_transactions_total", "result=\"aborted\"", NULL },
	[EM_EV_TXN_GIVE_UP] = { "emporium_db_transactions_total", "result=\"given_up\"", NULL },
	[EM_EV_TXN_RETRY] = { "emporium_db_transaction_retries_total", "phase=\"transaction\"",
			      "Transactions run again after a transient error (transaction), "
			      "commits sent again (commit)." },
	[EM_EV_TXN_COMMIT_RETRY] = { "emporium_db_transaction_retries_total", "phase=\"commit\"",
				     NULL },
	[EM_EV_PAYMENT_PAID] = { "emporium_payments_total", "outcome=\"paid\"",
				 "Payment notifications applied, by outcome, and refunds "
				 "completed (refunded)." },
	[EM_EV_PAYMENT_REVIEW] = { "emporium_payments_total", "outcome=\"review\"", NULL },
	[EM_EV_PAYMENT_LATE] = { "emporium_payments_total", "outcome=\"late\"", NULL },
	[EM_EV_PAYMENT_REPLAY] = { "emporium_payments_total", "outcome=\"replay\"", NULL },
	[EM_EV_PAYMENT_REFUSED] = { "emporium_payments_total", "outcome=\"refused\"", NULL },
	[EM_EV_PAYMENT_REFUNDED] = { "emporium_payments_total", "outcome=\"refunded\"", NULL },
	[EM_EV_STOCK_OUT] = { "emporium_stock_outs_total", "",
			      "Stock changes that left a variant with none (committed)." },
	[EM_EV_MAIL_SENT] = { "emporium_mails_total", "result=\"sent\"",
			      "Mails the SMTP server accepted, and attempts that failed." },
	[EM_EV_MAIL_FAILED] = { "emporium_mails_total", "result=\"failed\"", NULL },
	[EM_EV_JOB_DONE] = { "emporium_jobs_finished_total", "outcome=\"done\"",
			     "Job runs, by what became of the job." },
	[EM_EV_JOB_RETRY] = { "emporium_jobs_finished_total", "outcome=\"retry\"", NULL },
	[EM_EV_JOB_DEAD] = { "emporium_jobs_finished_total", "outcome=\"dead\"", NULL },
};

/* The per-process sink (see metrics.h): set after fork(), never shared. */
static struct em_metrics_slot *metrics_sink;
static uint64_t metrics_pending[EM_EV_COUNT];

void em_metrics_events_attach(struct em_metrics_slot *slot)
{
	metrics_sink = slot;
	memset(metrics_pending, 0, sizeof metrics_pending);
}

void em_metrics_event(enum em_metrics_event ev)
{
	if (metrics_sink && (unsigned)ev < EM_EV_COUNT)
		em_metrics_add(&metrics_sink->events[ev], 1);
}

void em_metrics_event_in(const void *session, enum em_metrics_event ev)
{
	if (!session) {
		em_metrics_event(ev);
		return;
	}
	if ((unsigned)ev < EM_EV_COUNT)
		metrics_pending[ev]++;
}

void em_metrics_pending_drop(void)
{
	memset(metrics_pending, 0, sizeof metrics_pending);
}

void em_metrics_pending_commit(void)
{
	for (size_t i = 0; i < EM_EV_COUNT; i++)
		if (metrics_pending[i] && metrics_sink)
			em_metrics_add(&metrics_sink->events[i], metrics_pending[i]);
	memset(metrics_pending, 0, sizeof metrics_pending);
}

void em_metrics_job_latency(int64_t latency_ms)
{
	size_t b = 0;

	if (!metrics_sink)
		return;
	if (latency_ms < 0)
		latency_ms = 0;
	while (b < EM_METRICS_JOB_BUCKETS && (double)latency_ms / 1000.0 > em_metrics_job_le[b])
		b++;
	em_metrics_add(&metrics_sink->job_buckets[b], 1);
	em_metrics_add(&metrics_sink->job_latency_ms, (uint64_t)latency_ms);
}

void em_metrics_appendf(bson_string_t *out, const char *fmt, ...)
{
	va_list ap;
	char buf[512];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > 0)
		bson_string_append(out, buf);
}

void em_metrics_events_render(const struct em_metrics_slot *slots, size_t nslots, bool jobs,
			      bson_string_t *out)
{
	for (size_t e = 0; e < EM_EV_COUNT; e++) {
		const struct metrics_event_desc *d = &metrics_events[e];
		uint64_t sum = 0;

		for (size_t s = 0; s < nslots; s++)
			sum += em_metrics_read(&slots[s].events[e]);
		/* mails and job runs happen in emporium-worker only */
		if (!jobs && e >= EM_EV_MAIL_SENT)
			continue;
		if (d->help)
			em_metrics_appendf(out, "# HELP %s %s\n# TYPE %s counter\n", d->name, d->help,
					d->name);
		em_metrics_appendf(out, "%s%s%s%s %" PRIu64 "\n", d->name, d->labels[0] ? "{" : "",
				d->labels, d->labels[0] ? "}" : "", sum);
	}
	if (jobs) {
		uint64_t cum = 0, sum_ms = 0;

		bson_string_append(out, "# HELP emporium_job_latency_seconds Time from when a job "
					"was due to its outcome (done, retry or dead).\n"
					"# TYPE emporium_job_latency_seconds histogram\n");
		for (size_t b = 0; b <= EM_METRICS_JOB_BUCKETS; b++) {
			for (size_t s = 0; s < nslots; s++)
				cum += em_metrics_read(&slots[s].job_buckets[b]);
			if (b < EM_METRICS_JOB_BUCKETS)
				em_metrics_appendf(out, "emporium_job_latency_seconds_bucket{le=\"%g\"} %"
						PRIu64 "\n", em_metrics_job_le[b], cum);
		}
		for (size_t s = 0; s < nslots; s++)
			sum_ms += em_metrics_read(&slots[s].job_latency_ms);
		em_metrics_appendf(out,
				"emporium_job_latency_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n"
				"emporium_job_latency_seconds_sum %.3f\n"
				"emporium_job_latency_seconds_count %" PRIu64 "\n",
				cum, (double)sum_ms / 1000.0, cum);
	}
}
