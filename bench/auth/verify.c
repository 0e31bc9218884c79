/*
 * verify.c - the raw argon2id verification rate on this machine: one
 * password hashed with crypto_pwhash_str at the given cost, then
 * crypto_pwhash_str_verify in WORKERS forked processes (as many as the
 * FastCGI pool has, one verification at a time each, like a worker) for
 * SECONDS. Prints "verifies N seconds S rate R" (R in verifies/s, all
 * processes together). bench/auth/run.sh compares the login rate to R.
 *
 *   verify MEMORY_KIB ITERATIONS WORKERS SECONDS
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const char pw[] = "bench-Passw0rd-not-common";
	char hash[crypto_pwhash_STRBYTES];
	int fds[2], workers;
	long mem_kib, iters, total = 0;
	double secs, t0, t1;

	if (argc != 5 || (mem_kib = atol(argv[1])) < 8 || (iters = atol(argv[2])) < 1 ||
	    (workers = atoi(argv[3])) < 1 || (secs = atof(argv[4])) <= 0) {
		fprintf(stderr, "usage: verify MEMORY_KIB ITERATIONS WORKERS SECONDS\n");
		return 2;
	}
	if (sodium_init() < 0 ||
	    crypto_pwhash_str_alg(hash, pw, strlen(pw), (unsigned long long)iters,
				  (size_t)mem_kib * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		fprintf(stderr, "verify: hashing failed\n");
		return 1;
	}
	if (pipe(fds) != 0) {
		perror("pipe");
		return 1;
	}
	t0 = now_s();
	for (int i = 0; i < workers; i++) {
		if (fork() == 0) {
			long n = 0;

			close(fds[0]);
			while (now_s() - t0 < secs) {
				if (crypto_pwhash_str_verify(hash, pw, strlen(pw)) != 0)
					_exit(1);
				n++;
			}
			if (write(fds[1], &n, sizeof(n)) != (ssize_t)sizeof(n))
				_exit(1);
			_exit(0);
		}
	}
	close(fds[1]);
	for (long n; read(fds[0], &n, sizeof(n)) == (ssize_t)sizeof(n);)
		total += n;
	while (wait(NULL) > 0)
		;
	/* each process stops after the first verification that ends past
	 * the deadline: divide by the time the last one took */
	t1 = now_s();
	printf("verifies %ld seconds %.3f rate %.2f\n", total, t1 - t0, (double)total / (t1 - t0));
	return 0;
}
