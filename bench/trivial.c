/*
 * trivial.c - the ceiling of the architecture: the least a libfcgi
 * responder can do (fixed JSON, same size as GET /api/v1/health), in as
 * many prefork processes as Emporium runs. bench/run.sh puts it behind
 * the same nginx configuration as Emporium.
 *
 *   trivial SOCKET_PATH WORKERS
 */
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char reply[] = "Status: 200 OK\r\nContent-Type: application/json\r\n"
			    "Content-Length: 15\r\nCache-Control: no-store\r\n\r\n"
			    "{\"status\":\"ok\"}";

int main(int argc, char **argv)
{
	int fd, n;

	if (argc != 3 || (n = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: trivial SOCKET_PATH WORKERS\n");
		return 2;
	}
	if (FCGX_Init() != 0 || (fd = FCGX_OpenSocket(argv[1], 1024)) < 0) {
		perror("listen");
		return 1;
	}
	chmod(argv[1], 0666);
	for (int i = 0; i < n; i++) {
		if (fork() == 0) {
			FCGX_Request req;

			prctl(PR_SET_PDEATHSIG, SIGTERM);
			FCGX_InitRequest(&req, fd, 0);
			while (FCGX_Accept_r(&req) >= 0) {
				FCGX_PutStr(reply, (int)sizeof(reply) - 1, req.out);
				FCGX_Finish_r(&req);
			}
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	return 0;
}
