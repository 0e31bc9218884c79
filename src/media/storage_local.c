/*
 * storage_local.c - images on the local disk, served by nginx.
 *
 * Names are content hashes, so a file never changes once written and nginx
 * can let browsers cache it for a long time; writing is atomic (temp file
 * in the same directory, fsync, rename, fsync of the directory) so nginx
 * never serves half a file, even after a crash. Sharding (ab/cd/) keeps
 * directories small.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "media/media.h"

void media_sha256_hex(const unsigned char *data, size_t len, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, data, len);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

/* A hash is exactly 64 lower-case hex digits: it becomes a path. */
static bool hash_ok(const char *hash)
{
	size_t i;

	for (i = 0; hash[i]; i++)
		if (!((hash[i] >= '0' && hash[i] <= '9') || (hash[i] >= 'a' && hash[i] <= 'f')))
			return false;
	return i == 64;
}

static bool ext_ok(const char *ext)
{
	return strcmp(ext, "png") == 0 || strcmp(ext, "jpg") == 0 || strcmp(ext, "webp") == 0;
}

bool media_local_relpath(const char *hash, const char *ext, char *out, size_t size)
{
	int n;

	if (!hash_ok(hash) || !ext_ok(ext))
		return false;
	n = snprintf(out, size, "%.2s/%.2s/%s.%s", hash, hash + 2, hash, ext);
	return n > 0 && (size_t)n < size;
}

/* dir/ab and dir/ab/cd, created 0755 as needed; shard gets dir/ab/cd. */
static bool shard_dir(const struct em_config *cfg, const char *hash, char *shard,
		      size_t size, struct em_error *err)
{
	int n = snprintf(shard, size, "%s/%.2s", media_config(cfg)->dir, hash);

	if (n <= 0 || (size_t)n >= size)
		goto toolong;
	if (mkdir(shard, 0755) != 0 && errno != EEXIST)
		goto fail;
	n = snprintf(shard, size, "%s/%.2s/%.2s", media_config(cfg)->dir, hash, hash + 2);
	if (n <= 0 || (size_t)n >= size)
		goto toolong;
	if (mkdir(shard, 0755) != 0 && errno != EEXIST)
		goto fail;
	return true;
toolong:
	em_error_set(err, EM_ERR_INTERNAL, NULL, "EMPORIUM_MEDIA_DIR is too long");
	return false;
fail:
	em_err("media: cannot create %s: %s", shard, strerror(errno));
	em_error_set(err, EM_ERR_INTERNAL, NULL, "the image could not be stored");
	return false;
}

bool media_local_lock(const struct em_config *cfg, const char *hash,
		      struct media_local_lock *lk, struct em_error *err)
{
	char shard[EM_CONFIG_STR_MAX + 16], path[EM_CONFIG_STR_MAX + 32];
	int n;

	lk->fd = -1;
	if (!hash_ok(hash)) {
		em_error_set(err, EM_ERR_INVALID, "image_id", "not an image id");
		return false;
	}
	if (!shard_dir(cfg, hash, shard, sizeof(shard), err))
		return false;
	n = snprintf(path, sizeof(path), "%s/.lock", shard);
	if (n <= 0 || (size_t)n >= sizeof(path)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "EMPORIUM_MEDIA_DIR is too long");
		return false;
	}
	lk->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lk->fd < 0 || flock(lk->fd, LOCK_EX) != 0) {
		em_err("media: cannot lock %s: %s", path, strerror(errno));
		if (lk->fd >= 0)
			close(lk->fd);
		lk->fd = -1;
		em_error_set(err, EM_ERR_INTERNAL, NULL, "the image store is not writable");
		return false;
	}
	return true;
}

void media_local_unlock(struct media_local_lock *lk)
{
	if (lk->fd >= 0)
		close(lk->fd); /* releases the flock */
	lk->fd = -1;
}

bool media_local_write(const struct em_config *cfg, const char *hash, const char *ext,
		       const unsigned char *data, size_t len, bool *created,
		       struct em_error *err)
{
	char shard[EM_CONFIG_STR_MAX + 16], final[EM_CONFIG_STR_MAX + 96],
	     tmp[EM_CONFIG_STR_MAX + 32];
	struct stat sb;
	int fd = -1, dfd = -1, n;
	size_t done = 0;
	bool ok = false;

	*created = false;
	tmp[0] = '\0';
	if (!hash_ok(hash) || !ext_ok(ext)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "bad image name");
		return false;
	}
	if (!shard_dir(cfg, hash, shard, sizeof(shard), err))
		return false;
	n = snprintf(final, sizeof(final), "%s/%s.%s", shard, hash, ext);
	if (n <= 0 || (size_t)n >= sizeof(final)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "EMPORIUM_MEDIA_DIR is too long");
		return false;
	}
	/* Same name, same bytes (SHA-256): an equal-sized file is this one. */
	if (stat(final, &sb) == 0 && S_ISREG(sb.st_mode) && (size_t)sb.st_size == len)
		return true;
	n = snprintf(tmp, sizeof(tmp), "%s/.tmp-XXXXXX", shard);
	if (n <= 0 || (size_t)n >= sizeof(tmp)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "EMPORIUM_MEDIA_DIR is too long");
		tmp[0] = '\0';
		return false;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		tmp[0] = '\0';
		goto fail;
	}
	while (done < len) {
		ssize_t w = write(fd, data + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		done += (size_t)w;
	}
	/* mkstemp makes 0600; nginx (another user) must read it. */
	if (fchmod(fd, 0644) != 0 || fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, final) != 0)
		goto fail;
	tmp[0] = '\0';
	/* the rename itself must survive a crash too */
	dfd = open(shard, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (fsync(dfd) != 0)
			em_warn("media: fsync of %s failed: %s", shard, strerror(errno));
		close(dfd);
	}
	*created = true;
	ok = true;
	goto done;
fail:
	em_err("media: cannot write %s: %s", final, strerror(errno));
	em_error_set(err, EM_ERR_INTERNAL, NULL, "the image could not be stored");
done:
	if (fd >= 0)
		close(fd);
	if (tmp[0])
		unlink(tmp);
	return ok;
}

bool media_local_remove(const struct em_config *cfg, const char *hash, const char *ext,
			struct em_error *err)
{
	char rel[160], path[EM_CONFIG_STR_MAX + 170];
	int n;

	if (!media_local_relpath(hash, ext, rel, sizeof(rel))) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "bad image name");
		return false;
	}
	n = snprintf(path, sizeof(path), "%s/%s", media_config(cfg)->dir, rel);
	if (n <= 0 || (size_t)n >= sizeof(path)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "EMPORIUM_MEDIA_DIR is too long");
		return false;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		em_err("media: cannot remove %s: %s", path, strerror(errno));
		em_error_set(err, EM_ERR_INTERNAL, NULL, "the image file could not be removed");
		return false;
	}
	return true;
}

bool media_local_url(const struct em_config *cfg, const char *hash, const char *ext,
		     char *out, size_t size)
{
	char rel[160];
	size_t plen = strlen(media_config(cfg)->url_prefix);
	int n;

	if (!media_local_relpath(hash, ext, rel, sizeof(rel)))
		return false;
	/* exactly one '/' between the prefix and the path */
	n = snprintf(out, size, "%s%s%s", media_config(cfg)->url_prefix,
		     plen && media_config(cfg)->url_prefix[plen - 1] == '/' ? "" : "/", rel);
	return n > 0 && (size_t)n < size;
}
