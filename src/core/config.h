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
	char currency[4];                   /* EMPORIUM_CURRENCY (ISO 4217) */

	/* accounts and tokens */
	char jwt_secret[EM_CONFIG_STR_MAX]; /* EMPORIUM_JWT_SECRET, >= 32 bytes */
	char jwt_issuer[128];               /* EMPORIUM_JWT_ISSUER */
	char jwt_audience[128];             /* EMPORIUM_JWT_AUDIENCE */
	int access_ttl_s;                   /* EMPORIUM_ACCESS_TOKEN_TTL */
	int refresh_ttl_s;                  /* EMPORIUM_REFRESH_TOKEN_TTL */
	int argon2_memory_kib;              /* EMPORIUM_ARGON2_MEMORY_KIB */
	int argon2_iterations;              /* EMPORIUM_ARGON2_ITERATIONS */
	char oauth_providers[256];          /* EMPORIUM_OAUTH_PROVIDERS, names */

	/* mail and jobs */
	char smtp_url[EM_CONFIG_STR_MAX];   /* EMPORIUM_SMTP_URL */
	char smtp_tls[16];                  /* EMPORIUM_SMTP_TLS: none|starttls|required */
	char smtp_user[128];                /* EMPORIUM_SMTP_USER */
	char smtp_password[256];            /* EMPORIUM_SMTP_PASSWORD */
	char mail_from[256];                /* EMPORIUM_MAIL_FROM */
	char staff_email[256];              /* EMPORIUM_STAFF_EMAIL */
	char templates_dir[EM_CONFIG_STR_MAX]; /* EMPORIUM_TEMPLATES_DIR */
	int job_max_attempts;               /* EMPORIUM_JOB_MAX_ATTEMPTS */
	int job_lease_s;                    /* EMPORIUM_JOB_LEASE */
	int job_poll_ms;                    /* EMPORIUM_JOB_POLL_MS */
	int job_backoff_ms;                 /* EMPORIUM_JOB_BACKOFF_MS: first retry delay */

	/* media */
	char media_storage[16];             /* EMPORIUM_MEDIA_STORAGE: local|cloudinary */
	char media_dir[EM_CONFIG_STR_MAX];  /* EMPORIUM_MEDIA_DIR */
	char media_url_prefix[256];         /* EMPORIUM_MEDIA_URL_PREFIX */
	int64_t media_max_bytes;            /* EMPORIUM_MEDIA_MAX_BYTES */
	int64_t media_max_pixels;           /* EMPORIUM_MEDIA_MAX_PIXELS */
	char cloudinary_url[256];           /* EMPORIUM_CLOUDINARY_API_URL */
	char cloudinary_cloud[128];         /* EMPORIUM_CLOUDINARY_CLOUD */
	char cloudinary_key[128];           /* EMPORIUM_CLOUDINARY_API_KEY */
	char cloudinary_secret[256];        /* EMPORIUM_CLOUDINARY_API_SECRET */

	char env_file[EM_CONFIG_STR_MAX];   /* the file that was read, "" if none */

	/* Per-provider OAuth settings (EMPORIUM_OAUTH_<NAME>_ISSUER, ...),
	 * whose names depend on EMPORIUM_OAUTH_PROVIDERS: kept from the env
	 * file for em_config_lookup(). */
	struct { char key[64]; char value[EM_CONFIG_STR_MAX]; } extra[32];
	size_t nextra;
};

/*
 * Looks up a variable outside the table (EMPORIUM_OAUTH_<NAME>_*): the
 * environment first, then the env file. False when unset.
 */
bool em_config_lookup(const struct em_config *cfg, const char *name, char *out,
		      size_t size);

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
