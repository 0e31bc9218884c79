/*
 * Integration tests for the jobs admin API (split from test_jobs.c),
 * through HTTPS -> nginx -> emporium-fcgi, on the stack's database,
 * worker and catcher: the whole production path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <mongoc/mongoc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jobs/jobs.h"
#include "harness_jobs.h"

static char admin_auth[2200], staff_auth[2200], customer_auth[2200];

static void tokens(void)
{
	char token[2048], id[32];

	if (admin_auth[0])
		return;
	/* through the real sign-up: register, mail, verify, login (and the
	 * role granted by an admin that create-admin made) */
	h_user_register("admin", token, sizeof(token), id, sizeof(id));
	h_bearer(token, admin_auth, sizeof(admin_auth));
	h_user_register("staff", token, sizeof(token), id, sizeof(id));
	h_bearer(token, staff_auth, sizeof(staff_auth));
	h_user_register("customer", token, sizeof(token), id, sizeof(id));
	h_bearer(token, customer_auth, sizeof(customer_auth));
}

static struct h_resp as(const char *auth, const char *method, const char *path)
{
	const char *hdrs[] = { auth, NULL };

	return h_request(method, path, method[0] == 'P' ? "" : NULL, 0, auth ? hdrs : NULL);
}

/* Inserts a job parked as dead (as the worker leaves one); returns its id. */
static void insert_dead(struct em_store *st, const char *to, const char *code, const char *key,
			char *id_hex)
{
	mongoc_collection_t *coll = store_collection(st, "jobs");
	int64_t now = (int64_t)time(NULL) * 1000;
	bson_error_t berr;
	bson_oid_t oid;
	bson_t *doc;

	bson_oid_init(&oid, NULL);
	bson_oid_to_string(&oid, id_hex);
	doc = BCON_NEW("_id", BCON_OID(&oid), "type", BCON_UTF8("email"), "payload", "{", "to",
		       BCON_UTF8(to), "template", BCON_UTF8("verify_email"), "vars", "{", "name",
		       BCON_UTF8("Fay"), "code", BCON_UTF8(code), "}", "}", "dedupe_key",
		       BCON_UTF8(key), "status", BCON_UTF8("dead"), "run_after",
		       BCON_DATE_TIME(now - 60000), "attempts", BCON_INT32(8), "lease_until",
		       BCON_NULL, "lease_owner", BCON_NULL, "last_error",
		       BCON_UTF8("SMTP: Couldn't connect to server (reply 0)"), "dead_at",
		       BCON_DATE_TIME(now), "created_at", BCON_DATE_TIME(now - 600000),
		       "updated_at", BCON_DATE_TIME(now));
	if (!mongoc_collection_insert_one(coll, doc, NULL, NULL, &berr))
		fail_msg("insert: %s", berr.message);
	bson_destroy(doc);
	mongoc_collection_destroy(coll);
}

/* Dead job -> admin retry over HTTPS -> the stack's worker delivers it. */
static void test_admin_retry_delivers(void **state)
{
	struct em_store st;
	char id[25], path[128], key[64], to[96], *mail;
	struct h_resp r;
	json_object *o, *v;
	bson_t *job;

	(void)state;
	tokens();
	hj_stack_store_open(&st);
	snprintf(key, sizeof(key), "retry:%d:%ld", (int)getpid(), (long)time(NULL));
	snprintf(to, sizeof(to), "fay-%d@example.test", (int)getpid());
	insert_dead(&st, to, "650021", key, id);
	snprintf(path, sizeof(path), "/api/v1/admin/jobs/%s/retry", id);

	r = as(staff_auth, "POST", path);
	h_assert_problem(&r, 403);
	h_resp_free(&r);
	r = as(NULL, "POST", path);
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	job = hj_job_get(&st, key);
	assert_string_equal(hj_job_str(job, "status"), "dead");
	bson_destroy(job);

	r = as(admin_auth, "POST", path);
	assert_int_equal(r.status, 200);
	o = h_json(&r);
	assert_true(json_object_object_get_ex(o, "id", &v));
	assert_string_equal(json_object_get_string(v), id);
	assert_true(json_object_object_get_ex(o, "attempts", &v));
	assert_int_equal(json_object_get_int(v), 0);
	assert_true(json_object_object_get_ex(o, "status", &v));
	/* pending, or already taken by the stack's worker */
	assert_true(strcmp(json_object_get_string(v), "pending") == 0);
	assert_false(json_object_object_get_ex(o, "vars", &v));
	assert_null(strstr(r.body, "650021"));
	json_object_put(o);
	h_resp_free(&r);

	mail = h_mail_wait(to, "650021", 15000);
	assert_non_null(mail);
	assert_non_null(strstr(mail, "Subject: Your Emporium verification code: 650021"));
	free(mail);
	job = hj_job_wait(&st, key, "done", 1, 10000);
	assert_int_equal(hj_job_int(job, "attempts"), 1);
	bson_destroy(job);
	assert_int_equal(h_db_count("jobs", "{\"status\": \"dead\", \"last_error\": \"x-none\"}"), 0);

	/* only a dead job can be retried */
	r = as(admin_auth, "POST", path);
	h_assert_problem(&r, 409);
	assert_non_null(strstr(r.body, "done"));
	h_resp_free(&r);
	r = as(admin_auth, "POST", "/api/v1/admin/jobs/0123456789abcdef01234567/retry");
	h_assert_problem(&r, 404);
	h_resp_free(&r);
	r = as(admin_auth, "POST", "/api/v1/admin/jobs/not-an-id/retry");
	h_assert_problem(&r, 400);
	assert_non_null(strstr(r.body, "\"id\""));
	h_resp_free(&r);
	store_close(&st);
}

/* Listing: roles, filters, keyset pages, bad parameters, no secrets. */
static void test_admin_list(void **state)
{
	struct em_store st;
	char ids[5][25], key[64], to[96], path[256], cursor[64] = "";
	const char *bad[] = {
		"/api/v1/admin/jobs?limit=0", "/api/v1/admin/jobs?limit=101",
		"/api/v1/admin/jobs?limit=abc", "/api/v1/admin/jobs?limit=-1",
		"/api/v1/admin/jobs?status=bogus", "/api/v1/admin/jobs?cursor=%21%21%21",
		"/api/v1/admin/jobs?cursor=AAAAAAAAAAAAAAAAAAAAAAAA",
		"/api/v1/admin/jobs?cursor=AAAAAAAAAAAAAAA",
		"/api/v1/admin/jobs?stauts=dead", "/api/v1/admin/jobs?status=dead&status=done",
		"/api/v1/admin/jobs?status[$ne]=done",
	};
	/* a misspelt or repeated filter is refused, not ignored */
	const char *bad_field[] = { "limit", "limit", "limit", "limit", "status", "cursor",
				    "cursor", "cursor", "stauts", "status", "status[$ne]" };
	int found[5] = { 0 }, pages = 0;
	struct h_resp r;
	char *mail;

	(void)state;
	tokens();
	r = as(NULL, "GET", "/api/v1/admin/jobs");
	h_assert_problem(&r, 401);
	h_resp_free(&r);
	r = as(customer_auth, "GET", "/api/v1/admin/jobs");
	h_assert_problem(&r, 403);
	h_resp_free(&r);
	r = as(staff_auth, "GET", "/api/v1/admin/jobs?status=dead");
	h_assert_problem(&r, 403);
	h_resp_free(&r);

	hj_stack_store_open(&st);
	for (int i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "list:%d:%ld:%d", (int)getpid(), (long)time(NULL), i);
		snprintf(to, sizeof(to), "list%d@example.test", i);
		insert_dead(&st, to, "secret-code-918273", key, ids[i]);
	}
	/* page through every dead job, two at a time */
	for (;;) {
		json_object *o, *items, *next;

		snprintf(path, sizeof(path), "/api/v1/admin/jobs?status=dead&limit=2%s%s",
			 cursor[0] ? "&cursor=" : "", cursor);
		r = as(admin_auth, "GET", path);
		assert_int_equal(r.status, 200);
		assert_null(strstr(r.body, "secret-code"));
		o = h_json(&r);
		assert_true(json_object_object_get_ex(o, "items", &items));
		assert_true(json_object_array_length(items) <= 2);
		for (size_t i = 0; i < json_object_array_length(items); i++) {
			json_object *it = json_object_array_get_idx(items, i), *v;

			assert_true(json_object_object_get_ex(it, "status", &v));
			assert_string_equal(json_object_get_string(v), "dead");
			assert_true(json_object_object_get_ex(it, "type", &v));
			assert_true(json_object_object_get_ex(it, "to", &v));
			assert_true(json_object_object_get_ex(it, "template", &v));
			assert_true(json_object_object_get_ex(it, "last_error", &v));
			assert_true(json_object_object_get_ex(it, "created_at", &v));
			assert_false(json_object_object_get_ex(it, "payload", &v));
			assert_false(json_object_object_get_ex(it, "vars", &v));
			assert_true(json_object_object_get_ex(it, "id", &v));
			for (int k = 0; k < 5; k++)
				if (strcmp(json_object_get_string(v), ids[k]) == 0)
					found[k]++;
		}
		assert_true(json_object_object_get_ex(o, "next_cursor", &next));
		pages++;
		if (json_object_is_type(next, json_type_null)) {
			json_object_put(o);
			h_resp_free(&r);
			break;
		}
		assert_int_equal(json_object_array_length(items), 2);
		snprintf(cursor, sizeof(cursor), "%s", json_object_get_string(next));
		json_object_put(o);
		h_resp_free(&r);
		assert_true(pages < 200);
	}
	assert_true(pages >= 3);
	for (int k = 0; k < 5; k++)
		assert_int_equal(found[k], 1);

	/* other statuses filter; no status lists all */
	r = as(admin_auth, "GET", "/api/v1/admin/jobs?status=done&limit=100");
	assert_int_equal(r.status, 200);
	for (int k = 0; k < 5; k++)
		assert_null(strstr(r.body, ids[k]));
	h_resp_free(&r);
	r = as(admin_auth, "GET", "/api/v1/admin/jobs?limit=5");
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, ids[4])); /* the newest */
	h_resp_free(&r);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char field[48];

		r = as(admin_auth, "GET", bad[i]);
		h_assert_problem(&r, 400);
		snprintf(field, sizeof(field), "\"%s\"", bad_field[i]);
		if (!strstr(r.body, field))
			fail_msg("%s: %s", bad[i], r.body);
		h_resp_free(&r);
	}
	/* a pending job cannot be retried */
	{
		char pid_key[64], path2[128];
		bson_t *job;
		bson_iter_t it;

		snprintf(pid_key, sizeof(pid_key), "list:pending:%d:%ld", (int)getpid(),
			 (long)time(NULL));
		hj_enqueue_mail(&st, "gus@example.test", "account_exists", "{\"name\": \"Gus\"}",
			     pid_key);
		job = hj_job_get(&st, pid_key);
		assert_true(bson_iter_init_find(&it, job, "_id"));
		{
			char hex[25];

			bson_oid_to_string(bson_iter_oid(&it), hex);
			snprintf(path2, sizeof(path2), "/api/v1/admin/jobs/%s/retry", hex);
		}
		bson_destroy(job);
		r = as(admin_auth, "POST", path2);
		h_assert_problem(&r, 409);
		h_resp_free(&r);
		/* and it is still delivered by the stack's worker */
		mail = h_mail_wait("gus@example.test", NULL, 10000);
		assert_non_null(mail);
		free(mail);
	}
	store_close(&st);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admin_retry_delivers),
		cmocka_unit_test(test_admin_list),
	};
	int rc;

	(void)argc;
	h_init();
	if (!hj_init(argv[0]))
		return 2;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	hj_finish(rc);
	h_cleanup();
	return rc;
}
