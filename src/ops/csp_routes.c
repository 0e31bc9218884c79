/*
 * csp_routes.c - POST /api/v1/csp-reports: browsers report Content
 * Security Policy violations here (the CSP nginx sends on the admin panel
 * and the API documentation names this path in report-uri). A spike of
 * reports is how a shop learns that someone is trying script injection
 * against its admin panel.
 *
 * The endpoint is anonymous, so what it stores is bounded whatever a
 * client sends: nginx allows 1 report per second per address (burst 5)
 * and 8 KiB a body, and a report is not kept as a document of its own but
 * counted. Collection csp_reports holds one counter per UTC day, violated
 * directive and blocked origin:
 *   { day: date, directive: string (<= 64), blocked: string (the blocked
 *     URI's scheme://host[:port], or its keyword: inline, eval, data...;
 *     <= 200), count: int64, received_at: date (first report, TTL 30 d),
 *     last_at: date, sample: { document_uri, source_file } (the first) }
 * with at most CSP_KEYS_PER_DAY counters a day: past that, reports of new
 * keys only increment the day's "(other)" counter. Browsers send
 * {"csp-report": {...}} as application/csp-report; only fixed string
 * fields are read, each bounded, and stored with typed bson appends.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "core/json.h"
#include "core/time.h"
#include "ops/ops.h"

#define CSP_FIELD_MAX 1024
#define CSP_DIRECTIVE_MAX 64
#define CSP_BLOCKED_MAX 200
#define CSP_SAMPLE_MAX 300
#define CSP_KEYS_PER_DAY 1000

/* What a report is counted under: the blocked URI's origin, or the keyword
 * a browser sends for inline code, eval, data: and the like. */
static void csp_blocked_key(const char *uri, char *out, size_t size)
{
	const char *scheme_end = uri ? strstr(uri, "://") : NULL;
	size_t n;

	if (!uri || !*uri) {
		snprintf(out, size, "(none)");
		return;
	}
	if (!scheme_end) {
		/* "inline", "eval", "data", "blob", ...: a word, possibly ":..." */
		n = strcspn(uri, ":/? ");
		snprintf(out, size, "%.*s", (int)(n < 32 ? n : 32), uri);
		return;
	}
	n = (size_t)(scheme_end - uri) + 3;
	n += strcspn(scheme_end + 3, "/?#");
	snprintf(out, size, "%.*s", (int)(n < size - 1 ? n : size - 1), uri);
}

/* The report's string member name, at most CSP_FIELD_MAX bytes, or NULL. */
static bool csp_field(json_object *report, const char *name, const char **out,
		      struct em_error *err)
{
	json_object *v;

	*out = NULL;
	/* a browser's report, not an API body: a null member is read as absent */
	if (json_object_object_get_ex(report, name, &v) && json_object_is_type(v, json_type_null))
		return true;
	return em_json_get_string(report, name, 0, CSP_FIELD_MAX, false, out, err);
}

/*
 * Adds one to the counter of (day, directive, blocked), creating it with
 * the first report as its sample; when the day already has
 * CSP_KEYS_PER_DAY counters, a new key counts under "(other)" instead.
 */
static bool csp_count(struct em_store *st, int64_t now, const char *directive,
		      const char *blocked, const char *document_uri, const char *source_file,
		      struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "csp_reports");
	int64_t day = now - now % (86400LL * 1000);
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, child, sample, reply;
	bson_t *opts = BCON_NEW("upsert", BCON_BOOL(true));
	bson_t *count_filter = BCON_NEW("day", BCON_DATE_TIME(day));
	bson_error_t berr;
	int64_t keys;
	bool ok = false;

	keys = mongoc_collection_count_documents(coll, count_filter, NULL, NULL, NULL, &berr);
	if (keys < 0) {
		store_error_set(err, &berr, "count csp reports");
		bson_init(&reply);
		goto done;
	}
	BSON_APPEND_DATE_TIME(&filter, "day", day);
	BSON_APPEND_UTF8(&filter, "directive", directive);
	BSON_APPEND_UTF8(&filter, "blocked", blocked);
	if (keys >= CSP_KEYS_PER_DAY) {
		/* only existing counters grow; anything new is "(other)" */
		bson_t *exists = BCON_NEW("day", BCON_DATE_TIME(day), "directive",
					  BCON_UTF8(directive), "blocked", BCON_UTF8(blocked));
		int64_t have = mongoc_collection_count_documents(coll, exists, NULL, NULL, NULL,
								 &berr);

		bson_destroy(exists);
		if (have < 0) {
			store_error_set(err, &berr, "count csp reports");
			bson_init(&reply);
			goto done;
		}
		if (have == 0) {
			bson_reinit(&filter);
			BSON_APPEND_DATE_TIME(&filter, "day", day);
			BSON_APPEND_UTF8(&filter, "directive", "(other)");
			BSON_APPEND_UTF8(&filter, "blocked", "(other)");
		}
	}
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &child);
	BSON_APPEND_INT64(&child, "count", 1);
	bson_append_document_end(&update, &child);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &child);
	BSON_APPEND_DATE_TIME(&child, "last_at", now);
	bson_append_document_end(&update, &child);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$setOnInsert", &child);
	BSON_APPEND_DATE_TIME(&child, "received_at", now);
	BSON_APPEND_DOCUMENT_BEGIN(&child, "sample", &sample);
	if (document_uri)
		bson_append_utf8(&sample, "document_uri", -1, document_uri,
				 (int)strnlen(document_uri, CSP_SAMPLE_MAX));
	if (source_file)
		bson_append_utf8(&sample, "source_file", -1, source_file,
				 (int)strnlen(source_file, CSP_SAMPLE_MAX));
	bson_append_document_end(&child, &sample);
	bson_append_document_end(&update, &child);
	/* two first reports of one key at once: the loser's upsert hits the
	 * unique index and is retried as a plain increment */
	for (int attempt = 0; attempt < 2; attempt++) {
		ok = mongoc_collection_update_one(coll, &filter, &update, opts, &reply, &berr);
		bson_destroy(&reply);
		if (ok || berr.code != 11000)
			break;
	}
	bson_init(&reply);
	if (!ok)
		store_error_set(err, &berr, "count csp report");
done:
	bson_destroy(&reply);
	bson_destroy(count_filter);
	bson_destroy(opts);
	bson_destroy(&filter);
	bson_destroy(&update);
	mongoc_collection_destroy(coll);
	return ok;
}

static bool ops_csp_report_create(struct em_request *req, struct em_error *err)
{
	json_object *report = NULL;
	const char *directive, *effective, *blocked_uri, *document_uri, *source_file;
	char blocked[CSP_BLOCKED_MAX + 1], dir[CSP_DIRECTIVE_MAX + 1];

	if (!json_object_is_type(req->json, json_type_object) ||
	    !json_object_object_get_ex(req->json, "csp-report", &report) ||
	    !json_object_is_type(report, json_type_object)) {
		em_error_set(err, EM_ERR_INVALID, "csp-report",
			     "the body must be an object with a csp-report object");
		return false;
	}
	if (!csp_field(report, "violated-directive", &directive, err) ||
	    !csp_field(report, "effective-directive", &effective, err) ||
	    !csp_field(report, "blocked-uri", &blocked_uri, err) ||
	    !csp_field(report, "document-uri", &document_uri, err) ||
	    !csp_field(report, "source-file", &source_file, err))
		return false;
	/* the directive's name only ("script-src-elem"), not the policy text */
	if (!directive)
		directive = effective ? effective : "(none)";
	snprintf(dir, sizeof(dir), "%.*s", (int)strcspn(directive, " "), directive);
	csp_blocked_key(blocked_uri, blocked, sizeof(blocked));
	if (!csp_count(&req->app->store, em_now_ms(), dir, blocked, document_uri,
		       source_file, err))
		return false;
	em_response_empty(req, 204);
	return true;
}

static const char *const csp_types[] = { "application/csp-report", NULL };

static const struct em_route ops_csp_table[] = {
	{ "POST", "/api/v1/csp-reports", ops_csp_report_create, EM_ROLE_PUBLIC,
	  EM_BODY_JSON, csp_types },
};

const struct em_route_table ops_csp_routes = EM_ROUTE_TABLE("csp", ops_csp_table);
