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
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/log.h"

#define EM_CONFIG_STR_MAX 512

/*
 * The type of a variable: how its text is checked and where it lands.
 * STR/URI/SECRET/ENUM land in a char array of `size` bytes; INT/OCTAL in
 * an int; SIZE in an int64_t; LOGLEVEL in an enum em_log_level; BOOL
 * ("true"/"false") in a bool.
 */
enum em_config_type {
	EM_CFG_STR,      /* min..size-1 bytes */
	EM_CFG_INT, EM_CFG_OCTAL, EM_CFG_SIZE,
	EM_CFG_LOGLEVEL,
	EM_CFG_URI,      /* scheme://... */
	EM_CFG_SECRET,   /* empty (feature off) or at least min bytes; never printed */
	EM_CFG_ENUM,     /* one of the '|'-separated words in choices */
	EM_CFG_BOOL,     /* true or false */
};

/* What check-config and the example file show of a variable. */
struct em_config_var {
	const char *name;
	const char *default_value;
	const char *help;  /* may hold several lines ('\n'); the example file
			    * prints each as a comment above the variable */
};

/* One variable: name, default and help, type, bounds, where it lands. */
struct em_config_entry {
	struct em_config_var var;
	enum em_config_type type;
	long long min, max;
	size_t offset, size;
	const char *choices; /* EM_CFG_ENUM */
};

/* Where a field of the section's struct T lands, for the entry tables. */
#define EM_CFG_FIELD_STR(T, f) offsetof(T, f), sizeof(((T *)0)->f), NULL
#define EM_CFG_FIELD_NUM(T, f) offsetof(T, f), 0, NULL
#define EM_CFG_FIELD_ENUM(T, f, c) offsetof(T, f), sizeof(((T *)0)->f), (c)

/*
 * A module's variables: they fill a struct of `size` bytes that the
 * module defines (struct jobs_config, ...), kept inside struct
 * em_config and reached with em_config_section(). The core's own
 * variables are the section em_config_core (size 0: its fields are the
 * ones of struct em_config below). `check`, when set, runs after every
 * variable of the section has been read, for rules across variables.
 */
struct em_config_section {
	const char *name;   /* the module */
	const char *title;  /* heading in emporium.env.example */
	const char *doc;    /* lines under the heading, or NULL */
	const struct em_config_entry *entries;
	size_t count;
	size_t size;
	bool (*check)(const void *values, struct em_error *err);
};

#define EM_CONFIG_SECTIONS_MAX 32
/* Room for every module's struct; em_config_load() refuses more. */
#define EM_CONFIG_AREA (32 * 1024)

/*
 * The configuration of one process. A plain value: it is copied whole
 * (into each worker, on reload), so nothing in it points into itself;
 * module sections are found by offset.
 */
struct em_config {
	char listen[EM_CONFIG_STR_MAX];     /* EMPORIUM_LISTEN */
	char fcgi_allowed[EM_CONFIG_STR_MAX]; /* EMPORIUM_FCGI_ALLOWED (TCP only) */
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

	char env_file[EM_CONFIG_STR_MAX];   /* the file that was read, "" if none */

	/* Variables whose names are not in any table (EMPORIUM_OAUTH_<NAME>_*,
	 * named by EMPORIUM_OAUTH_PROVIDERS): kept from the env file for
	 * em_config_lookup(). */
	struct { char key[64]; char value[EM_CONFIG_STR_MAX]; } extra[32];
	size_t nextra;

	/* The modules' sections, in the order they were loaded. */
	struct { const struct em_config_section *section; size_t offset; }
		placed[EM_CONFIG_SECTIONS_MAX];
	size_t nplaced;
	_Alignas(max_align_t) unsigned char area[EM_CONFIG_AREA];
};

/* The core's variables (listen, workers, database, log level, ...). */
extern const struct em_config_section em_config_core;

/*
 * A module's values in cfg. The section must have been loaded into cfg
 * (em_config_load() with it in the list): anything else is a bug, and
 * aborts. The _mut form is for tests and the loader.
 */
const void *em_config_section(const struct em_config *cfg,
			      const struct em_config_section *section);
void *em_config_section_mut(struct em_config *cfg, const struct em_config_section *section);

/*
 * Looks up a variable outside the table (EMPORIUM_OAUTH_<NAME>_*): the
 * environment first, then the env file. False when unset.
 */
bool em_config_lookup(const struct em_config *cfg, const char *name, char *out,
		      size_t size);

/*
 * Loads cfg from the environment and the env file: the core's variables,
 * then each section of `sections` (NULL-terminated; the program passes
 * every module's, see em_app_config_load() in src/app/modules.h). On
 * failure err names the variable (err->field) and why; cfg is then
 * unspecified.
 */
bool em_config_load(struct em_config *cfg, const struct em_config_section *const *sections,
		    struct em_error *err);

/*
 * Parses one KEY=VALUE env-file line into key and value buffers. Blank
 * lines and # comments give *is_entry = false. Surrounding single or
 * double quotes are removed. False on a malformed line.
 */
bool em_config_parse_line(const char *line, char *key, size_t key_size,
			  char *value, size_t value_size, bool *is_entry);

#endif
