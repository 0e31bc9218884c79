/*
 * module.h - what a module contributes, in one descriptor.
 *
 * nginx's ngx_module_t is the model: every module (accounts, catalog,
 * media, jobs, ...) defines exactly one `const struct em_module` in its
 * src/<mod>/module.c, and src/app/modules.c lists them. Everything that
 * needs to know "all the modules" reads that list and nothing else:
 *
 *   the router (emporium-fcgi)     routes, authenticate, upload_max_body
 *   emporium-admin migrate         indexes
 *   emporium-worker                job_handlers, periodics
 *   emporium-admin                 admin_cmds
 *   configuration loading,         config (variables with defaults,
 *   check-config, env-example        validation and documentation)
 *   every process, after fork()    process_init / process_release
 *
 * Adding a module is its folder, its local.mk and one line in
 * src/app/modules.c (docs/ARCHITECTURE.md, "Adding a module").
 */
#ifndef EM_APP_MODULE_H
#define EM_APP_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/error.h"
#include "http/router.h"
#include "jobs/jobs.h"
#include "store/indexes.h"

/*
 * An emporium-admin command: the loaded configuration and the command's
 * own argv (argv[0] is the command name); returns the exit code.
 */
struct em_admin_cmd {
	const char *name;
	const char *help;
	int (*run)(const struct em_config *cfg, int argc, char **argv);
};

struct em_module {
	const char *name;

	/* HTTP: route tables (each a module-private table of routes). */
	const struct em_route_table *const *routes; /* NULL-terminated, or NULL */
	/* The router's authenticator for non-public routes; one module sets it. */
	em_authenticate_fn authenticate;
	/* The largest body an EM_BODY_UPLOAD route of this module takes, or NULL. */
	int64_t (*upload_max_body)(const struct em_config *cfg);

	/* MongoDB: the indexes its queries need, and the $jsonSchema validators
	 * of the collections it writes (migrate puts both in place). */
	const struct store_index *indexes;
	size_t nindexes;
	const struct store_validator *validators;
	size_t nvalidators;

	/* emporium-worker: job types, terminated by { NULL, NULL }, and sweeps,
	 * terminated by { NULL, 0, NULL } (see jobs.h for their contracts). */
	const struct jobs_handler *job_handlers;
	const struct jobs_periodic *periodics;

	/* emporium-admin commands, terminated by { NULL, NULL, NULL }. */
	const struct em_admin_cmd *admin_cmds;

	/* Its configuration variables (NULL: none). */
	const struct em_config_section *config;

	/*
	 * Run in every process that loads the modules, after fork() and
	 * before the first request or job (libraries that need a per-process
	 * init: libcurl, caches). False stops the process with err.
	 */
	bool (*process_init)(const struct em_config *cfg, struct em_error *err);
	void (*process_release)(void);
};

/* For the count fields: the number of elements of a static array. */
#define EM_COUNT(arr) (sizeof(arr) / sizeof((arr)[0]))

#endif
