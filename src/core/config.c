#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"

#define CSTR(f) EM_CFG_FIELD_STR(struct em_config, f)
#define CNUM(f) EM_CFG_FIELD_NUM(struct em_config, f)

static const struct em_config_entry core_entries[] = {
	{ { "EMPORIUM_LISTEN", "unix:/run/emporium/fcgi.sock",
	    "FastCGI socket nginx connects to: unix:/path, host:port or :port.\n"
	    "Across hosts, listen on a private address and firewall it to the nginx\n"
	    "hosts: FastCGI has no authentication of its own." },
	  EM_CFG_STR, 1, 0, CSTR(listen) },
	{ { "EMPORIUM_FCGI_ALLOWED", "127.0.0.1 ::1",
	    "with a TCP EMPORIUM_LISTEN: the only addresses that may connect (the nginx\n"
	    "hosts), addresses or CIDR networks separated by spaces; others are closed\n"
	    "at once, unread" },
	  EM_CFG_STR, 1, 0, CSTR(fcgi_allowed) },
	{ { "EMPORIUM_SOCKET_MODE", "0660",
	    "permissions of a unix socket (octal); nginx's user must be able to write it" },
	  EM_CFG_OCTAL, 0, 0777, CNUM(socket_mode) },
	{ { "EMPORIUM_BACKLOG", "1024", "listen backlog" },
	  EM_CFG_INT, 1, 65535, CNUM(backlog) },
	{ { "EMPORIUM_WORKERS", "0", "FastCGI worker processes; 0 = number of cores" },
	  EM_CFG_INT, 0, 256, CNUM(workers) },
	{ { "EMPORIUM_MAX_REQUESTS", "10000",
	    "requests a worker serves before it is recycled; 0 = never" },
	  EM_CFG_INT, 0, 1000000000, CNUM(max_requests) },
	{ { "EMPORIUM_REQUEST_TIMEOUT", "30",
	    "seconds a request may run before its worker is killed" },
	  EM_CFG_INT, 1, 3600, CNUM(request_timeout_s) },
	{ { "EMPORIUM_SHUTDOWN_TIMEOUT", "30",
	    "seconds in-flight requests get to finish on stop or reload" },
	  EM_CFG_INT, 1, 3600, CNUM(shutdown_timeout_s) },
	{ { "EMPORIUM_MAX_BODY", "1048576", "largest request body in bytes" },
	  EM_CFG_SIZE, 1024, 64LL * 1024 * 1024, CNUM(max_body) },
	{ { "EMPORIUM_MONGODB_URI", "mongodb://127.0.0.1:27017/?replicaSet=rs0",
	    "MongoDB connection string. Transactions need a replica set, so name it.\n"
	    "Credentials go here too: keep this file readable by root and emporium only." },
	  EM_CFG_URI, 1, 0, CSTR(mongodb_uri) },
	{ { "EMPORIUM_DB_NAME", "emporium", "MongoDB database name" },
	  EM_CFG_STR, 1, 0, CSTR(db_name) },
	{ { "EMPORIUM_DB_TIMEOUT_MS", "2000",
	    "server selection / connect bound in ms; health/ready answers within it" },
	  EM_CFG_INT, 100, 60000, CNUM(db_timeout_ms) },
	{ { "EMPORIUM_PUBLIC_URL", "https://localhost:8443",
	    "the shop's public base URL (links in mail, OAuth redirects)" },
	  EM_CFG_URI, 1, 0, CSTR(public_url) },
	{ { "EMPORIUM_LOG_LEVEL", "info", "debug, info, warn or error" },
	  EM_CFG_LOGLEVEL, 0, 0, CNUM(log_level) },
	{ { "EMPORIUM_CURRENCY", "BDT", "the shop's ISO 4217 currency" },
	  EM_CFG_STR, 3, 0, CSTR(currency) },

};

const struct em_config_section em_config_core = {
	.name = "core",
	.title = "serving and the database",
	.entries = core_entries,
	.count = sizeof(core_entries) / sizeof(core_entries[0]),
	.size = 0,
};

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

/* Applies one variable's text to the struct at base, checking type and bounds. */
static bool cfg_apply(char *base, const struct em_config_entry *e, const char *text,
		      struct em_error *err)
{
	long long n;

	switch (e->type) {
	case EM_CFG_SECRET:
		if (text[0] && (strlen(text) < (size_t)e->min || strlen(text) >= e->size)) {
			/* never echo a secret's value */
			em_error_set(err, EM_ERR_INVALID, e->var.name,
				     "%s must be empty or %lld to %zu bytes long", e->var.name,
				     e->min, e->size - 1);
			return false;
		}
		memcpy(base + e->offset, text, strlen(text) + 1);
		return true;
	case EM_CFG_ENUM: {
		size_t tl = strlen(text);
		const char *c = e->choices;

		while (tl && c && *c) {
			const char *bar = strchr(c, '|');
			size_t cl = bar ? (size_t)(bar - c) : strlen(c);

			if (cl == tl && memcmp(c, text, tl) == 0 && tl < e->size) {
				memcpy(base + e->offset, text, tl + 1);
				return true;
			}
			c = bar ? bar + 1 : NULL;
		}
		em_error_set(err, EM_ERR_INVALID, e->var.name, "%s must be one of %s, got \"%.40s\"",
			     e->var.name, e->choices, text);
		return false;
	}
	case EM_CFG_STR:
	case EM_CFG_URI:
		if (strlen(text) < (size_t)e->min || strlen(text) >= e->size) {
			em_error_set(err, EM_ERR_INVALID, e->var.name,
				     "%s must be %lld to %zu characters", e->var.name,
				     e->min, e->size - 1);
			return false;
		}
		if (e->type == EM_CFG_URI && !strstr(text, "://")) {
			em_error_set(err, EM_ERR_INVALID, e->var.name,
				     "%s must be a URL (scheme://...)", e->var.name);
			return false;
		}
		memcpy(base + e->offset, text, strlen(text) + 1);
		return true;
	case EM_CFG_INT:
	case EM_CFG_OCTAL:
	case EM_CFG_SIZE:
		if (!cfg_parse_number(text, e->type == EM_CFG_OCTAL ? 8 : 10, &n) ||
		    n < e->min || n > e->max) {
			em_error_set(err, EM_ERR_INVALID, e->var.name,
				     "%s must be a whole number from %lld to %lld, got \"%.40s\"",
				     e->var.name, e->min, e->max, text);
			return false;
		}
		if (e->type == EM_CFG_SIZE)
			*(int64_t *)(void *)(base + e->offset) = (int64_t)n;
		else
			*(int *)(void *)(base + e->offset) = (int)n;
		return true;
	case EM_CFG_BOOL:
		if (strcmp(text, "true") != 0 && strcmp(text, "false") != 0) {
			em_error_set(err, EM_ERR_INVALID, e->var.name,
				     "%s must be true or false, got \"%.40s\"", e->var.name, text);
			return false;
		}
		*(bool *)(void *)(base + e->offset) = text[0] == 't';
		return true;
	case EM_CFG_LOGLEVEL:
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

bool em_config_lookup(const struct em_config *cfg, const char *name, char *out,
		      size_t size)
{
	const char *v = getenv(name);

	for (size_t i = cfg->nextra; !v && i > 0; i--)
		if (strcmp(cfg->extra[i - 1].key, name) == 0)
			v = cfg->extra[i - 1].value;
	if (!v || (size_t)snprintf(out, size, "%s", v) >= size)
		return false;
	return true;
}

const void *em_config_section(const struct em_config *cfg,
			      const struct em_config_section *section)
{
	for (size_t i = 0; i < cfg->nplaced; i++)
		if (cfg->placed[i].section == section)
			return cfg->area + cfg->placed[i].offset;
	em_err("configuration section %s was not loaded", section->name);
	abort();
}

void *em_config_section_mut(struct em_config *cfg, const struct em_config_section *section)
{
	return (void *)em_config_section(cfg, section);
}

/* Reads every variable of one section into base. */
static bool cfg_section_load(char *base, const struct em_config_section *sec,
			     const struct cfg_file *file, struct em_error *err)
{
	for (size_t i = 0; i < sec->count; i++) {
		const struct em_config_entry *e = &sec->entries[i];
		const char *v = getenv(e->var.name);

		if (!v)
			v = cfg_file_get(file, e->var.name);
		if (!v)
			v = e->var.default_value;
		if (!cfg_apply(base, e, v, err))
			return false;
	}
	return !sec->check || sec->check(base, err);
}

/* Gives a module's section its aligned place in cfg->area. */
static bool cfg_section_place(struct em_config *cfg, const struct em_config_section *sec,
			      size_t *used, struct em_error *err)
{
	size_t align = _Alignof(max_align_t), off = (*used + align - 1) / align * align;

	if (cfg->nplaced == EM_CONFIG_SECTIONS_MAX || sec->size > EM_CONFIG_AREA - off) {
		em_error_set(err, EM_ERR_INTERNAL, NULL,
			     "configuration section %s does not fit (EM_CONFIG_AREA)", sec->name);
		return false;
	}
	for (size_t i = 0; i < cfg->nplaced; i++)
		if (cfg->placed[i].section == sec)
			return true; /* listed twice: one place */
	cfg->placed[cfg->nplaced].section = sec;
	cfg->placed[cfg->nplaced].offset = off;
	cfg->nplaced++;
	*used = off + sec->size;
	return true;
}

bool em_config_load(struct em_config *cfg, const struct em_config_section *const *sections,
		    struct em_error *err)
{
	struct cfg_file file = { 0 };
	bool required, ok = false;
	const char *path = cfg_env_file_path(&required);
	size_t used = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (path) {
		if (!cfg_file_read(&file, path, err))
			goto done;
		snprintf(cfg->env_file, sizeof(cfg->env_file), "%s", path);
	}
	if (!cfg_section_load((char *)cfg, &em_config_core, &file, err))
		goto done;
	for (size_t s = 0; sections && sections[s]; s++) {
		if (sections[s] == &em_config_core)
			continue;
		if (!cfg_section_place(cfg, sections[s], &used, err) ||
		    !cfg_section_load((char *)em_config_section_mut(cfg, sections[s]), sections[s],
				      &file, err))
			goto done;
	}
	for (size_t i = 0; i < file.n && cfg->nextra < sizeof(cfg->extra) / sizeof(cfg->extra[0]); i++) {
		if (strncmp(file.keys[i], "EMPORIUM_OAUTH_", 15) != 0)
			continue;
		snprintf(cfg->extra[cfg->nextra].key, sizeof(cfg->extra[0].key), "%s", file.keys[i]);
		snprintf(cfg->extra[cfg->nextra].value, sizeof(cfg->extra[0].value), "%s",
			 file.values[i]);
		cfg->nextra++;
	}
	ok = true;
done:
	cfg_file_release(&file);
	return ok;
}
