/*
 * modules.c - the one list of modules, and the readers of it.
 *
 * Adding a module: its folder (src/<mod>/module.c defines its
 * descriptor), its local.mk (included by Makefile.am), and one line in
 * em_modules below. Nothing else lists modules. The order is the order
 * route tables are tried and sections appear in emporium.env.example.
 */
#include "app/modules.h"

#include <stdio.h>
#include <string.h>

extern const struct em_module ops_module;
extern const struct em_module jobs_module;
extern const struct em_module auth_module;
extern const struct em_module media_module;
extern const struct em_module catalog_module;
extern const struct em_module inventory_module;
extern const struct em_module cart_module;
extern const struct em_module orders_module;
extern const struct em_module payments_module;
extern const struct em_module reports_module;

const struct em_module *const em_modules[] = {
	&ops_module,
	&jobs_module,
	&auth_module,
	&media_module,
	&catalog_module,
	&inventory_module,
	&cart_module,
	&orders_module,
	&payments_module,
	&reports_module,
	NULL,
};

bool em_app_config_load(struct em_config *cfg, struct em_error *err)
{
	const struct em_config_section *sections[EM_CONFIG_SECTIONS_MAX + 1];
	size_t n = 0;

	for (size_t i = 0; em_modules[i]; i++) {
		if (!em_modules[i]->config)
			continue;
		if (n == EM_CONFIG_SECTIONS_MAX) {
			em_error_set(err, EM_ERR_INTERNAL, NULL,
				     "more modules with configuration than EM_CONFIG_SECTIONS_MAX");
			return false;
		}
		sections[n++] = em_modules[i]->config;
	}
	sections[n] = NULL;
	return em_config_load(cfg, sections, err);
}

bool em_modules_route_tables(const struct em_route_table **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; em_modules[i]; i++)
		for (size_t t = 0; em_modules[i]->routes && em_modules[i]->routes[t]; t++) {
			if (n + 1 >= max)
				return false;
			out[n++] = em_modules[i]->routes[t];
		}
	if (n >= max)
		return false;
	out[n] = NULL;
	return true;
}

em_authenticate_fn em_modules_authenticator(void)
{
	for (size_t i = 0; em_modules[i]; i++)
		if (em_modules[i]->authenticate)
			return em_modules[i]->authenticate;
	return NULL;
}

int64_t em_modules_upload_max_body(const struct em_config *cfg)
{
	int64_t max = 0;

	for (size_t i = 0; em_modules[i]; i++)
		if (em_modules[i]->upload_max_body) {
			int64_t v = em_modules[i]->upload_max_body(cfg);

			if (v > max)
				max = v;
		}
	return max;
}

bool em_modules_indexes_create(struct em_store *st, struct em_error *err)
{
	for (size_t i = 0; em_modules[i]; i++)
		if (!store_indexes_create(st, em_modules[i]->indexes, em_modules[i]->nindexes, err) ||
		    !store_validators_apply(st, em_modules[i]->validators, em_modules[i]->nvalidators,
					    err)) {
			char why[sizeof(err->message)];

			snprintf(why, sizeof(why), "%s", err->message);
			em_error_set(err, err->kind, NULL, "module %s: %s", em_modules[i]->name, why);
			return false;
		}
	return true;
}

jobs_handler_fn em_modules_job_handler(const char *type)
{
	for (size_t i = 0; em_modules[i]; i++)
		for (const struct jobs_handler *h = em_modules[i]->job_handlers; h && h->type; h++)
			if (strcmp(h->type, type) == 0)
				return h->run;
	return NULL;
}

size_t em_modules_periodics(const struct jobs_periodic **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; em_modules[i]; i++)
		for (const struct jobs_periodic *p = em_modules[i]->periodics; p && p->name; p++)
			if (n < max)
				out[n++] = p;
	return n;
}

const struct em_admin_cmd *em_modules_admin_cmd(const char *name)
{
	for (size_t i = 0; em_modules[i]; i++)
		for (const struct em_admin_cmd *c = em_modules[i]->admin_cmds; c && c->name; c++)
			if (strcmp(c->name, name) == 0)
				return c;
	return NULL;
}

bool em_modules_process_init(const struct em_config *cfg, struct em_error *err)
{
	for (size_t i = 0; em_modules[i]; i++)
		if (em_modules[i]->process_init && !em_modules[i]->process_init(cfg, err))
			return false;
	return true;
}

void em_modules_process_release(void)
{
	size_t n = 0;

	while (em_modules[n])
		n++;
	while (n-- > 0) /* in reverse: a module may rely on one listed before it */
		if (em_modules[n]->process_release)
			em_modules[n]->process_release();
}

void em_modules_config_each(void (*fn)(const struct em_config_section *section,
				       const struct em_config_entry *entry, void *ctx),
			    void *ctx)
{
	for (size_t e = 0; e < em_config_core.count; e++)
		fn(&em_config_core, &em_config_core.entries[e], ctx);
	for (size_t i = 0; em_modules[i]; i++) {
		const struct em_config_section *s = em_modules[i]->config;

		for (size_t e = 0; s && e < s->count; e++)
			fn(s, &s->entries[e], ctx);
	}
}

/* Prints text as comment lines, one "# " per line of it. */
static void modules_comment(FILE *out, const char *text)
{
	while (text && *text) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text) : strlen(text);

		fprintf(out, "# %.*s\n", (int)len, text);
		text = nl ? nl + 1 : NULL;
	}
}

static void modules_section_example(FILE *out, const struct em_config_section *s)
{
	fprintf(out, "\n# ---- %s (%s) ----\n", s->title, s->name);
	if (s->doc)
		modules_comment(out, s->doc);
	for (size_t e = 0; e < s->count; e++) {
		const struct em_config_var *v = &s->entries[e].var;

		modules_comment(out, v->help);
		fprintf(out, "%s=%s\n", v->name, v->default_value);
	}
}

void em_modules_env_example(FILE *out)
{
	fputs("# Emporium configuration: every variable, with its default.\n"
	      "# Generated by `emporium-admin env-example` from the modules' descriptors\n"
	      "# (src/*/module.c): edit those, not this file.\n"
	      "#\n"
	      "# Production reads /etc/emporium/emporium.env (systemd's EnvironmentFile);\n"
	      "# a checkout reads ./.env; EMPORIUM_ENV_FILE names another file. Variables\n"
	      "# set in the environment win over the file. A bad value stops the program\n"
	      "# at start with a message naming the variable.\n"
	      "# `emporium-admin check-config` validates a file without starting anything.\n",
	      out);
	modules_section_example(out, &em_config_core);
	for (size_t i = 0; em_modules[i]; i++)
		if (em_modules[i]->config)
			modules_section_example(out, em_modules[i]->config);
}
