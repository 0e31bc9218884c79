/*
 * trivial.c - the ceiling of the architecture: the least a libfcgi
 * responder can do (fixed JSON, same size as GET /api/v1/health), in as
 * many prefork processes as Emporium runs. bench/run.sh puts it behind
 * the same nginx configuration as Emporium.
 *
 *   trivial SOCKET_PATH WORKERS [BODY_BYTES]
 *
 * With BODY_BYTES (>= 15) the body is a JSON object padded to that size
 * ({"pad":"xxx..."}), so a larger API answer can be compared with the
 * same-size ceiling (bench/catalog/run.sh).
 */
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char fixed[] = "Status: 200 OK\r\nContent-Type: application/json\r\n"
			    "Content-Length: 15\r\nCache-Control: no-store\r\n\r\n"
			    "{\"status\":\"ok\"}";

int main(int argc, char **argv)
{
	const char *reply = fixed;
	int fd, n, len = (int)sizeof(fixed) - 1, size = 0;

	if (argc < 3 || argc > 4 || (n = atoi(argv[2])) < 1 ||
	    (argc == 4 && ((size = atoi(argv[3])) < 15 || size > 16 << 20))) {
		fprintf(stderr, "usage: trivial SOCKET_PATH WORKERS [BODY_BYTES]\n");
		return 2;
	}
	if (argc == 4) {
		char *r = malloc((size_t)size + 256);
		int h;

		if (!r)
			return 1;
		h = snprintf(r, 256, "Status: 200 OK\r\nContent-Type: application/json\r\n"
				   "Content-Length: %d\r\nCache-Control: no-store\r\n\r\n{\"pad\":\"",
				size);

		/* h counts the 8 bytes of {"pad":" already; 2 more close it */
		memset(r + h, 'x', (size_t)size - 10);
		memcpy(r + h + size - 10, "\"}", 2);
		reply = r;
		len = h + size - 8;
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
				FCGX_PutStr(reply, len, req.out);
				FCGX_Finish_r(&req);
			}
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	return 0;
}
