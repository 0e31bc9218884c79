/*
 * Unit tests for the module list (src/app/modules.c): every descriptor is
 * complete and no two modules claim the same thing - a route, a variable,
 * an index name, a job type, a command.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "app/modules.h"

/* Two patterns collide when they match the same paths: equal segment by
 * segment, where any two {placeholders} are equal. */
static bool patterns_collide(const char *a, const char *b)
{
	while (*a && *b) {
		const char *ea = strchr(a + 1, '/'), *eb = strchr(b + 1, '/');
		size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
		bool pa = la > 2 && a[1] == '{', pb = lb > 2 && b[1] == '{';

		if (!(pa && pb) && (la != lb || memcmp(a, b, la) != 0))
			return false;
		a += la;
		b += lb;
	}
	return *a == '\0' && *b == '\0';
}

static void test_patterns_collide(void **state)
{
	(void)state;
	assert_true(patterns_collide("/api/v1/products/{id}", "/api/v1/products/{slug}"));
	assert_false(patterns_collide("/api/v1/products/{id}", "/api/v1/products/facets"));
	assert_false(patterns_collide("/api/v1/products", "/api/v1/products/{id}"));
	assert_true(patterns_collide("/a/b", "/a/b"));
}

static void test_every_module_is_named_once(void **state)
{
	size_t n = 0;

	(void)state;
	for (size_t i = 0; em_modules[i]; i++, n++) {
		assert_non_null(em_modules[i]->name);
		assert_true(em_modules[i]->name[0] != '\0');
		for (size_t j = 0; j < i; j++)
			if (strcmp(em_modules[i]->name, em_modules[j]->name) == 0)
				fail_msg("module %s is listed twice", em_modules[i]->name);
		if (em_modules[i]->config)
			assert_string_equal(em_modules[i]->config->name, em_modules[i]->name);
		if (em_modules[i]->nindexes)
			assert_non_null(em_modules[i]->indexes);
	}
	assert_true(n >= 6);
}

/*
 * No route of one module matches a path and method another module's
 * route matches (the first table would win silently). Within one module
 * a literal segment may shadow a placeholder on purpose (facets vs {id}),
 * so only the exact same shape counts there too.
 */
static void test_routes_do_not_collide(void **state)
{
	const struct em_route_table *tables[EM_APP_ROUTE_TABLES_MAX];
	size_t nroutes = 0;

	(void)state;
	assert_true(em_modules_route_tables(tables, EM_COUNT(tables)));
	for (size_t t = 0; tables[t]; t++)
		for (size_t r = 0; r < tables[t]->count; r++) {
			const struct em_route *a = &tables[t]->routes[r];

			nroutes++;
			assert_non_null(a->handler);
			assert_true(a->pattern[0] == '/');
			for (size_t u = 0; u <= t; u++)
				for (size_t s = 0; s < (u == t ? r : tables[u]->count); s++) {
					const struct em_route *b = &tables[u]->routes[s];

					if (strcmp(a->method, b->method) == 0 &&
					    patterns_collide(a->pattern, b->pattern))
						fail_msg("%s %s (%s) collides with %s (%s)", a->method,
							 a->pattern, tables[t]->module, b->pattern,
							 tables[u]->module);
				}
		}
	assert_true(nroutes > 40);
	assert_non_null(em_modules_authenticator());
}

/*
 * nginx answers CORS preflights itself, so its Access-Control-Allow-Methods
 * list is written by hand in emporium.conf.in. It must name exactly the
 * methods some route takes: one more invites requests that can only 405,
 * one less breaks a storefront calling that route cross-origin.
 */
static void test_cors_methods_match_routes(void **state)
{
	static const char *const known[] = { "GET", "POST", "PUT", "PATCH", "DELETE" };
	const struct em_route_table *tables[EM_APP_ROUTE_TABLES_MAX];
	bool routed[EM_COUNT(known)] = { false };
	char path[1024], line[512], *list = NULL;
	FILE *f;

	(void)state;
	assert_true(em_modules_route_tables(tables, EM_COUNT(tables)));
	for (size_t t = 0; tables[t]; t++)
		for (size_t r = 0; r < tables[t]->count; r++) {
			bool found = false;

			for (size_t k = 0; k < EM_COUNT(known); k++)
				if (strcmp(tables[t]->routes[r].method, known[k]) == 0)
					routed[k] = found = true;
			if (!found)
				fail_msg("route method %s: add it to this test and nginx's preflight",
					 tables[t]->routes[r].method);
		}
	snprintf(path, sizeof(path), "%s/nginx/emporium.conf.in", EM_TOP_SRCDIR);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if ((list = strstr(line, "Access-Control-Allow-Methods \"")))
			break;
	fclose(f);
	assert_non_null(list);
	list += strlen("Access-Control-Allow-Methods \"");
	assert_non_null(strchr(list, '"'));
	*strchr(list, '"') = '\0';
	for (size_t k = 0; k < EM_COUNT(known); k++) {
		size_t n = strlen(known[k]);
		bool listed = false;

		for (const char *p = list; (p = strstr(p, known[k])); p += n)
			if ((p == list || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
				listed = true;
		if (listed != routed[k])
			fail_msg("%s: %s by a route but %s in nginx's Allow-Methods \"%s\"", known[k],
				 routed[k] ? "taken" : "not taken", listed ? "listed" : "missing", list);
	}
}

struct var_seen {
	const char *names[512];
	size_t n;
};

static void var_check(const struct em_config_section *section, const struct em_config_entry *e,
		      void *ctx)
{
	struct var_seen *seen = ctx;

	assert_non_null(e->var.name);
	assert_true(strncmp(e->var.name, "EMPORIUM_", 9) == 0);
	assert_non_null(e->var.default_value);
	assert_non_null(e->var.help);
	assert_true(e->var.help[0] != '\0');
	if (section->size)
		assert_true(e->offset + (e->size ? e->size : 1) <= section->size);
	for (size_t i = 0; i < seen->n; i++)
		if (strcmp(seen->names[i], e->var.name) == 0)
			fail_msg("%s is declared twice", e->var.name);
	assert_true(seen->n < EM_COUNT(seen->names));
	seen->names[seen->n++] = e->var.name;
}

static void test_variables_are_unique_and_documented(void **state)
{
	static struct var_seen seen;

	(void)state;
	seen.n = 0;
	em_modules_config_each(var_check, &seen);
	assert_true(seen.n > 40);
}

/* Index names are unique per collection across modules (a name taken by
 * two specs would make migrate fail on the second). */
static void test_index_names_unique(void **state)
{
	(void)state;
	for (size_t i = 0; em_modules[i]; i++)
		for (size_t x = 0; x < em_modules[i]->nindexes; x++) {
			const struct store_index *a = &em_modules[i]->indexes[x];

			for (size_t j = 0; j <= i; j++)
				for (size_t y = 0; y < (j == i ? x : em_modules[j]->nindexes); y++) {
					const struct store_index *b = &em_modules[j]->indexes[y];

					if (strcmp(a->collection, b->collection) == 0 &&
					    strcmp(a->name, b->name) == 0)
						fail_msg("index %s.%s is declared twice",
							 a->collection, a->name);
				}
		}
}

/* Job types and admin commands are unique; every job type has a handler. */
static void test_jobs_and_commands_unique(void **state)
{
	(void)state;
	for (size_t i = 0; em_modules[i]; i++) {
		for (const struct jobs_handler *h = em_modules[i]->job_handlers; h && h->type; h++) {
			assert_non_null(h->run);
			assert_ptr_equal(em_modules_job_handler(h->type), h->run);
		}
		for (const struct em_admin_cmd *c = em_modules[i]->admin_cmds; c && c->name; c++) {
			assert_non_null(c->run);
			assert_ptr_equal(em_modules_admin_cmd(c->name), c);
		}
	}
	assert_non_null(em_modules_job_handler("email"));
	assert_null(em_modules_job_handler("no-such-job"));
	assert_non_null(em_modules_admin_cmd("seed-demo"));
}

/*
 * libcurl is initialised once per process, after fork(), by the modules
 * that make outgoing calls (auth: OpenID Connect; media: Cloudinary; jobs:
 * SMTP; payments: the gateway) - not lazily on whichever path runs first.
 */
static void test_outgoing_modules_init_libcurl(void **state)
{
	static const char *const callers[] = { "auth", "media", "jobs", "payments" };

	(void)state;
	for (size_t c = 0; c < sizeof callers / sizeof callers[0]; c++) {
		const struct em_module *m = NULL;

		for (size_t i = 0; em_modules[i]; i++)
			if (strcmp(em_modules[i]->name, callers[c]) == 0)
				m = em_modules[i];
		if (!m)
			fail_msg("module %s is not in the list", callers[c]);
		if (!m->process_init || !m->process_release)
			fail_msg("module %s calls out with libcurl but has no process_init/release",
				 callers[c]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patterns_collide),
		cmocka_unit_test(test_every_module_is_named_once),
		cmocka_unit_test(test_routes_do_not_collide),
		cmocka_unit_test(test_cors_methods_match_routes),
		cmocka_unit_test(test_variables_are_unique_and_documented),
		cmocka_unit_test(test_index_names_unique),
		cmocka_unit_test(test_jobs_and_commands_unique),
		cmocka_unit_test(test_outgoing_modules_init_libcurl),
	};

	return cmocka_run_group_tests_name("modules", tests, NULL, NULL);
}
