#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"

enum cfg_type { CFG_STR, CFG_INT, CFG_OCTAL, CFG_SIZE, CFG_LOGLEVEL, CFG_URI };

/* The variable table: name, default, type, bounds, where it lands. */
struct cfg_entry {
	struct em_config_var var;
	enum cfg_type type;
	long long min, max;
	size_t offset, size;
};

#define STR(f) offsetof(struct em_config, f), sizeof(((struct em_config *)0)->f)
#define NUM(f) offsetof(struct em_config, f), 0

static const struct cfg_entry cfg_table[] = {
	{ { "EMPORIUM_LISTEN", "unix:/run/emporium/fcgi.sock",
	    "FastCGI socket: unix:/path, host:port or :port" },
	  CFG_STR, 1, 0, STR(listen) },
	{ { "EMPORIUM_SOCKET_MODE", "0660", "permissions of a unix socket (octal)" },
	  CFG_OCTAL, 0, 0777, NUM(socket_mode) },
	{ { "EMPORIUM_BACKLOG", "1024", "listen backlog" },
	  CFG_INT, 1, 65535, NUM(backlog) },
	{ { "EMPORIUM_WORKERS", "0", "FastCGI worker processes; 0 = number of cores" },
	  CFG_INT, 0, 256, NUM(workers) },
	{ { "EMPORIUM_MAX_REQUESTS", "10000",
	    "requests a worker serves before it is recycled; 0 = never" },
	  CFG_INT, 0, 1000000000, NUM(max_requests) },
	{ { "EMPORIUM_REQUEST_TIMEOUT", "30",
	    "seconds a request may run before its worker is killed" },
	  CFG_INT, 1, 3600, NUM(request_timeout_s) },
	{ { "EMPORIUM_SHUTDOWN_TIMEOUT", "30",
	    "seconds in-flight requests get to finish on stop or reload" },
	  CFG_INT, 1, 3600, NUM(shutdown_timeout_s) },
	{ { "EMPORIUM_MAX_BODY", "1048576", "largest request body in bytes" },
	  CFG_SIZE, 1024, 64LL * 1024 * 1024, NUM(max_body) },
	{ { "EMPORIUM_MONGODB_URI", "mongodb://127.0.0.1:27017/?replicaSet=rs0",
	    "MongoDB connection string (a replica set: transactions need one)" },
	  CFG_URI, 1, 0, STR(mongodb_uri) },
	{ { "EMPORIUM_DB_NAME", "emporium", "MongoDB database name" },
	  CFG_STR, 1, 0, STR(db_name) },
	{ { "EMPORIUM_DB_TIMEOUT_MS", "2000",
	    "server selection / connect bound in ms; health/ready answers within it" },
	  CFG_INT, 100, 60000, NUM(db_timeout_ms) },
	{ { "EMPORIUM_PUBLIC_URL", "https://localhost:8443",
	    "the shop's public base URL (links in mail, OAuth redirects)" },
	  CFG_URI, 1, 0, STR(public_url) },
	{ { "EMPORIUM_LOG_LEVEL", "info", "debug, info, warn or error" },
	  CFG_LOGLEVEL, 0, 0, NUM(log_level) },
};

#define CFG_COUNT (sizeof(cfg_table) / sizeof(cfg_table[0]))

const struct em_config_var *em_config_vars(void)
{
	static struct em_config_var vars[CFG_COUNT + 1];

	for (size_t i = 0; i < CFG_COUNT; i++)
		vars[i] = cfg_table[i].var;
	vars[CFG_COUNT] = (struct em_config_var){ NULL, NULL, NULL };
	return vars;
}

bool em_config_parse_line(const char *line, char *key, size_t key_size,
			  char *value, size_t value_size, bool *is_entry)
{
	const char *p = line, *eq, *end, *vstart, *vend;
	size_t klen, vlen;

	*is_entry = false;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '\n' || *p == '\r' || *p == '#')
		return true;
	if (strncmp(p, "export ", 7) == 0)
		p += 7;
	eq = strchr(p, '=');
	if (!eq)
		return false;
	klen = (size_t)(eq - p);
	while (klen > 0 && (p[klen - 1] == ' ' || p[klen - 1] == '\t'))
		klen--;
	if (klen == 0 || klen >= key_size)
		return false;
	for (size_t i = 0; i < klen; i++)
		if (!(isalnum((unsigned char)p[i]) || p[i] == '_'))
			return false;
	vstart = eq + 1;
	end = vstart + strlen(vstart);
	while (end > vstart && (end[-1] == '\n' || end[-1] == '\r' ||
				end[-1] == ' ' || end[-1] == '\t'))
		end--;
	while (vstart < end && (*vstart == ' ' || *vstart == '\t'))
		vstart++;
	vend = end;
	if (vend - vstart >= 2 && (*vstart == '"' || *vstart == '\'') &&
	    vend[-1] == *vstart) {
		vstart++;
		vend--;
	}
	vlen = (size_t)(vend - vstart);
	if (vlen >= value_size)
		return false;
	memcpy(key, p, klen);
	key[klen] = '\0';
	memcpy(value, vstart, vlen);
	value[vlen] = '\0';
	*is_entry = true;
	return true;
}

/* A small list of KEY=VALUE pairs read from the env file. */
struct cfg_file {
	char (*keys)[64];
	char (*values)[EM_CONFIG_STR_MAX];
	size_t n, cap;
};

static void cfg_file_release(struct cfg_file *f)
{
	free(f->keys);
	free(f->values);
	memset(f, 0, sizeof(*f));
}

static const char *cfg_file_get(const struct cfg_file *f, const char *key)
{
	for (size_t i = f->n; i > 0; i--) /* the last assignment wins */
		if (strcmp(f->keys[i - 1], key) == 0)
			return f->values[i - 1];
	return NULL;
}

static bool cfg_file_read(struct cfg_file *f, const char *path,
			  struct em_error *err)
{
	FILE *fp = fopen(path, "r");
	char line[1024], key[64], value[EM_CONFIG_STR_MAX];
	bool ok = false, is_entry;
	int lineno = 0;

	if (!fp) {
		em_error_set(err, EM_ERR_INVALID, "EMPORIUM_ENV_FILE",
			     "cannot read env file %s: %s", path, strerror(errno));
		return false;
	}
	while (fgets(line, sizeof(line), fp)) {
		lineno++;
		if (!em_config_parse_line(line, key, sizeof(key), value,
					  sizeof(value), &is_entry)) {
			em_error_set(err, EM_ERR_INVALID, "EMPORIUM_ENV_FILE",
				     "%s:%d: not a KEY=VALUE line", path, lineno);
			goto done;
		}
		if (!is_entry)
			continue;
		if (f->n == f->cap) {
			f->cap = f->cap ? f->cap * 2 : 32;
			f->keys = xrealloc(f->keys, f->cap * sizeof(*f->keys));
			f->values = xrealloc(f->values, f->cap * sizeof(*f->values));
		}
		memcpy(f->keys[f->n], key, sizeof(key));
		memcpy(f->values[f->n], value, sizeof(value));
		f->n++;
	}
	ok = true;
done:
	fclose(fp);
	return ok;
}

static bool cfg_parse_number(const char *s, int base, long long *out)
{
	char *end;

	if (!*s)
		return false;
	errno = 0;
	*out = strtoll(s, &end, base);
	return errno == 0 && *end == '\0';
}

/* Applies one variable's text to cfg, checking type and bounds. */
static bool cfg_apply(struct em_config *cfg, const struct cfg_entry *e,
		      const char *text, struct em_error *err)
{
	char *base = (char *)cfg;
	long long n;

	switch (e->type) {
	case CFG_STR:
	case CFG_URI:
		if (strlen(text) < (size_t)e->min || strlen(text) >= e->size) {
			em_error_set(err, EM_ERR_INVALID, e->var.name,
				     "%s must be 1 to %zu characters", e->var.name,
				     e->size - 1);
			return false;
		}
		if (e->type == CFG_URI && !strstr(text, "://")) {
			em_error_set(err, EM_ERR_INVALID, e->var.name,
				     "%s must be a URL (scheme://...)", e->var.name);
			return false;
		}
		memcpy(base + e->offset, text, strlen(text) + 1);
		return true;
	case CFG_INT:
	case CFG_OCTAL:
	case CFG_SIZE:
		if (!cfg_parse_number(text, e->type == CFG_OCTAL ? 8 : 10, &n) ||
		    n < e->min || n > e->max) {
			em_error_set(err, EM_ERR_INVALID, e->var.name,
				     "%s must be a whole number from %lld to %lld, got \"%.40s\"",
				     e->var.name, e->min, e->max, text);
			return false;
		}
		if (e->type == CFG_SIZE)
			*(int64_t *)(void *)(base + e->offset) = (int64_t)n;
		else
			*(int *)(void *)(base + e->offset) = (int)n;
		return true;
	case CFG_LOGLEVEL:
		if (!em_log_level_parse(text, (enum em_log_level *)(void *)(base + e->offset))) {
			em_error_set(err, EM_ERR_INVALID, e->var.name,
				     "%s must be debug, info, warn or error", e->var.name);
			return false;
		}
		return true;
	}
	return false;
}

/* Picks the env file: explicit, then /etc, then a checkout's .env. */
static const char *cfg_env_file_path(bool *required)
{
	const char *explicit = getenv("EMPORIUM_ENV_FILE");

	*required = false;
	if (explicit && *explicit) {
		*required = true;
		return explicit;
	}
	if (access("/etc/emporium/emporium.env", R_OK) == 0)
		return "/etc/emporium/emporium.env";
	if (access(".env", R_OK) == 0)
		return ".env";
	return NULL;
}

bool em_config_load(struct em_config *cfg, struct em_error *err)
{
	struct cfg_file file = { 0 };
	bool required, ok = false;
	const char *path = cfg_env_file_path(&required);

	memset(cfg, 0, sizeof(*cfg));
	if (path) {
		if (!cfg_file_read(&file, path, err))
			goto done;
		snprintf(cfg->env_file, sizeof(cfg->env_file), "%s", path);
	}
	for (size_t i = 0; i < CFG_COUNT; i++) {
		const struct cfg_entry *e = &cfg_table[i];
		const char *v = getenv(e->var.name);

		if (!v)
			v = cfg_file_get(&file, e->var.name);
		if (!v)
			v = e->var.default_value;
		if (!cfg_apply(cfg, e, v, err))
			goto done;
	}
	ok = true;
done:
	cfg_file_release(&file);
	return ok;
}
