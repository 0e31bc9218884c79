/*
 * config.h - the process configuration, from the environment.
 *
 * Values come from environment variables; an env file fills in those the
 * environment does not set. The file is EMPORIUM_ENV_FILE when set (and
 * must then exist), else /etc/emporium/emporium.env when it exists, else
 * ./.env when it exists. Every variable, with its default, is listed in
 * emporium.env.example; em_config_load() refuses a bad value with a
 * message naming the variable, so a misconfigured process never starts.
 */
#ifndef EM_CORE_CONFIG_H
#define EM_CORE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/log.h"

#define EM_CONFIG_STR_MAX 512

struct em_config {
	char listen[EM_CONFIG_STR_MAX];     /* EMPORIUM_LISTEN */
	int socket_mode;                    /* EMPORIUM_SOCKET_MODE (octal) */
	int backlog;                        /* EMPORIUM_BACKLOG */
	int workers;                        /* EMPORIUM_WORKERS, 0 = cores */
	int max_requests;                   /* EMPORIUM_MAX_REQUESTS, 0 = never */
	int request_timeout_s;              /* EMPORIUM_REQUEST_TIMEOUT */
	int shutdown_timeout_s;             /* EMPORIUM_SHUTDOWN_TIMEOUT */
	int64_t max_body;                   /* EMPORIUM_MAX_BODY (bytes) */
	char mongodb_uri[EM_CONFIG_STR_MAX];/* EMPORIUM_MONGODB_URI */
	char db_name[64];                   /* EMPORIUM_DB_NAME */
	int db_timeout_ms;                  /* EMPORIUM_DB_TIMEOUT_MS */
	char public_url[EM_CONFIG_STR_MAX]; /* EMPORIUM_PUBLIC_URL */
	enum em_log_level log_level;        /* EMPORIUM_LOG_LEVEL */
	char env_file[EM_CONFIG_STR_MAX];   /* the file that was read, "" if none */
};

/* One entry of the variable table, exposed for check-config and tests. */
struct em_config_var {
	const char *name;
	const char *default_value;
	const char *help;
};

/* The table of every variable, terminated by a { NULL } entry. */
const struct em_config_var *em_config_vars(void);

/*
 * Loads cfg from the environment and the env file. On failure err names
 * the variable (err->field) and why; cfg is then unspecified.
 */
bool em_config_load(struct em_config *cfg, struct em_error *err);

/*
 * Parses one KEY=VALUE env-file line into key and value buffers. Blank
 * lines and # comments give *is_entry = false. Surrounding single or
 * double quotes are removed. False on a malformed line.
 */
bool em_config_parse_line(const char *line, char *key, size_t key_size,
			  char *value, size_t value_size, bool *is_entry);

#endif
