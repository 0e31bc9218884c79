/*
 * emporium-fcgi - the FastCGI application server: a prefork master and its
 * workers (src/http/master.c, src/http/worker.c). Configuration comes from
 * the environment and the env file (src/core/config.h); there are no flags.
 */
#include <stdio.h>
#include <string.h>

#include "app/modules.h"
#include "auth/auth.h"
#include "core/config.h"
#include "core/log.h"
#include "http/peer.h"
#include "http/worker.h"
#include "store/store.h"

int main(int argc, char **argv)
{
	struct em_config cfg;
	struct em_error err = EM_ERROR_INIT;
	int rc;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: emporium-fcgi\n"
		       "Configured by EMPORIUM_* environment variables and the env file\n"
		       "(EMPORIUM_ENV_FILE, /etc/emporium/emporium.env or ./.env);\n"
		       "see emporium.env.example. SIGHUP reloads, SIGTERM stops.\n");
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "emporium-fcgi takes no arguments (see --help)\n");
		return 2;
	}
	em_log_set_role("master");
	if (!em_app_config_load(&cfg, &err)) {
		em_err("configuration error: %s", err.message);
		return 1;
	}
	em_log_set_level(cfg.log_level);
	/* refused now rather than by every worker it would start */
	{
		struct em_peer_allow allow;

		if (!em_peer_allow_parse(cfg.fcgi_allowed, &allow, &err)) {
			em_err("configuration error: %s", err.message);
			return 1;
		}
	}
	if (!auth_config(&cfg)->jwt_secret[0]) {
		em_err("configuration error: EMPORIUM_JWT_SECRET must be set "
		       "(at least 32 random bytes, e.g. openssl rand -base64 48)");
		return 1;
	}
	store_global_init();
	rc = em_master_run(&cfg);
	store_global_cleanup();
	return rc;
}
