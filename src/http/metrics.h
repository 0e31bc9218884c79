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

#define EM_METRICS_SLOTS 64
#define EM_METRICS_ROUTES 128
#define EM_METRICS_BUCKETS 12     /* 1 ms .. 10 s, then +Inf */
#define EM_METRICS_CLASSES 5      /* 1xx-5xx */

struct em_metrics_route {
	uint64_t requests[EM_METRICS_CLASSES];
	uint64_t buckets[EM_METRICS_BUCKETS + 1];
	uint64_t duration_us;
};

struct em_metrics_slot {
	uint64_t in_flight;
	uint64_t requests;
	struct em_metrics_route routes[EM_METRICS_ROUTES];
};

struct em_metrics {
	uint64_t worker_starts;
	uint64_t worker_exits_clean;      /* recycled after max_requests, or retired */
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

#endif
