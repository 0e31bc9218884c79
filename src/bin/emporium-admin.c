/*
 * emporium-admin - the operator's command line. Its own commands are
 * migrate (every module's indexes), check-config (validate and print the
 * configuration) and env-example (print emporium.env.example, generated
 * from the modules' variables); every module adds its own through its
 * descriptor (create-admin, seed-demo, ...). `emporium-admin --help`
 * lists them all.
 */
#include <stdio.h>
#include <string.h>

#include "app/modules.h"
#include "core/config.h"
#include "core/log.h"
#include "store/store.h"

/* Creates the indexes every module needs; safe to re-run. */
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
	if (!em_modules_indexes_create(&st, &err)) {
		em_err("migrate: %s", err.message);
		goto done;
	}
	em_info("migrate: done");
	rc = 0;
done:
	store_close(&st);
	return rc;
}

/* Prints one variable's value as loaded, secrets only as set or not. */
static void admin_config_print(const struct em_config_section *section,
			       const struct em_config_entry *e, void *ctx)
{
	const struct em_config *cfg = ctx;
	const char *base = section->size ? em_config_section(cfg, section) : (const char *)cfg;
	const char *p = base + e->offset;

	switch (e->type) {
	case EM_CFG_SECRET:
		printf("  %s=%s\n", e->var.name, p[0] ? "(set)" : "(not set)");
		break;
	case EM_CFG_URI:
		/* a URI may hold a password: say only that it has credentials */
		printf("  %s=%s\n", e->var.name, strchr(p, '@') ? "(set, with credentials)" : p);
		break;
	case EM_CFG_STR:
	case EM_CFG_ENUM:
		printf("  %s=%s\n", e->var.name, p);
		break;
	case EM_CFG_INT:
		printf("  %s=%d\n", e->var.name, *(const int *)(const void *)p);
		break;
	case EM_CFG_OCTAL:
		printf("  %s=%04o\n", e->var.name, (unsigned)*(const int *)(const void *)p);
		break;
	case EM_CFG_SIZE:
		printf("  %s=%lld\n", e->var.name, (long long)*(const int64_t *)(const void *)p);
		break;
	case EM_CFG_BOOL:
		printf("  %s=%s\n", e->var.name, *(const bool *)(const void *)p ? "true" : "false");
		break;
	case EM_CFG_LOGLEVEL:
		printf("  %s=%s\n", e->var.name,
		       em_log_level_name(*(const enum em_log_level *)(const void *)p));
		break;
	}
}

/* The configuration is loaded (and validated) by main: print it. */
static int admin_check_config(const struct em_config *cfg, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("configuration OK (env file: %s)\n", cfg->env_file[0] ? cfg->env_file : "none");
	em_modules_config_each(admin_config_print, (void *)cfg);
	return 0;
}

/* Prints emporium.env.example as the descriptors define it. */
static int admin_env_example(const struct em_config *cfg, int argc, char **argv)
{
	(void)cfg;
	(void)argc;
	(void)argv;
	em_modules_env_example(stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}

static const struct em_admin_cmd admin_cmds[] = {
	{ "migrate", "create the MongoDB indexes every module needs (safe to re-run)",
	  admin_migrate },
	{ "check-config", "load and validate the configuration, then print it",
	  admin_check_config },
	{ "env-example", "print emporium.env.example: every variable, its default and meaning",
	  admin_env_example },
	{ NULL, NULL, NULL },
};

static void admin_usage(FILE *out)
{
	fprintf(out, "usage: emporium-admin COMMAND\n\ncommands:\n");
	for (const struct em_admin_cmd *c = admin_cmds; c->name; c++)
		fprintf(out, "  %-14s %s\n", c->name, c->help);
	for (size_t i = 0; em_modules[i]; i++)
		for (const struct em_admin_cmd *c = em_modules[i]->admin_cmds; c && c->name; c++)
			fprintf(out, "  %-14s %s\n", c->name, c->help);
}

static const struct em_admin_cmd *admin_cmd_find(const char *name)
{
	for (const struct em_admin_cmd *c = admin_cmds; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return em_modules_admin_cmd(name);
}

int main(int argc, char **argv)
{
	const struct em_admin_cmd *cmd;
	struct em_config cfg;
	struct em_error err = EM_ERROR_INIT;
	int rc;

	em_log_set_role("admin");
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		admin_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = admin_cmd_find(argv[1]);
	if (!cmd) {
		fprintf(stderr, "emporium-admin: unknown command '%s'\n", argv[1]);
		admin_usage(stderr);
		return 2;
	}
	/* env-example documents the defaults: it must not need a valid file */
	if (cmd->run == admin_env_example)
		return admin_env_example(NULL, argc - 1, argv + 1);
	if (!em_app_config_load(&cfg, &err)) {
		em_err("configuration error: %s", err.message);
		fprintf(stderr, "emporium-admin: %s\n", err.message);
		return 1;
	}
	em_log_set_level(cfg.log_level);
	store_global_init();
	if (!em_modules_process_init(&cfg, &err)) {
		em_err("cannot start a module: %s", err.message);
		rc = 1;
	} else {
		rc = cmd->run(&cfg, argc - 1, argv + 1);
	}
	em_modules_process_release();
	store_global_cleanup();
	return rc;
}
