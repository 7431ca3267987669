/* install: atomic file replacement (stage, fsync, rename, fsync the
 * directory), with the mode, owner and optional backup a config file needs. */
#include "renderer/install.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int ierr(struct lg_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Formats the message with strerror(errno) appended; keeps errno. */
static int ierr(struct lg_error *err, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	int n;

	memset(err, 0, sizeof *err);
	va_start(ap, fmt);
	n = vsnprintf(err->text, sizeof err->text, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof err->text)
		snprintf(err->text + n, sizeof err->text - (size_t)n, ": %s", strerror(saved));
	errno = saved;
	return -1;
}

static int dir_of(const char *path, char *out, size_t outsz)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
		return -1;
	if (snprintf(out, outsz, "%s", dirname(tmp)) >= (int)outsz)
		return -1;
	return 0;
}

static int mkdirs(const char *dir)
{
	char tmp[4096];
	size_t len;

	if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	len = strlen(tmp);
	for (size_t i = 1; i <= len; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		char c = tmp[i];
		tmp[i] = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -1;
		tmp[i] = c;
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int install_same(const char *dest, const char *data, size_t len, struct lg_error *err)
{
	struct stat sb;
	char chunk[65536];
	size_t off = 0;
	int fd = open(dest, O_RDONLY | O_CLOEXEC), same = 0;

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return ierr(err, "cannot open %s", dest);
	}
	if (fstat(fd, &sb) < 0) {
		ierr(err, "cannot stat %s", dest);
		close(fd);
		return -1;
	}
	if (!S_ISREG(sb.st_mode) || (size_t)sb.st_size != len)
		goto out;
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof chunk);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ierr(err, "cannot read %s", dest);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		if (off + (size_t)r > len || memcmp(chunk, data + off, (size_t)r) != 0)
			goto out;
		off += (size_t)r;
	}
	same = off == len;
out:
	close(fd);
	return same;
}

int install_stage(const struct install_opts *o, const char *data, size_t len,
		  struct install_staged *st, struct lg_error *err)
{
	char dir[4096], base[1024], tmp[4096];
	struct stat sb;
	mode_t mode = 0644;
	uid_t uid = o->uid;
	gid_t gid = o->gid;
	int fd;

	memset(st, 0, sizeof *st);
	if (dir_of(o->dest, dir, sizeof dir) < 0) {
		errno = ENAMETOOLONG;
		return ierr(err, "destination %s", o->dest);
	}
	snprintf(tmp, sizeof tmp, "%s", o->dest);
	snprintf(base, sizeof base, "%s", basename(tmp));
	if (o->create_dirs && mkdirs(dir) < 0)
		return ierr(err, "cannot create directory %s", dir);
	if (stat(o->dest, &sb) == 0) {
		if (!S_ISREG(sb.st_mode)) {
			errno = EISDIR;
			return ierr(err, "destination %s is not a regular file", o->dest);
		}
		mode = sb.st_mode & 07777;
		if (uid == (uid_t)-1 && sb.st_uid != geteuid())
			uid = sb.st_uid;
		if (gid == (gid_t)-1 && sb.st_gid != getegid())
			gid = sb.st_gid;
	} else if (errno != ENOENT) {
		return ierr(err, "cannot stat %s", o->dest);
	}
	if (o->perms >= 0)
		mode = (mode_t)o->perms;

	/* Hidden, beside the destination: same file system, so rename is atomic. */
	if (snprintf(st->path, sizeof st->path, "%s/.%s.legate-XXXXXX", dir, base) >= (int)sizeof st->path) {
		errno = ENAMETOOLONG;
		return ierr(err, "destination %s", o->dest);
	}
	fd = mkostemp(st->path, O_CLOEXEC);
	if (fd < 0)
		return ierr(err, "cannot create a temporary file in %s", dir);
	st->active = true;
	if (write_all(fd, data, len) < 0) {
		ierr(err, "cannot write %s", st->path);
		goto fail;
	}
	if (fchmod(fd, mode) < 0) {
		ierr(err, "cannot set mode %04o on %s", (unsigned)mode, st->path);
		goto fail;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0) {
		ierr(err, "cannot set owner %d:%d on %s", (int)uid, (int)gid, st->path);
		goto fail;
	}
	if (fsync(fd) < 0) {
		ierr(err, "cannot fsync %s", st->path);
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		ierr(err, "cannot close %s", st->path);
		goto fail;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	install_abort(st);
	return -1;
}

int install_commit(const struct install_opts *o, struct install_staged *st,
		   struct lg_error *err)
{
	char dir[4096], bak[4200];
	int dfd;

	if (!st->active) {
		errno = EINVAL;
		return ierr(err, "nothing staged for %s", o->dest);
	}
	if (o->backup) {
		/* A hard link keeps the old inode as DEST.bak at no copying cost;
		 * the rename below then swaps in the new inode. */
		snprintf(bak, sizeof bak, "%s.bak", o->dest);
		if (unlink(bak) < 0 && errno != ENOENT) {
			ierr(err, "cannot remove old backup %s", bak);
			goto fail;
		}
		if (link(o->dest, bak) < 0 && errno != ENOENT) {
			ierr(err, "cannot back up %s to %s", o->dest, bak);
			goto fail;
		}
	}
	if (rename(st->path, o->dest) < 0) {
		ierr(err, "cannot rename %s to %s", st->path, o->dest);
		goto fail;
	}
	st->active = false;
	dir_of(o->dest, dir, sizeof dir);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		/* The new file is in place; only its durability is in doubt. */
		ierr(err, "installed %s, but cannot fsync directory %s", o->dest, dir);
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	close(dfd);
	return 0;
fail:
	install_abort(st);
	return -1;
}

void install_abort(struct install_staged *st)
{
	if (st->active) {
		int saved = errno;
		unlink(st->path);
		errno = saved;
		st->active = false;
	}
}
