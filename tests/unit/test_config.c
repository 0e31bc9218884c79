/* Unit tests for src/core/config.c: env-file lines, defaults, bad values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/modules.h"
#include "jobs/jobs.h"
#include "media/media.h"
#include "core/config.h"

static char env_path[64];

static void unset_var(const struct em_config_section *section,
		      const struct em_config_entry *e, void *ctx)
{
	(void)section;
	(void)ctx;
	unsetenv(e->var.name);
}

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(env_path, sizeof(env_path), "/tmp/emporium-test-env-XXXXXX");
	fd = mkstemp(env_path);
	assert_true(fd >= 0);
	close(fd);
	setenv("EMPORIUM_ENV_FILE", env_path, 1);
	em_modules_config_each(unset_var, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(env_path);
	unsetenv("EMPORIUM_ENV_FILE");
	return 0;
}

static void write_env(const char *text)
{
	FILE *f = fopen(env_path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_parse_line(void **state)
{
	char k[64], v[128];
	bool entry;

	(void)state;
	assert_true(em_config_parse_line("A_B=c d\n", k, sizeof(k), v, sizeof(v), &entry));
	assert_true(entry);
	assert_string_equal(k, "A_B");
	assert_string_equal(v, "c d");
	assert_true(em_config_parse_line("export X=\"quoted # not a comment\"", k, sizeof(k),
					 v, sizeof(v), &entry));
	assert_string_equal(v, "quoted # not a comment");
	assert_true(em_config_parse_line("  # comment", k, sizeof(k), v, sizeof(v), &entry));
	assert_false(entry);
	assert_true(em_config_parse_line("", k, sizeof(k), v, sizeof(v), &entry));
	assert_false(entry);
	assert_false(em_config_parse_line("no equals sign", k, sizeof(k), v, sizeof(v), &entry));
	assert_false(em_config_parse_line("BAD-KEY=1", k, sizeof(k), v, sizeof(v), &entry));
	assert_false(em_config_parse_line("=1", k, sizeof(k), v, sizeof(v), &entry));
}

static void test_defaults(void **state)
{
	struct em_config cfg;
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	write_env("");
	assert_true(em_app_config_load(&cfg, &err));
	assert_string_equal(cfg.listen, "unix:/run/emporium/fcgi.sock");
	assert_int_equal(cfg.workers, 0);
	assert_int_equal(cfg.max_requests, 10000);
	assert_int_equal(cfg.socket_mode, 0660);
	assert_int_equal(cfg.max_body, 1048576);
	assert_int_equal(cfg.log_level, EM_LOG_INFO);
	assert_string_equal(cfg.db_name, "emporium");
}

static void test_file_and_env_override(void **state)
{
	struct em_config cfg;
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	write_env("EMPORIUM_WORKERS=3\nEMPORIUM_LISTEN=127.0.0.1:9000\n"
		  "EMPORIUM_LOG_LEVEL='debug'\n");
	setenv("EMPORIUM_WORKERS", "5", 1);
	assert_true(em_app_config_load(&cfg, &err));
	assert_int_equal(cfg.workers, 5); /* the environment wins */
	assert_string_equal(cfg.listen, "127.0.0.1:9000");
	assert_int_equal(cfg.log_level, EM_LOG_DEBUG);
	unsetenv("EMPORIUM_WORKERS");
}

static void test_bad_values_name_the_variable(void **state)
{
	static const char *const bad[][2] = {
		{ "EMPORIUM_WORKERS", "many" },
		{ "EMPORIUM_WORKERS", "-1" },
		{ "EMPORIUM_WORKERS", "100000" },
		{ "EMPORIUM_MAX_BODY", "12abc" },
		{ "EMPORIUM_LOG_LEVEL", "loud" },
		{ "EMPORIUM_MONGODB_URI", "localhost" },
		{ "EMPORIUM_SOCKET_MODE", "999" },
		{ "EMPORIUM_LISTEN", "" },
	};

	(void)state;
	write_env("");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct em_config cfg;
		struct em_error err = EM_ERROR_INIT;

		setenv(bad[i][0], bad[i][1], 1);
		assert_false(em_app_config_load(&cfg, &err));
		assert_string_equal(err.field, bad[i][0]);
		assert_non_null(strstr(err.message, bad[i][0]));
		unsetenv(bad[i][0]);
	}
}

static void test_missing_explicit_file(void **state)
{
	struct em_config cfg;
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	setenv("EMPORIUM_ENV_FILE", "/nonexistent/emporium.env", 1);
	assert_false(em_app_config_load(&cfg, &err));
	assert_string_equal(err.field, "EMPORIUM_ENV_FILE");
	setenv("EMPORIUM_ENV_FILE", env_path, 1);
}

static void test_malformed_file_line(void **state)
{
	struct em_config cfg;
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	write_env("EMPORIUM_WORKERS=2\nthis is not an assignment\n");
	assert_false(em_app_config_load(&cfg, &err));
	assert_non_null(strstr(err.message, ":2:"));
}

/*
 * emporium.env.example is exactly what the descriptors generate, so every
 * variable is in it with its default and its help (regenerate with
 * `emporium-admin env-example > emporium.env.example`).
 */
static void test_example_file_is_generated(void **state)
{
	char path[1024], *want = NULL, *have = NULL;
	size_t want_len = 0, have_len = 0;
	FILE *mem, *f;
	long n;

	(void)state;
	mem = open_memstream(&want, &want_len);
	assert_non_null(mem);
	em_modules_env_example(mem);
	assert_int_equal(fclose(mem), 0);
	snprintf(path, sizeof(path), "%s/emporium.env.example", EM_TOP_SRCDIR);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	have = malloc((size_t)n + 1);
	assert_non_null(have);
	have_len = fread(have, 1, (size_t)n, f);
	have[have_len] = '\0';
	fclose(f);
	if (have_len != want_len || memcmp(have, want, want_len) != 0)
		fail_msg("emporium.env.example is not what the modules declare: run "
			 "emporium-admin env-example > emporium.env.example");
	free(want);
	free(have);
}

/* Every variable, in every section, is loaded with its default. */
static void check_default(const struct em_config_section *section,
			  const struct em_config_entry *e, void *ctx)
{
	const struct em_config *cfg = ctx;
	const char *base = section->size ? em_config_section(cfg, section) : (const char *)cfg;

	if (e->type == EM_CFG_STR || e->type == EM_CFG_URI || e->type == EM_CFG_ENUM ||
	    e->type == EM_CFG_SECRET)
		assert_string_equal(base + e->offset, e->var.default_value);
}

static void test_module_defaults(void **state)
{
	struct em_config cfg;
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	write_env("");
	assert_true(em_app_config_load(&cfg, &err));
	em_modules_config_each(check_default, &cfg);
}

/* A module's variable is read from the env file into its own section. */
static void test_module_section_from_file(void **state)
{
	struct em_config cfg;
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	write_env("EMPORIUM_JOB_LEASE=77\nEMPORIUM_MEDIA_STORAGE=cloudinary\n");
	assert_true(em_app_config_load(&cfg, &err));
	assert_int_equal(jobs_config(&cfg)->lease_s, 77);
	assert_string_equal(media_config(&cfg)->storage, "cloudinary");
	write_env("EMPORIUM_JOB_LEASE=1\n");
	assert_false(em_app_config_load(&cfg, &err));
	assert_string_equal(err.field, "EMPORIUM_JOB_LEASE");
	write_env("EMPORIUM_MAIL_FROM=not a from line\n");
	assert_false(em_app_config_load(&cfg, &err));
	assert_string_equal(err.field, "EMPORIUM_MAIL_FROM");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_line),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_and_env_override, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_values_name_the_variable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_explicit_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_file_line, setup, teardown),
		cmocka_unit_test(test_example_file_is_generated),
		cmocka_unit_test_setup_teardown(test_module_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_module_section_from_file, setup, teardown),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
