/*
 * metrics_routes.c - GET /metrics: the FastCGI pool's counters in the
 * Prometheus text format (0.0.4), summed over every worker's slot of the
 * master's shared area (src/http/metrics.h): requests, the pool, and the
 * events the application counts (database errors, transactions,
 * payments, stock-outs), plus the job queue's depth
 * by status read from MongoDB at scrape time. nginx answers it only to
 * NGX_METRICS_ALLOW (loopback by default); it is not under /api/.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "ops/ops.h"

/* The requests of one route summed over every slot. */
static void metrics_route_sum(const struct em_metrics *m, size_t r, struct em_metrics_route *sum)
{
	memset(sum, 0, sizeof *sum);
	for (size_t s = 0; s < EM_METRICS_SLOTS; s++) {
		const struct em_metrics_route *x = &m->slots[s].routes[r];

		for (size_t c = 0; c < EM_METRICS_CLASSES; c++)
			sum->requests[c] += em_metrics_read(&x->requests[c]);
		for (size_t b = 0; b <= EM_METRICS_BUCKETS; b++)
			sum->buckets[b] += em_metrics_read(&x->buckets[b]);
		sum->duration_us += em_metrics_read(&x->duration_us);
	}
}

static void metrics_http(const struct em_app *app, bson_string_t *out)
{
	const struct em_metrics *m = app->metrics;
	uint64_t in_flight = 0;

	bson_string_append(out, "# HELP emporium_http_requests_total Requests answered, by route "
				"and status class.\n# TYPE emporium_http_requests_total counter\n");
	for (size_t r = 0; r <= app->nmetric_routes; r++) {
		struct em_metrics_route sum;
		const char *method = r ? app->metric_routes[r - 1]->method : "";
		const char *route = r ? app->metric_routes[r - 1]->pattern : "(none)";

		metrics_route_sum(m, r, &sum);
		for (size_t c = 0; c < EM_METRICS_CLASSES; c++)
			if (sum.requests[c])
				em_metrics_appendf(out,
					     "emporium_http_requests_total{method=\"%s\",route=\"%s\","
					     "code=\"%zuxx\"} %" PRIu64 "\n",
					     method, route, c + 1, sum.requests[c]);
	}
	bson_string_append(out, "# HELP emporium_http_request_duration_seconds Time from the "
				"request read to the response written.\n"
				"# TYPE emporium_http_request_duration_seconds histogram\n");
	for (size_t r = 0; r <= app->nmetric_routes; r++) {
		struct em_metrics_route sum;
		const char *method = r ? app->metric_routes[r - 1]->method : "";
		const char *route = r ? app->metric_routes[r - 1]->pattern : "(none)";
		uint64_t cum = 0;

		metrics_route_sum(m, r, &sum);
		for (size_t b = 0; b <= EM_METRICS_BUCKETS; b++)
			cum += sum.buckets[b];
		if (!cum)
			continue;
		cum = 0;
		for (size_t b = 0; b < EM_METRICS_BUCKETS; b++) {
			cum += sum.buckets[b];
			em_metrics_appendf(out,
				     "emporium_http_request_duration_seconds_bucket{method=\"%s\","
				     "route=\"%s\",le=\"%g\"} %" PRIu64 "\n",
				     method, route, em_metrics_bucket_le[b], cum);
		}
		cum += sum.buckets[EM_METRICS_BUCKETS];
		em_metrics_appendf(out,
			     "emporium_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\","
			     "le=\"+Inf\"} %" PRIu64 "\n"
			     "emporium_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} %.6f\n"
			     "emporium_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} %"
			     PRIu64 "\n",
			     method, route, cum, method, route, (double)sum.duration_us / 1e6, method,
			     route, cum);
	}
	for (size_t s = 0; s < EM_METRICS_SLOTS; s++)
		in_flight += em_metrics_read(&m->slots[s].in_flight);
	em_metrics_appendf(out,
		     "# HELP emporium_http_requests_in_flight Requests being served now.\n"
		     "# TYPE emporium_http_requests_in_flight gauge\n"
		     "emporium_http_requests_in_flight %" PRIu64 "\n"
		     "# HELP emporium_fcgi_workers_started_total Workers the master forked.\n"
		     "# TYPE emporium_fcgi_workers_started_total counter\n"
		     "emporium_fcgi_workers_started_total %" PRIu64 "\n",
		     in_flight, em_metrics_read(&m->worker_starts));
	em_metrics_appendf(out,
		     "# HELP emporium_fcgi_worker_exits_total Workers that ended, by how.\n"
		     "# TYPE emporium_fcgi_worker_exits_total counter\n"
		     "emporium_fcgi_worker_exits_total{reason=\"recycled\"} %" PRIu64 "\n"
		     "emporium_fcgi_worker_exits_total{reason=\"retired\"} %" PRIu64 "\n"
		     "emporium_fcgi_worker_exits_total{reason=\"timeout\"} %" PRIu64 "\n"
		     "emporium_fcgi_worker_exits_total{reason=\"crash\"} %" PRIu64 "\n",
		     em_metrics_read(&m->worker_exits_recycled),
		     em_metrics_read(&m->worker_exits_retired),
		     em_metrics_read(&m->worker_exits_timeout),
		     em_metrics_read(&m->worker_exits_crash));
}

/* The outbox's depth by status; left out (with a comment) when MongoDB
 * does not answer: a scrape must not fail because the database does. */
static void metrics_jobs(struct em_request *req, bson_string_t *out)
{
	static const char *const statuses[] = { "pending", "running", "done", "dead" };
	mongoc_collection_t *coll = store_collection(&req->app->store, "jobs");
	bool header = false;

	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
		bson_t *filter = BCON_NEW("status", BCON_UTF8(statuses[i]));
		bson_error_t berr;
		int64_t n = mongoc_collection_count_documents(coll, filter, NULL, NULL, NULL, &berr);

		bson_destroy(filter);
		if (n < 0) {
			bson_string_append(out, "# the job queue could not be read\n");
			break;
		}
		if (!header) {
			bson_string_append(out, "# HELP emporium_jobs Jobs in the outbox, by status.\n"
						"# TYPE emporium_jobs gauge\n");
			header = true;
		}
		em_metrics_appendf(out, "emporium_jobs{status=\"%s\"} %" PRId64 "\n", statuses[i], n);
	}
	mongoc_collection_destroy(coll);
}

static bool ops_metrics_get(struct em_request *req, struct em_error *err)
{
	bson_string_t *out = bson_string_new(NULL);

	(void)err;
	if (req->app->metrics) {
		metrics_http(req->app, out);
		em_metrics_events_render(req->app->metrics->slots, EM_METRICS_SLOTS, false, out);
	} else
		bson_string_append(out, "# the pool's counters are not available\n");
	metrics_jobs(req, out);
	em_response_text(req, 200, "text/plain; version=0.0.4; charset=utf-8", out->str, out->len);
	bson_string_free(out, true);
	return true;
}

static const struct em_route ops_metrics_table[] = {
	{ "GET", "/metrics", ops_metrics_get, EM_ROLE_PUBLIC, EM_BODY_NONE, NULL },
};

const struct em_route_table ops_metrics_routes = EM_ROUTE_TABLE("metrics", ops_metrics_table);
