#include "http/metrics.h"

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
