/*
 * emporium-admin - the operator's command line: migrate, check-config.
 * Each command is a row of the table below.
 */
#include <stdio.h>
#include <string.h>

#include "app/admin_cmds.h"
#include "core/config.h"
#include "core/log.h"
#include "store/indexes.h"
#include "store/store.h"

struct admin_cmd {
	const char *name;
	const char *help;
	int (*run)(const struct em_config *cfg, int argc, char **argv);
};

/* Creates the indexes the code needs; safe to re-run. */
static int admin_migrate(const struct em_config *cfg, int argc, char **argv)
{
	struct em_store st;
	struct em_error err = EM_ERROR_INIT;
	int rc = 1;

	(void)argc;
	(void)argv;
	if (!store_open(&st, cfg, "emporium-admin", &err)) {
		em_err("migrate: %s", err.message);
		return 1;
	}
	if (!store_ping(&st, &err)) {
		em_err("migrate: cannot reach MongoDB at EMPORIUM_MONGODB_URI: %s", err.message);
		goto done;
	}
	if (!store_indexes_migrate(&st, &err)) {
		em_err("migrate: %s", err.message);
		goto done;
	}
	em_info("migrate: done");
	rc = 0;
done:
	store_close(&st);
	return rc;
}

/* Loads the configuration (already done by main) and prints it. */
static int admin_check_config(const struct em_config *cfg, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("configuration OK (env file: %s)\n", cfg->env_file[0] ? cfg->env_file : "none");
	printf("  EMPORIUM_LISTEN=%s\n", cfg->listen);
	printf("  EMPORIUM_WORKERS=%d\n", cfg->workers);
	printf("  EMPORIUM_DB_NAME=%s\n", cfg->db_name);
	/* The URI may hold a password: say only whether one is set. */
	printf("  EMPORIUM_MONGODB_URI=%s\n",
	       strchr(cfg->mongodb_uri, '@') ? "(set, with credentials)" : cfg->mongodb_uri);
	return 0;
}

static const struct admin_cmd admin_cmds[] = {
	{ "migrate", "create the MongoDB indexes the code needs (safe to re-run)",
	  admin_migrate },
	{ "check-config", "load and validate the configuration, then print it",
	  admin_check_config },
	{ "create-admin", "create-admin --email E: an admin account (password on stdin)",
	  auth_cmd_create_admin },
	{ "seed-demo", "load the demo catalog (idempotent)", catalog_cmd_seed_demo },
};

static void admin_usage(FILE *out)
{
	fprintf(out, "usage: emporium-admin COMMAND\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(admin_cmds) / sizeof(admin_cmds[0]); i++)
		fprintf(out, "  %-14s %s\n", admin_cmds[i].name, admin_cmds[i].help);
}

int main(int argc, char **argv)
{
	struct em_config cfg;
	struct em_error err = EM_ERROR_INIT;
	int rc;

	em_log_set_role("admin");
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		admin_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(admin_cmds) / sizeof(admin_cmds[0]); i++) {
		if (strcmp(argv[1], admin_cmds[i].name) != 0)
			continue;
		if (!em_config_load(&cfg, &err)) {
			em_err("configuration error: %s", err.message);
			fprintf(stderr, "emporium-admin: %s\n", err.message);
			return 1;
		}
		em_log_set_level(cfg.log_level);
		store_global_init();
		rc = admin_cmds[i].run(&cfg, argc - 1, argv + 1);
		store_global_cleanup();
		return rc;
	}
	fprintf(stderr, "emporium-admin: unknown command '%s'\n", argv[1]);
	admin_usage(stderr);
	return 2;
}
