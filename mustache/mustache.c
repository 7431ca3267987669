/* mustache: the engine's options, errors and partials: templates added from
 * memory or read from a directory, compiled on first use and cached. */
#include "mustache/internal.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_PARTIALS 4096
#define MAX_PARTIAL_NAME 255

struct partial {
	char *name;
	char *src;                   /* in-memory source, until compiled */
	size_t len;
	struct mustache_tpl *tpl;    /* compiled; NULL and !src: missing */
	int from_memory;
};

struct mustache_env {
	char *dir;
	struct partial *p;
	size_t n, cap;
};

int mu_err(struct lg_error *err, const char *tpl, unsigned line, unsigned col,
	   const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	snprintf(err->source, sizeof err->source, "%s", tpl ? tpl : "template");
	err->line = (int)line;
	err->column = (int)col;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof err->text, fmt, ap);
	va_end(ap);
	return -1;
}

void mustache_opts_init(struct mustache_opts *o)
{
	memset(o, 0, sizeof *o);
	o->escape = MUSTACHE_ESCAPE_HTML;
	o->max_depth = 100;
	o->max_output = (size_t)64 << 20;
	o->max_steps = 100000000UL;
}

int mustache_escape_parse(const char *s, enum mustache_escape *out)
{
	if (strcmp(s, "html") == 0)
		*out = MUSTACHE_ESCAPE_HTML;
	else if (strcmp(s, "none") == 0)
		*out = MUSTACHE_ESCAPE_NONE;
	else if (strcmp(s, "config") == 0)
		*out = MUSTACHE_ESCAPE_CONFIG;
	else
		return -1;
	return 0;
}

struct mustache_env *mustache_env_new(void)
{
	return calloc(1, sizeof(struct mustache_env));
}

void mustache_env_free(struct mustache_env *env)
{
	if (!env)
		return;
	for (size_t i = 0; i < env->n; i++) {
		free(env->p[i].name);
		free(env->p[i].src);
		mustache_free(env->p[i].tpl);
	}
	free(env->p);
	free(env->dir);
	free(env);
}

int mustache_env_set_dir(struct mustache_env *env, const char *dir)
{
	char *d = NULL;

	if (dir && !(d = strdup(dir)))
		return -1;
	free(env->dir);
	env->dir = d;
	return 0;
}

static struct partial *find(struct mustache_env *env, const char *name, size_t len)
{
	for (size_t i = 0; i < env->n; i++)
		if (strlen(env->p[i].name) == len && memcmp(env->p[i].name, name, len) == 0)
			return &env->p[i];
	return NULL;
}

static struct partial *add(struct mustache_env *env, const char *name, size_t len)
{
	struct partial *p;

	if (env->n == env->cap) {
		size_t cap = env->cap ? env->cap * 2 : 8;
		struct partial *q = realloc(env->p, cap * sizeof *q);

		if (!q)
			return NULL;
		env->p = q;
		env->cap = cap;
	}
	p = &env->p[env->n];
	memset(p, 0, sizeof *p);
	if (!(p->name = strndup(name, len)))
		return NULL;
	env->n++;
	return p;
}

int mustache_env_add_partial(struct mustache_env *env, const char *name,
			     const char *src, size_t len, struct lg_error *err)
{
	struct partial *p = find(env, name, strlen(name));
	char *copy = malloc(len + 1);

	if (!copy)
		return mu_err(err, name, 0, 0, "out of memory");
	memcpy(copy, src, len);
	copy[len] = '\0';
	if (!p && !(p = add(env, name, strlen(name)))) {
		free(copy);
		return mu_err(err, name, 0, 0, "out of memory");
	}
	free(p->src);
	mustache_free(p->tpl);
	p->tpl = NULL;
	p->src = copy;
	p->len = len;
	p->from_memory = 1;
	return 0;
}

/* A partial name read from a directory stays inside it: no NUL, no
 * absolute path, no ".." segment. */
static int safe_name(const char *name, size_t len)
{
	if (len == 0 || len > MAX_PARTIAL_NAME || memchr(name, '\0', len) || name[0] == '/')
		return 0;
	for (size_t i = 0; i < len; i++) {
		size_t j = i;

		while (j < len && name[j] != '/')
			j++;
		if (j - i == 2 && name[i] == '.' && name[i + 1] == '.')
			return 0;
		i = j;
	}
	return 1;
}

/* Without openat2 (Linux before 5.6, or a seccomp filter that refuses it):
 * dir/rel is resolved, must lie beneath dir's own resolved path, and is
 * opened without following a last link.  Returns fd, or -1 with errno
 * (EXDEV: outside). */
static int open_checked(const char *dir, const char *rel)
{
	char path[PATH_MAX], rd[PATH_MAX], rp[PATH_MAX];
	size_t n;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, rel) >= sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (!realpath(dir, rd) || !realpath(path, rp))
		return -1;
	n = strlen(rd);
	if (strncmp(rp, rd, n) != 0 || (rp[n] != '/' && !(n == 1 && rd[0] == '/'))) {
		errno = EXDEV;
		return -1;
	}
	return open(rp, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
}

/* Opens rel beneath dirfd (the directory dir), whatever links it goes
 * through: a link that leads out, an absolute link or a /proc magic link
 * gives EXDEV (a magic link ELOOP).  Non-blocking, so a FIFO cannot hang the render.
 * Returns fd, or -1 with errno set. */
static int open_beneath(int dirfd, const char *dir, const char *rel)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof how);

	if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
		return fd;
	return open_checked(dir, rel);
}

/* Reads dir/name.mustache or dir/name, resolved beneath dir: 1 read (*src
 * malloc'd), 0 absent, -1 error (err filled), also for a name that leads
 * out of dir through a link. */
static int read_partial(const char *dir, const char *name, char **src, size_t *len,
			const char *tpl, unsigned line, unsigned col, struct lg_error *err)
{
	static const char *const suffixes[] = { ".mustache", "" };
	int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (dirfd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return mu_err(err, tpl, line, col, "partials directory %s: %s", dir, strerror(errno));
	}
	for (size_t i = 0; i < 2; i++) {
		char rel[MAX_PARTIAL_NAME + 16];
		struct stat sb;
		int fd;
		char *b;
		size_t got = 0;

		snprintf(rel, sizeof rel, "%s%s", name, suffixes[i]);
		fd = open_beneath(dirfd, dir, rel);
		if (fd < 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			close(dirfd);
			if (errno == EXDEV)
				return mu_err(err, tpl, line, col,
					      "partial %s/%s: a link leads out of the partials directory",
					      dir, rel);
			return mu_err(err, tpl, line, col, "partial %s/%s: %s", dir, rel, strerror(errno));
		}
		if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
			close(fd);
			continue;
		}
		if ((size_t)sb.st_size > MUSTACHE_MAX_SOURCE) {
			close(fd);
			close(dirfd);
			return mu_err(err, tpl, line, col, "partial %s/%s: larger than %zu bytes", dir, rel,
				      MUSTACHE_MAX_SOURCE);
		}
		b = malloc((size_t)sb.st_size + 1);
		if (!b) {
			close(fd);
			close(dirfd);
			return mu_err(err, tpl, line, col, "out of memory");
		}
		while (got < (size_t)sb.st_size) {
			ssize_t r = read(fd, b + got, (size_t)sb.st_size - got);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		close(fd);
		close(dirfd);
		b[got] = '\0';
		*src = b;
		*len = got;
		return 1;
	}
	close(dirfd);
	return 0;
}

int mu_env_partial(struct mustache_env *env, const char *name, size_t len, int strict,
		   const char *tpl, unsigned line, unsigned col,
		   const struct mustache_tpl **out, struct lg_error *err)
{
	struct partial *p = find(env, name, len);
	char *src = NULL;
	size_t slen = 0;

	*out = NULL;
	if (!p && len > MAX_PARTIAL_NAME) {
		/* Not remembered: names from data could fill memory. */
		if (strict)
			return mu_err(err, tpl, line, col, "partial name longer than %d bytes",
				      MAX_PARTIAL_NAME);
		return 0;
	}
	if (!p) {
		int r = 0;

		if (env->n >= MAX_PARTIALS)
			return mu_err(err, tpl, line, col, "more than %d partials", MAX_PARTIALS);
		if (env->dir && safe_name(name, len)) {
			char nm[MAX_PARTIAL_NAME + 1];

			memcpy(nm, name, len);
			nm[len] = '\0';
			r = read_partial(env->dir, nm, &src, &slen, tpl, line, col, err);
			if (r < 0)
				return -1;
		}
		if (!(p = add(env, name, len))) {
			free(src);
			return mu_err(err, tpl, line, col, "out of memory");
		}
		p->src = src;
		p->len = slen;
		if (!src) {
			/* Remembered as missing: warned about once. */
			if (strict)
				return mu_err(err, tpl, line, col, "partial \"%s\" not found", p->name);
			log_warn("%s:%u:%u: partial \"%s\" not found; it renders empty",
				 tpl, line, col, p->name);
			return 0;
		}
	}
	if (!p->tpl && p->src) {
		p->tpl = mustache_compile(p->name, p->src, p->len, err);
		if (!p->tpl)
			return -1;
		if (!p->from_memory) {
			free(p->src);
			p->src = NULL;
		}
	}
	if (!p->tpl && strict)
		return mu_err(err, tpl, line, col, "partial \"%s\" not found", p->name);
	*out = p->tpl;
	return 0;
}
