/*
 * csp_routes.c - POST /api/v1/csp-reports: browsers report Content
 * Security Policy violations here (the CSP nginx sends names this path in
 * report-uri). A spike of reports is how a shop learns that someone is
 * trying script injection against its admin panel.
 *
 * Browsers send {"csp-report": {...}} as application/csp-report. Only a
 * fixed set of string fields is kept, each bounded, and stored with typed
 * bson appends; the report document itself never reaches MongoDB.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "core/json.h"
#include "ops/ops.h"

#define CSP_FIELD_MAX 1024

static const char *const csp_fields[] = {
	"document-uri", "referrer", "violated-directive", "effective-directive",
	"original-policy", "blocked-uri", "source-file", "disposition",
};

static bool ops_csp_report_create(struct em_request *req, struct em_error *err)
{
	json_object *report = NULL;
	mongoc_collection_t *coll = NULL;
	bson_t doc = BSON_INITIALIZER;
	bson_error_t berr;
	bool ok = false;

	if (!json_object_is_type(req->json, json_type_object) ||
	    !json_object_object_get_ex(req->json, "csp-report", &report) ||
	    !json_object_is_type(report, json_type_object)) {
		em_error_set(err, EM_ERR_INVALID, "csp-report",
			     "the body must be an object with a csp-report object");
		goto done;
	}
	BSON_APPEND_DATE_TIME(&doc, "received_at", (int64_t)time(NULL) * 1000);
	for (size_t i = 0; i < sizeof(csp_fields) / sizeof(csp_fields[0]); i++) {
		const char *v = NULL;
		char key[64];

		if (!em_json_get_string(report, csp_fields[i], 0, CSP_FIELD_MAX, false, &v, err))
			goto done;
		if (!v)
			continue;
		/* MongoDB field names: '-' is fine, but keep them plain. */
		snprintf(key, sizeof(key), "%s", csp_fields[i]);
		for (char *p = key; *p; p++)
			if (*p == '-')
				*p = '_';
		BSON_APPEND_UTF8(&doc, key, v);
	}
	if (req->remote_addr)
		BSON_APPEND_UTF8(&doc, "remote_addr", req->remote_addr);
	coll = store_collection(&req->app->store, "csp_reports");
	if (!mongoc_collection_insert_one(coll, &doc, NULL, NULL, &berr)) {
		store_error_set(err, &berr, "insert csp report");
		goto done;
	}
	em_response_empty(req, 204);
	ok = true;
done:
	if (coll)
		mongoc_collection_destroy(coll);
	bson_destroy(&doc);
	return ok;
}

static const char *const csp_types[] = { "application/csp-report", NULL };

static const struct em_route ops_csp_table[] = {
	{ "POST", "/api/v1/csp-reports", ops_csp_report_create, EM_ROLE_PUBLIC,
	  EM_BODY_JSON, csp_types },
};

const struct em_route_table ops_csp_routes = EM_ROUTE_TABLE("csp", ops_csp_table);
