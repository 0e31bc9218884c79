#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"

enum cfg_type {
	CFG_STR,      /* min..size-1 bytes */
	CFG_INT, CFG_OCTAL, CFG_SIZE,
	CFG_LOGLEVEL,
	CFG_URI,      /* scheme://... */
	CFG_SECRET,   /* empty (feature off) or at least min bytes; never printed */
	CFG_ENUM,     /* one of the '|'-separated words in choices */
};

/* The variable table: name, default, type, bounds, where it lands. */
struct cfg_entry {
	struct em_config_var var;
	enum cfg_type type;
	long long min, max;
	size_t offset, size;
	const char *choices; /* CFG_ENUM */
};

#define STR(f) offsetof(struct em_config, f), sizeof(((struct em_config *)0)->f), NULL
#define NUM(f) offsetof(struct em_config, f), 0, NULL
#define CHOICE(f, c) offsetof(struct em_config, f), sizeof(((struct em_config *)0)->f), (c)

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
	{ { "EMPORIUM_CURRENCY", "BDT", "the shop's ISO 4217 currency" },
	  CFG_STR, 3, 0, STR(currency) },

	{ { "EMPORIUM_JWT_SECRET", "",
	    "HS256 key for access tokens: at least 32 random bytes; required by emporium-fcgi" },
	  CFG_SECRET, 32, 0, STR(jwt_secret) },
	{ { "EMPORIUM_JWT_ISSUER", "emporium", "the iss claim of access tokens" },
	  CFG_STR, 1, 0, STR(jwt_issuer) },
	{ { "EMPORIUM_JWT_AUDIENCE", "emporium-api", "the aud claim of access tokens" },
	  CFG_STR, 1, 0, STR(jwt_audience) },
	{ { "EMPORIUM_ACCESS_TOKEN_TTL", "900", "access token lifetime in seconds" },
	  CFG_INT, 60, 86400, NUM(access_ttl_s) },
	{ { "EMPORIUM_REFRESH_TOKEN_TTL", "2592000", "refresh token lifetime in seconds" },
	  CFG_INT, 3600, 31536000, NUM(refresh_ttl_s) },
	{ { "EMPORIUM_ARGON2_MEMORY_KIB", "19456",
	    "argon2id memory cost in KiB (OWASP: at least 19456)" },
	  CFG_INT, 8192, 4194304, NUM(argon2_memory_kib) },
	{ { "EMPORIUM_ARGON2_ITERATIONS", "2", "argon2id time cost (OWASP: at least 2)" },
	  CFG_INT, 1, 20, NUM(argon2_iterations) },
	{ { "EMPORIUM_OAUTH_PROVIDERS", "",
	    "space-separated OpenID Connect provider names; each NAME needs "
	    "EMPORIUM_OAUTH_<NAME>_ISSUER, _CLIENT_ID and _CLIENT_SECRET" },
	  CFG_STR, 0, 0, STR(oauth_providers) },

	{ { "EMPORIUM_SMTP_URL", "smtp://127.0.0.1:25",
	    "mail server: smtp://host:port (STARTTLS per EMPORIUM_SMTP_TLS) or smtps://host:465" },
	  CFG_URI, 1, 0, STR(smtp_url) },
	{ { "EMPORIUM_SMTP_TLS", "required",
	    "none (local catcher only), starttls (when offered) or required" },
	  CFG_ENUM, 0, 0, CHOICE(smtp_tls, "none|starttls|required") },
	{ { "EMPORIUM_SMTP_USER", "", "SMTP AUTH user; empty: no AUTH" },
	  CFG_STR, 0, 0, STR(smtp_user) },
	{ { "EMPORIUM_SMTP_PASSWORD", "", "SMTP AUTH password" },
	  CFG_SECRET, 1, 0, STR(smtp_password) },
	{ { "EMPORIUM_MAIL_FROM", "Emporium <shop@localhost>", "the From: of every mail" },
	  CFG_STR, 3, 0, STR(mail_from) },
	{ { "EMPORIUM_STAFF_EMAIL", "", "where staff alerts (low stock) go; empty: none" },
	  CFG_STR, 0, 0, STR(staff_email) },
	{ { "EMPORIUM_TEMPLATES_DIR", "/usr/share/emporium/templates",
	    "mail templates (a checkout uses ./templates)" },
	  CFG_STR, 1, 0, STR(templates_dir) },
	{ { "EMPORIUM_JOB_MAX_ATTEMPTS", "8", "attempts before a job is parked as dead" },
	  CFG_INT, 1, 100, NUM(job_max_attempts) },
	{ { "EMPORIUM_JOB_LEASE", "60",
	    "seconds a claimed job stays leased; another worker takes it after" },
	  CFG_INT, 5, 3600, NUM(job_lease_s) },
	{ { "EMPORIUM_JOB_POLL_MS", "1000", "how often an idle job worker looks for work" },
	  CFG_INT, 50, 60000, NUM(job_poll_ms) },
	{ { "EMPORIUM_JOB_BACKOFF_MS", "30000",
	    "ceiling of the first retry delay (ms); it doubles per attempt up to 1 h, full jitter" },
	  CFG_INT, 10, 3600000, NUM(job_backoff_ms) },

	{ { "EMPORIUM_MEDIA_STORAGE", "local", "local (served by nginx) or cloudinary" },
	  CFG_ENUM, 0, 0, CHOICE(media_storage, "local|cloudinary") },
	{ { "EMPORIUM_MEDIA_DIR", "/var/lib/emporium/media",
	    "where local images are written (nginx serves it at /media/)" },
	  CFG_STR, 1, 0, STR(media_dir) },
	{ { "EMPORIUM_MEDIA_URL_PREFIX", "/media/", "URL prefix of local images" },
	  CFG_STR, 1, 0, STR(media_url_prefix) },
	{ { "EMPORIUM_MEDIA_MAX_BYTES", "5242880", "largest image upload in bytes" },
	  CFG_SIZE, 1024, 64LL * 1024 * 1024, NUM(media_max_bytes) },
	{ { "EMPORIUM_MEDIA_MAX_PIXELS", "40000000", "largest image in pixels (width x height)" },
	  CFG_SIZE, 1, 1000000000LL, NUM(media_max_pixels) },
	{ { "EMPORIUM_CLOUDINARY_API_URL", "https://api.cloudinary.com",
	    "Cloudinary API base URL" },
	  CFG_URI, 1, 0, STR(cloudinary_url) },
	{ { "EMPORIUM_CLOUDINARY_CLOUD", "", "Cloudinary cloud name" },
	  CFG_STR, 0, 0, STR(cloudinary_cloud) },
	{ { "EMPORIUM_CLOUDINARY_API_KEY", "", "Cloudinary API key" },
	  CFG_STR, 0, 0, STR(cloudinary_key) },
	{ { "EMPORIUM_CLOUDINARY_API_SECRET", "", "Cloudinary API secret" },
	  CFG_SECRET, 1, 0, STR(cloudinary_secret) },
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
	case CFG_SECRET:
		if (text[0] && (strlen(text) < (size_t)e->min || strlen(text) >= e->size)) {
			/* never echo a secret's value */
			em_error_set(err, EM_ERR_INVALID, e->var.name,
				     "%s must be empty or %lld to %zu bytes long", e->var.name,
				     e->min, e->size - 1);
			return false;
		}
		memcpy(base + e->offset, text, strlen(text) + 1);
		return true;
	case CFG_ENUM: {
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
	case CFG_STR:
	case CFG_URI:
		if (strlen(text) < (size_t)e->min || strlen(text) >= e->size) {
			em_error_set(err, EM_ERR_INVALID, e->var.name,
				     "%s must be %lld to %zu characters", e->var.name,
				     e->min, e->size - 1);
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
