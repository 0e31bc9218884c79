/*
 * dbcache.c - a database that costs these cores (almost) nothing, for one
 * benchmark run: a proxy in front of the real one (the stand-in or mongod)
 * that answers a repeated read from memory. On a 2-core machine the
 * database shares the cores with wrk, nginx and the pool; in production it
 * runs on its own host. Issue 16 asks what a product detail reaches "when
 * the database is not the bottleneck": with this proxy between the pool and
 * the database the pool does all of its work (the same query, the same
 * reply bytes to decode, the same rendering), only the database's CPU
 * leaves the machine's budget. Not a cache for production: it knows only
 * what passes through it.
 *
 *   dbcache LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT
 *
 * LISTEN_PORT 0 picks a free port; "ready PORT" on stdout once listening.
 * The pool reaches it with mongodb://127.0.0.1:PORT/?replicaSet=rs0&directConnection=true
 * (directConnection: the upstream's hello names the upstream's address, and
 * replica-set discovery would go there instead).
 *
 * What is answered from memory: an OP_MSG "find" (one body section, no
 * flags, not in a transaction) whose command, less lsid and $clusterTime,
 * is byte-for-byte one seen before, and whose reply was ok with an
 * exhausted cursor (id 0). Everything else goes to the upstream as it is,
 * on one upstream connection per client connection. Any command that is
 * not a known read empties the memory (a write could change any answer),
 * and a reply that was in flight while that happened is not kept. On
 * SIGTERM or SIGINT it prints "hits N misses N forwarded N cleared N" to
 * stderr and exits.
 */
#include <bson/bson.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { OP_MSG = 2013, MAX_MSG = 48 * 1000 * 1000, SLOTS = 1 << 14 };

struct entry {
	uint8_t *key, *reply; /* reply: the whole message, header included */
	size_t key_len, reply_len;
};

static struct {
	pthread_mutex_t lock;
	struct entry slot[SLOTS];
	uint64_t generation; /* bumped by every clear */
	size_t used;
	struct sockaddr_in upstream;
	atomic_ulong hits, misses, forwarded, cleared;
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* the commands that change nothing: anything else clears the memory */
static const char *const reads[] = {"find", "getMore", "killCursors", "hello", "isMaster", "ismaster",
				    "ping", "endSessions", "buildInfo", "buildinfo", "listIndexes",
				    "listCollections", "count", "distinct", NULL};

/* all of len bytes read (writing false) or written; false at EOF or on an error */
static bool io_full(int fd, void *buf, size_t len, bool writing)
{
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = writing ? write(fd, p, len) : read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static bool io_read(int fd, void *buf, size_t len)
{
	return io_full(fd, buf, len, false);
}

static bool io_write(int fd, const void *buf, size_t len)
{
	return io_full(fd, (void *)buf, len, true);
}

static int32_t le32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

static void put_le32(uint8_t *p, int32_t v)
{
	uint32_t u = (uint32_t)v;
	p[0] = (uint8_t)u;
	p[1] = (uint8_t)(u >> 8);
	p[2] = (uint8_t)(u >> 16);
	p[3] = (uint8_t)(u >> 24);
}

/* one whole wire message into *buf (grown as needed); false at EOF or on a bad length */
static bool msg_read(int fd, uint8_t **buf, size_t *cap, size_t *len)
{
	uint8_t head[4];
	int32_t n;
	if (!io_read(fd, head, 4))
		return false;
	n = le32(head);
	if (n < 16 || n > MAX_MSG)
		return false;
	if ((size_t)n > *cap) {
		uint8_t *grown = realloc(*buf, (size_t)n);
		if (!grown)
			return false;
		*buf = grown;
		*cap = (size_t)n;
	}
	memcpy(*buf, head, 4);
	*len = (size_t)n;
	return io_read(fd, *buf + 4, (size_t)n - 4);
}

static uint64_t hash(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static void cache_clear(void)
{
	pthread_mutex_lock(&cache.lock);
	for (size_t i = 0; i < SLOTS; i++) {
		free(cache.slot[i].key);
		free(cache.slot[i].reply);
		cache.slot[i] = (struct entry){0};
	}
	cache.used = 0;
	cache.generation++;
	pthread_mutex_unlock(&cache.lock);
	atomic_fetch_add(&cache.cleared, 1);
}

/* a hit is copied into *out (the caller patches the header) */
static bool cache_get(const bson_t *key, uint8_t **out, size_t *cap, size_t *len, uint64_t *generation)
{
	const uint8_t *k = bson_get_data(key);
	size_t i = hash(k, key->len) & (SLOTS - 1);
	bool hit = false;
	pthread_mutex_lock(&cache.lock);
	*generation = cache.generation;
	for (; cache.slot[i].key; i = (i + 1) & (SLOTS - 1)) {
		struct entry *e = &cache.slot[i];
		if (e->key_len != key->len || memcmp(e->key, k, key->len) != 0)
			continue;
		if (e->reply_len > *cap) {
			uint8_t *grown = realloc(*out, e->reply_len);
			if (!grown)
				break;
			*out = grown;
			*cap = e->reply_len;
		}
		memcpy(*out, e->reply, e->reply_len);
		*len = e->reply_len;
		hit = true;
		break;
	}
	pthread_mutex_unlock(&cache.lock);
	return hit;
}

static void cache_put(const bson_t *key, const uint8_t *reply, size_t reply_len, uint64_t generation)
{
	const uint8_t *k = bson_get_data(key);
	size_t i = hash(k, key->len) & (SLOTS - 1);
	uint8_t *kc = malloc(key->len), *rc = malloc(reply_len);
	if (!kc || !rc)
		goto done;
	memcpy(kc, k, key->len);
	memcpy(rc, reply, reply_len);
	pthread_mutex_lock(&cache.lock);
	/* at most half full (open addressing stays short); a clear since the read: not kept */
	if (generation == cache.generation && cache.used < SLOTS / 2) {
		for (; cache.slot[i].key; i = (i + 1) & (SLOTS - 1))
			if (cache.slot[i].key_len == key->len && memcmp(cache.slot[i].key, k, key->len) == 0)
				break;
		if (!cache.slot[i].key) {
			cache.slot[i] = (struct entry){kc, rc, key->len, reply_len};
			cache.used++;
			kc = rc = NULL;
		}
	}
	pthread_mutex_unlock(&cache.lock);
done:
	free(kc);
	free(rc);
}

/* the body document of a one-section OP_MSG without flags, or false */
static bool msg_body(const uint8_t *m, size_t len, bson_t *body)
{
	if (len < 16 + 4 + 1 + 5 || le32(m + 12) != OP_MSG || le32(m + 16) != 0 || m[20] != 0)
		return false;
	return le32(m + 21) == (int32_t)(len - 21) && bson_init_static(body, m + 21, len - 21);
}

/* the command's name, and its key (the command less lsid and $clusterTime) when cacheable */
static const char *command_key(const bson_t *cmd, bson_t *key, bool *cacheable)
{
	bson_iter_t it;
	const char *name = NULL;
	*cacheable = false;
	if (!bson_iter_init(&it, cmd) || !bson_iter_next(&it))
		return NULL;
	name = bson_iter_key(&it);
	if (strcmp(name, "find") != 0)
		return name;
	bson_init(key);
	*cacheable = true;
	do {
		const char *k = bson_iter_key(&it);
		if (!strcmp(k, "txnNumber") || !strcmp(k, "startTransaction") || !strcmp(k, "autocommit"))
			*cacheable = false;
		if (strcmp(k, "lsid") != 0 && strcmp(k, "$clusterTime") != 0 && !bson_append_iter(key, NULL, 0, &it))
			*cacheable = false;
	} while (bson_iter_next(&it));
	if (!*cacheable)
		bson_destroy(key);
	return name;
}

/* a reply worth keeping: ok 1 and an exhausted cursor (id 0) */
static bool reply_keepable(const uint8_t *m, size_t len)
{
	bson_t body;
	bson_iter_t it, id;
	if (!msg_body(m, len, &body))
		return false;
	if (!bson_iter_init_find(&it, &body, "ok") || bson_iter_as_double(&it) != 1.0)
		return false;
	return bson_iter_init(&it, &body) && bson_iter_find_descendant(&it, "cursor.id", &id) &&
	       bson_iter_as_int64(&id) == 0;
}

static bool is_read(const char *name)
{
	for (size_t i = 0; reads[i]; i++)
		if (!strcmp(name, reads[i]))
			return true;
	return false;
}

static void *connection(void *arg)
{
	int client = (int)(intptr_t)arg, up = -1, one = 1;
	uint8_t *req = NULL, *rep = NULL;
	size_t req_cap = 0, rep_cap = 0, req_len, rep_len;
	int32_t next_id = 1;
	up = socket(AF_INET, SOCK_STREAM, 0);
	if (up < 0 || connect(up, (struct sockaddr *)&cache.upstream, sizeof(cache.upstream)) != 0)
		goto done;
	setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	while (msg_read(client, &req, &req_cap, &req_len)) {
		bson_t body, key;
		bool cacheable = false, more_to_come, ok;
		uint64_t generation = 0;
		const char *name = NULL;
		if (msg_body(req, req_len, &body))
			name = command_key(&body, &key, &cacheable);
		if (cacheable && cache_get(&key, &rep, &rep_cap, &rep_len, &generation)) {
			put_le32(rep + 4, next_id++);         /* requestID */
			put_le32(rep + 8, le32(req + 4));     /* responseTo */
			bson_destroy(&key);
			atomic_fetch_add(&cache.hits, 1);
			if (!io_write(client, rep, rep_len))
				break;
			continue;
		}
		if (name && !is_read(name))
			cache_clear();
		/* moreToCome on a request: the upstream sends no reply */
		more_to_come = le32(req + 12) == OP_MSG && req_len >= 20 && (le32(req + 16) & 2);
		atomic_fetch_add(cacheable ? &cache.misses : &cache.forwarded, 1);
		if (!io_write(up, req, req_len)) {
			if (cacheable)
				bson_destroy(&key);
			break;
		}
		ok = true;
		while (!more_to_come) {
			if (!msg_read(up, &rep, &rep_cap, &rep_len) || !io_write(client, rep, rep_len)) {
				ok = false;
				break;
			}
			/* an exhaust reply with moreToCome: more replies follow */
			if (le32(rep + 12) == OP_MSG && rep_len >= 20 && (le32(rep + 16) & 2))
				continue;
			if (cacheable && reply_keepable(rep, rep_len))
				cache_put(&key, rep, rep_len, generation);
			break;
		}
		if (cacheable)
			bson_destroy(&key);
		if (!ok)
			break;
	}
done:
	free(req);
	free(rep);
	if (up >= 0)
		close(up);
	close(client);
	return NULL;
}

static void *signals(void *arg)
{
	sigset_t *set = arg;
	int sig;
	sigwait(set, &sig);
	fprintf(stderr, "hits %lu misses %lu forwarded %lu cleared %lu\n", atomic_load(&cache.hits),
		atomic_load(&cache.misses), atomic_load(&cache.forwarded), atomic_load(&cache.cleared));
	exit(0);
}

int main(int argc, char **argv)
{
	static sigset_t set;
	struct sockaddr_in addr = {.sin_family = AF_INET};
	socklen_t alen = sizeof(addr);
	pthread_t t;
	int lfd, one = 1;
	if (argc != 4) {
		fprintf(stderr, "usage: dbcache LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT\n");
		return 2;
	}
	cache.upstream = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
	if (inet_pton(AF_INET, argv[2], &cache.upstream.sin_addr) != 1) {
		fprintf(stderr, "dbcache: UPSTREAM_HOST must be an IPv4 address\n");
		return 2;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	signal(SIGPIPE, SIG_IGN);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 || pthread_create(&t, NULL, signals, &set) != 0)
		return 1;
	addr.sin_port = htons((uint16_t)atoi(argv[1]));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(lfd, 64) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&addr, &alen) != 0) {
		perror("dbcache: listen");
		return 1;
	}
	printf("ready %u\n", (unsigned)ntohs(addr.sin_port));
	fflush(stdout);
	for (;;) {
		int c = accept(lfd, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("dbcache: accept");
			return 1;
		}
		if (pthread_create(&t, NULL, connection, (void *)(intptr_t)c) != 0 || pthread_detach(t) != 0)
			close(c);
	}
}
