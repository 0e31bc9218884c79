/*
 * modules.h - the list of every module, and what the programs read of it.
 *
 * src/app/modules.c names each module's descriptor once (em_modules);
 * the functions below are the only readers: the router's tables, the
 * indexes migrate creates, the job types and sweeps of emporium-worker,
 * the commands of emporium-admin, the configuration every program loads
 * and the example file that documents it.
 */
#ifndef EM_APP_MODULES_H
#define EM_APP_MODULES_H

#include <stdio.h>

#include "app/module.h"

/* Every module, NULL-terminated, in the order routes are tried. */
extern const struct em_module *const em_modules[];

/*
 * Loads the configuration of the core and of every module (what each
 * program calls instead of em_config_load()).
 */
bool em_app_config_load(struct em_config *cfg, struct em_error *err);

/* Every module's route tables, NULL-terminated, into out[max]. False
 * when they do not fit. */
bool em_modules_route_tables(const struct em_route_table **out, size_t max);

/* The authenticator a module provides, or NULL. */
em_authenticate_fn em_modules_authenticator(void);

/* The largest upload any module's EM_BODY_UPLOAD route takes (0: none). */
int64_t em_modules_upload_max_body(const struct em_config *cfg);

/* Creates every module's indexes and puts its validators in place
 * (emporium-admin migrate); safe to re-run. err names the module whose
 * index or validator failed. */
bool em_modules_indexes_create(struct em_store *st, struct em_error *err);

/* The handler for a job type, or NULL. */
jobs_handler_fn em_modules_job_handler(const char *type);

/* Every module's sweeps, into out[max]; returns how many (at most max). */
size_t em_modules_periodics(const struct jobs_periodic **out, size_t max);

/* The module command called name, or NULL. */
const struct em_admin_cmd *em_modules_admin_cmd(const char *name);

/* Runs every module's process_init (after fork()); the release runs
 * every module's process_release. */
bool em_modules_process_init(const struct em_config *cfg, struct em_error *err);
void em_modules_process_release(void);

/*
 * Writes emporium.env.example: every section's heading, documentation
 * and variables with their defaults, generated from the descriptors
 * (`emporium-admin env-example`; a test compares the committed file).
 */
void em_modules_env_example(FILE *out);

/* Calls fn for every configuration variable of the core and the modules. */
void em_modules_config_each(void (*fn)(const struct em_config_section *section,
				       const struct em_config_entry *entry, void *ctx),
			    void *ctx);

#endif
