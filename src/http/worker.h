/*
 * worker.h - the FastCGI worker process and the prefork master.
 *
 * The master (em_master_run) binds the listening socket once, forks the
 * workers, and supervises them: respawn with backoff, recycling after
 * max_requests, rolling reload on SIGHUP, graceful stop on SIGTERM/SIGINT,
 * systemd notifications. A worker (em_worker_run) opens its own MongoDB
 * client after fork and serves one request at a time until told to stop.
 */
#ifndef EM_HTTP_WORKER_H
#define EM_HTTP_WORKER_H

#include <sys/types.h>

#include "core/config.h"

/* Runs the master until stopped; returns the process exit code. */
int em_master_run(struct em_config *cfg);

struct em_metrics;

/*
 * Runs a worker on listen_fd (non-blocking, shared by all workers) until
 * SIGTERM, max_requests, or the death of master_pid. metrics (may be
 * NULL) is the master's shared area and slot this worker's index in it.
 * Never returns.
 */
void em_worker_run(int listen_fd, const struct em_config *cfg, pid_t master_pid,
		   struct em_metrics *metrics, int slot) __attribute__((noreturn));

#endif
