/*
 * jobs_routes.c - the admin's view of the outbox: list jobs by status,
 * retry a dead one. Role admin.
 *
 * The listing never shows a payload's vars: they hold verification codes
 * and reset codes. It shows who a mail goes to and which template, which
 * is what an operator needs to tell one job from another.
 */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "core/ids.h"
#include "core/time.h"
#include "http/page.h"
#include "store/page.h"
#include "jobs/jobs.h"
#include "jobs/jobs_routes.h"

#define JOBS_LIST_DEFAULT 20

static const char *const jobs_statuses[] = { "pending", "running", "done", "dead", NULL };

/* Adds key: an ISO 8601 UTC time for a BSON date, null for anything else. */
static void jobs_json_date(json_object *o, const bson_t *doc, const char *key)
{
	bson_iter_t it;
	char buf[EM_TIME_RFC3339_SIZE];

	if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_DATE_TIME(&it) ||
	    !em_time_rfc3339(bson_iter_date_time(&it), buf, sizeof(buf))) {
		json_object_object_add(o, key, NULL);
		return;
	}
	json_object_object_add(o, key, json_object_new_string(buf));
}

/* Adds key: the string at path in doc, or null. */
static void jobs_json_string(json_object *o, const bson_t *doc, const char *path,
			     const char *key)
{
	bson_iter_t it, found;

	if (bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, path, &found) &&
	    BSON_ITER_HOLDS_UTF8(&found))
		json_object_object_add(o, key, json_object_new_string(bson_iter_utf8(&found, NULL)));
	else
		json_object_object_add(o, key, NULL);
}

/* One job as the admin API shows it (see docs/api/jobs.yaml). */
static json_object *jobs_item_json(const bson_t *doc)
{
	json_object *o = json_object_new_object();
	bson_iter_t it;
	char hex[25];

	if (!o)
		return NULL;
	if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_OID(&it)) {
		bson_oid_to_string(bson_iter_oid(&it), hex);
		json_object_object_add(o, "id", json_object_new_string(hex));
	}
	jobs_json_string(o, doc, "type", "type");
	jobs_json_string(o, doc, "status", "status");
	if (bson_iter_init_find(&it, doc, "attempts") && BSON_ITER_HOLDS_NUMBER(&it))
		json_object_object_add(o, "attempts", json_object_new_int64(bson_iter_as_int64(&it)));
	else
		json_object_object_add(o, "attempts", json_object_new_int(0));
	jobs_json_string(o, doc, "payload.to", "to");
	jobs_json_string(o, doc, "payload.template", "template");
	jobs_json_string(o, doc, "last_error", "last_error");
	jobs_json_string(o, doc, "message_id", "message_id");
	jobs_json_date(o, doc, "created_at");
	jobs_json_date(o, doc, "updated_at");
	jobs_json_date(o, doc, "run_after");
	jobs_json_date(o, doc, "lease_until");
	jobs_json_date(o, doc, "sent_at");
	jobs_json_date(o, doc, "finished_at");
	jobs_json_date(o, doc, "dead_at");
	return o;
}

/* The fields the listing reads: never payload.vars. */
static void jobs_projection(bson_t *proj)
{
	static const char *const fields[] = {
		"type", "status", "attempts", "payload.to", "payload.template", "last_error",
		"message_id", "created_at", "updated_at", "run_after", "lease_until", "sent_at",
		"finished_at", "dead_at",
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		BSON_APPEND_INT32(proj, fields[i], 1);
}

static json_object *jobs_item_render(const bson_t *doc, void *ctx)
{
	(void)ctx;
	return jobs_item_json(doc);
}

/* GET /api/v1/admin/jobs?status=&limit=&cursor= (newest first) */
static bool jobs_admin_list(struct em_request *req, struct em_error *err)
{
	static const char *const params[] = { "status", "limit", "cursor", NULL };
	const char *status = em_request_query(req, "status");
	bson_t filter = BSON_INITIALIZER, proj = BSON_INITIALIZER;
	bool ok = false;

	if (!em_request_query_check(req, params, 200, err))
		goto done;
	if (status) {
		size_t i;

		for (i = 0; jobs_statuses[i] && strcmp(jobs_statuses[i], status) != 0; i++)
			;
		if (!jobs_statuses[i]) {
			em_error_setc(err, EM_ERR_INVALID, "status", EM_CODE_INVALID_VALUE,
				      "status must be pending, running, done or dead");
			goto done;
		}
		BSON_APPEND_UTF8(&filter, "status", status);
	}
	jobs_projection(&proj);
	ok = em_page_list_by_id(req, &req->app->store, "jobs", &filter, &proj, true,
				JOBS_LIST_DEFAULT, jobs_item_render, NULL, "list jobs", err);
done:
	bson_destroy(&filter);
	bson_destroy(&proj);
	return ok;
}

/*
 * POST /api/v1/admin/jobs/{id}/retry: a dead job back to pending with a
 * fresh set of attempts, due now. Only dead jobs: retrying a pending or
 * running one would race the worker that has it.
 */
static bool jobs_admin_retry(struct em_request *req, struct em_error *err)
{
	const char *id = em_request_path_param(req, "id");
	mongoc_collection_t *coll = NULL;
	mongoc_find_and_modify_opts_t *fam = NULL;
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, reply, set, unset;
	bson_t proj = BSON_INITIALIZER, fopts = BSON_INITIALIZER, projdoc;
	bson_error_t berr;
	bson_iter_t it;
	bson_oid_t oid;
	int64_t now = em_now_ms();
	json_object *o;
	bool ok = false;

	bson_init(&reply);
	if (!em_oid_parse(id, &oid)) {
		em_error_set(err, EM_ERR_INVALID, "id", "not a job id");
		goto done;
	}
	BSON_APPEND_OID(&filter, "_id", &oid);
	BSON_APPEND_UTF8(&filter, "status", "dead");
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
	BSON_APPEND_UTF8(&set, "status", "pending");
	BSON_APPEND_INT32(&set, "attempts", 0);
	BSON_APPEND_DATE_TIME(&set, "run_after", now);
	BSON_APPEND_NULL(&set, "lease_until");
	BSON_APPEND_NULL(&set, "lease_owner");
	BSON_APPEND_DATE_TIME(&set, "retried_at", now);
	BSON_APPEND_DATE_TIME(&set, "updated_at", now);
	bson_append_document_end(&update, &set);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$unset", &unset);
	BSON_APPEND_UTF8(&unset, "dead_at", "");
	bson_append_document_end(&update, &unset);
	jobs_projection(&proj);

	coll = store_collection(&req->app->store, "jobs");
	fam = mongoc_find_and_modify_opts_new();
	if (!mongoc_find_and_modify_opts_set_update(fam, &update) ||
	    !mongoc_find_and_modify_opts_set_fields(fam, &proj) ||
	    !mongoc_find_and_modify_opts_set_flags(fam, MONGOC_FIND_AND_MODIFY_RETURN_NEW)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot build the retry");
		goto done;
	}
	/* the driver initialises reply whatever happens */
	bson_destroy(&reply);
	if (!mongoc_collection_find_and_modify_with_opts(coll, &filter, fam, &reply, &berr)) {
		store_error_set(err, &berr, "retry a job");
		goto done;
	}
	if (bson_iter_init_find(&it, &reply, "value") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
		const uint8_t *data;
		uint32_t len;
		bson_t job;

		bson_iter_document(&it, &len, &data);
		if (!bson_init_static(&job, data, len) || !(o = jobs_item_json(&job))) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot render the job");
			goto done;
		}
		em_response_json(req, 200, o);
		ok = true;
		goto done;
	}
	/* not retried: tell an unknown job from one in another state */
	{
		mongoc_cursor_t *cur;
		const bson_t *doc;
		bson_t idf = BSON_INITIALIZER;

		BSON_APPEND_OID(&idf, "_id", &oid);
		BSON_APPEND_DOCUMENT_BEGIN(&fopts, "projection", &projdoc);
		BSON_APPEND_INT32(&projdoc, "status", 1);
		bson_append_document_end(&fopts, &projdoc);
		cur = mongoc_collection_find_with_opts(coll, &idf, &fopts, NULL);
		if (mongoc_cursor_next(cur, &doc)) {
			const char *st = "unknown";

			if (bson_iter_init_find(&it, doc, "status") && BSON_ITER_HOLDS_UTF8(&it))
				st = bson_iter_utf8(&it, NULL);
			em_error_set(err, EM_ERR_CONFLICT, "status",
				     "only a dead job can be retried; this job is %s", st);
		} else if (mongoc_cursor_error(cur, &berr)) {
			store_error_set(err, &berr, "read a job");
		} else {
			em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such job");
		}
		mongoc_cursor_destroy(cur);
		bson_destroy(&idf);
	}
done:
	bson_destroy(&reply);
	bson_destroy(&filter);
	bson_destroy(&update);
	bson_destroy(&proj);
	bson_destroy(&fopts);
	if (fam)
		mongoc_find_and_modify_opts_destroy(fam);
	if (coll)
		mongoc_collection_destroy(coll);
	return ok;
}

static const struct em_route jobs_admin_table[] = {
	{ "GET", "/api/v1/admin/jobs", jobs_admin_list, EM_ROLE_ADMIN, EM_BODY_NONE, NULL },
	{ "POST", "/api/v1/admin/jobs/{id}/retry", jobs_admin_retry, EM_ROLE_ADMIN, EM_BODY_NONE,
	  NULL },
};

const struct em_route_table jobs_admin_routes = EM_ROUTE_TABLE("jobs", jobs_admin_table);
