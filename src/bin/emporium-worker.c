/*
 * emporium-worker - runs the jobs of the transactional outbox (mail,
 * alerts, sweeps); see src/jobs/jobs.h. Configuration comes from the
 * environment and the env file like emporium-fcgi's; there are no flags.
 * Several workers, on several hosts, may serve one database.
 *
 * SIGTERM/SIGINT: finish the job in hand, then exit 0. SIGHUP: re-read
 * the configuration. Tells systemd READY=1 / STOPPING=1 (Type=notify).
 * EMPORIUM_WORKER_METRICS_LISTEN=127.0.0.1:9465 serves its own GET
 * /metrics (src/jobs/metrics_listen.c).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "app/modules.h"
#include "core/config.h"
#include "core/log.h"
#include "jobs/jobs.h"
#include "store/store.h"

static volatile sig_atomic_t worker_stop, worker_reload;

static void worker_on_signal(int sig)
{
	if (sig == SIGHUP)
		worker_reload = 1;
	else
		worker_stop = 1;
}

static bool worker_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_on_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: the idle sleep must wake up at once */
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGHUP, &sa, NULL) != 0)
		return false;
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL) == 0;
}

int main(int argc, char **argv)
{
	struct em_config cfg;
	struct em_error err = EM_ERROR_INIT;
	struct jobs_worker w;
	struct em_metrics *metrics = NULL;
	int rc = 1;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: emporium-worker\n"
		       "Runs background jobs (mail, alerts, sweeps) from the jobs collection.\n"
		       "Configured by EMPORIUM_* environment variables and the env file\n"
		       "(EMPORIUM_ENV_FILE, /etc/emporium/emporium.env or ./.env);\n"
		       "see emporium.env.example. SIGHUP reloads, SIGTERM stops after the\n"
		       "current job.\n");
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "emporium-worker takes no arguments (see --help)\n");
		return 2;
	}
	em_log_set_role("jobworker");
	if (!em_app_config_load(&cfg, &err)) {
		em_err("configuration error: %s", err.message);
		return 1;
	}
	em_log_set_level(cfg.log_level);
	if (!worker_signals()) {
		em_err("cannot install signal handlers");
		return 1;
	}
	store_global_init();
	if (!em_modules_process_init(&cfg, &err)) {
		em_err("cannot start a module: %s", err.message);
		goto done;
	}
	if (!jobs_worker_init(&w, &cfg, &err)) {
		em_err("cannot start: %s", err.message);
		goto done;
	}
	/* the process's counters: the same slot layout as a FastCGI worker's */
	metrics = em_metrics_create();
	w.metrics = metrics ? &metrics->slots[0] : NULL;
	em_metrics_events_attach(w.metrics);
	if (!jobs_metrics_open(&w, &err)) {
		em_err("cannot start: %s", err.message);
		jobs_worker_release(&w);
		goto done;
	}
	rc = jobs_worker_loop(&w, &worker_stop, &worker_reload);
	jobs_metrics_close(&w);
	jobs_worker_release(&w);
done:
	em_metrics_events_attach(NULL);
	if (metrics)
		munmap(metrics, sizeof(*metrics));
	em_modules_process_release();
	store_global_cleanup();
	return rc;
}
