/*
 * metrics.h - the FastCGI pool's counters, for GET /metrics (Prometheus).
 *
 * The master maps one shared, anonymous area before it forks any worker
 * (em_metrics_create): a header the master alone writes (workers
 * started, how they ended) and one slot per worker index, which only the
 * worker in that index writes - so the hot path takes no lock, and a
 * respawned worker keeps adding to its slot, so every counter stays
 * monotonic as Prometheus expects. A scrape (any worker) sums the slots.
 * Routes are numbered in the order of the route tables, which every
 * process of one binary shares; 0 is "no route" (404, 405, refused before
 * routing).
 */
#ifndef EM_HTTP_METRICS_H
#define EM_HTTP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>

#define EM_METRICS_SLOTS 64
#define EM_METRICS_ROUTES 128
#define EM_METRICS_BUCKETS 12     /* 1 ms .. 10 s, then +Inf */
#define EM_METRICS_CLASSES 5      /* 1xx-5xx */

struct em_metrics_route {
	uint64_t requests[EM_METRICS_CLASSES];
	uint64_t buckets[EM_METRICS_BUCKETS + 1];
	uint64_t duration_us;
};

/*
 * Events the application counts wherever they happen (the store, the
 * payments, the inventory, the job runner), in whichever process: a
 * FastCGI worker counts into its slot, emporium-worker into its own area,
 * a process without an area (emporium-admin, the master) counts nothing.
 * Grouped by metric: em_metrics_events_render() writes one HELP/TYPE per
 * name, in this order.
 */
enum em_metrics_event {
	EM_EV_DB_UNAVAILABLE,     /* emporium_db_errors_total{kind="unavailable"} */
	EM_EV_DB_DUPLICATE,       /* {kind="duplicate_key"} */
	EM_EV_DB_OTHER,           /* {kind="other"} */
	EM_EV_DB_CLIENT_REBUILD,  /* emporium_db_client_rebuilds_total */
	EM_EV_TXN_COMMITTED,      /* emporium_db_transactions_total{result="committed"} */
	EM_EV_TXN_ABORTED,        /* {result="aborted"}: a domain error or a database failure */
	EM_EV_TXN_GIVE_UP,        /* {result="given_up"}: out of retries (a 503) */
	EM_EV_TXN_RETRY,          /* emporium_db_transaction_retries_total{phase="transaction"} */
	EM_EV_TXN_COMMIT_RETRY,   /* {phase="commit"} */
	EM_EV_PAYMENT_PAID,       /* emporium_payments_total{outcome="paid"} */
	EM_EV_PAYMENT_REVIEW,     /* {outcome="review"}: paid, the gateway rates it risky */
	EM_EV_PAYMENT_LATE,       /* {outcome="late"}: paid after the order closed */
	EM_EV_PAYMENT_REPLAY,     /* {outcome="replay"} */
	EM_EV_PAYMENT_REFUSED,    /* {outcome="refused"}: failed a check */
	EM_EV_PAYMENT_REFUNDED,   /* {outcome="refunded"}: a refund completed */
	EM_EV_STOCK_OUT,          /* emporium_stock_outs_total: a variant reached 0 */
	/* from here on: emporium-worker only (the FastCGI pool shows none) */
	EM_EV_MAIL_SENT,          /* emporium_mails_total{result="sent"} */
	EM_EV_MAIL_FAILED,        /* {result="failed"} (each failed attempt) */
	EM_EV_JOB_DONE,           /* emporium_jobs_finished_total{outcome="done"} */
	EM_EV_JOB_RETRY,          /* {outcome="retry"} */
	EM_EV_JOB_DEAD,           /* {outcome="dead"} */
	EM_EV_COUNT
};

/* Job latency: from when a job was due (run_after) to its outcome. */
#define EM_METRICS_JOB_BUCKETS 10 /* 0.1 s .. 1 h, then +Inf */

struct em_metrics_slot {
	uint64_t in_flight;
	uint64_t requests;
	struct em_metrics_route routes[EM_METRICS_ROUTES];
	uint64_t events[EM_EV_COUNT];
	uint64_t job_buckets[EM_METRICS_JOB_BUCKETS + 1];
	uint64_t job_latency_ms;
};

struct em_metrics {
	uint64_t worker_starts;
	uint64_t worker_exits_recycled;   /* ended after EMPORIUM_MAX_REQUESTS */
	uint64_t worker_exits_retired;    /* ended by a reload or the stop */
	uint64_t worker_exits_timeout;    /* killed by the request timeout */
	uint64_t worker_exits_crash;      /* any other death */
	struct em_metrics_slot slots[EM_METRICS_SLOTS];
};

/* The shared area, zeroed; NULL (and logged) when it cannot be mapped. */
struct em_metrics *em_metrics_create(void);

/* The upper bounds of the duration buckets, in seconds. */
extern const double em_metrics_bucket_le[EM_METRICS_BUCKETS];

/* Adds one to a counter another process may read (relaxed, untorn). */
static inline void em_metrics_add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static inline uint64_t em_metrics_read(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

/* Counts one finished request of route index `route` in slot. */
void em_metrics_request(struct em_metrics_slot *slot, size_t route, int status,
			double duration_ms);

/*
 * Where this process counts its events from now on (NULL: nowhere). Set
 * once by a process after fork(), for itself: a FastCGI worker its slot,
 * emporium-worker its own area. Like the log's request context, it is
 * per process and never shared.
 */
void em_metrics_events_attach(struct em_metrics_slot *slot);

/* Counts one event now. */
void em_metrics_event(enum em_metrics_event ev);

/*
 * Counts one event of a change made in session (a store_txn_run
 * callback's; NULL: none, counted now). An attempt's events count only if
 * it commits: store_txn_run drops them when an attempt is retried or
 * aborted, so a retried transaction counts its events once.
 */
void em_metrics_event_in(const void *session, enum em_metrics_event ev);
void em_metrics_pending_drop(void);
void em_metrics_pending_commit(void);

/* Counts a finished job whose latency (due to done) was latency_ms. */
void em_metrics_job_latency(int64_t latency_ms);

/* The upper bounds of the job latency buckets, in seconds. */
extern const double em_metrics_job_le[EM_METRICS_JOB_BUCKETS];

/*
 * Appends the events of `nslots` slots, summed, in the Prometheus text
 * format (HELP and TYPE once per metric), and the job latency histogram
 * when `jobs` is set (only emporium-worker runs jobs).
 */
/* Appends one formatted line (at most 511 bytes) of an exposition to out. */
void em_metrics_appendf(bson_string_t *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void em_metrics_events_render(const struct em_metrics_slot *slots, size_t nslots, bool jobs,
			      bson_string_t *out);

#endif
