/* confinc: reading files for the supervisord.conf reader: one whole file
 * with a size limit, and [include] files=PATTERN..., whose wildcards are
 * matched here rather than by glob(3), which would pull the NSS machinery
 * into a static build. */
#include "init/conf_int.h"

#include "common/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *conf_read_file(const char *path, struct conf_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *text;
	ssize_t n;

	snprintf(err->file, sizeof err->file, "%s", path);
	err->line = 0;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size > (1 << 20)) {
		snprintf(err->msg, sizeof err->msg, "cannot read: %s",
			fd < 0 ? strerror(errno) : "larger than 1 MiB");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text || (n = read(fd, text, (size_t)st.st_size)) < 0) {
		snprintf(err->msg, sizeof err->msg, "cannot read: %s", strerror(errno));
		free(text);
		close(fd);
		return NULL;
	}
	text[n] = 0;
	close(fd);
	return text;
}

char *conf_read_main(struct conf_parser *ps, const char *path, struct conf_error *err)
{
	char *text = conf_read_file(path, err), *slash;

	if (!text)
		return NULL;
	if (!realpath(path, ps->here))
		snprintf(ps->here, sizeof ps->here, "%s", path);
	slash = strrchr(ps->here, '/');
	if (slash)
		*(slash == ps->here ? slash + 1 : slash) = 0;
	return text;
}

/* Shell wildcards for one file name: *, ?, [abc], [a-z], [!x].  fnmatch(3)
 * would do, but in a static build it brings the locale tables along. */
static bool wildmatch(const char *p, const char *s)
{
	for (; *p; p++, s++) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			if (!*p)
				return true;
			for (; *s; s++)
				if (wildmatch(p, s))
					return true;
			return false;
		}
		if (!*s)
			return false;
		if (*p == '?')
			continue;
		if (*p == '[') {
			const char *q = p + 1;
			bool neg = *q == '!' || *q == '^', hit = false;
			if (neg)
				q++;
			while (*q && *q != ']') {
				if (q[1] == '-' && q[2] && q[2] != ']') {
					hit |= *s >= q[0] && *s <= q[2];
					q += 3;
				} else {
					hit |= *s == *q++;
				}
			}
			if (!*q)      /* no closing ']': a literal '[' */
				goto literal;
			if (hit == neg)
				return false;
			p = q;
			continue;
		}
literal:
		if (*p != *s)
			return false;
	}
	return !*s;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists, sorted, the files of a directory whose names match a pattern
 * (only the last path component may hold wildcards: glob(3) would pull
 * the NSS machinery into a static build).  Returns a malloc'd array of
 * malloc'd paths and its length in *n, or NULL with *n = 0. */
static char **match_files(const char *pattern, size_t *n)
{
	char dir[PATH_MAX];
	const char *base = strrchr(pattern, '/');
	char **list = NULL;
	struct dirent *de;
	DIR *d;

	*n = 0;
	snprintf(dir, sizeof dir, "%.*s", base ? (int)(base - pattern) : 1, base ? pattern : ".");
	base = base ? base + 1 : pattern;
	d = opendir(*dir ? dir : "/");
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		char path[PATH_MAX * 2], **grown;
		/* As in a shell, a wildcard does not match a leading dot. */
		if ((de->d_name[0] == '.' && base[0] != '.') || !wildmatch(base, de->d_name))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		grown = realloc(list, sizeof *list * (*n + 1));
		if (!grown || !(grown[*n] = strdup(path))) {
			list = grown ? grown : list;
			break;
		}
		list = grown;
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(list, *n, sizeof *list, cmp_str);
	return list;
}

static void free_files(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/* [include] files=PATTERN...: every file a pattern matches (relative to
 * the main file's directory, in sorted order) is read as part of the main
 * file, as supervisord does; includes inside included files are ignored. */
int conf_load_includes(struct conf_parser *ps, int sec)
{
	const char *main_path = ps->path;
	int nents = ps->nents;

	for (int i = 0; i < nents; i++) {
		char files[4096], *save, *tok;
		int line = ps->ents[i].line;
		if (ps->ents[i].sec != sec || ps->ents[i].dead || ps->ents[i].file != main_path)
			continue;
		if (strcmp(ps->ents[i].key, "files") != 0) {
			log_warn("%s:%d: %s in [include] is not used by legate-init, ignored",
				ps->path, line, ps->ents[i].key);
			continue;
		}
		/* Copied: reading the included files grows (moves) ps->ents. */
		char *val = conf_expand(ps, ps->ents[i].val, NULL, line);
		if (!val)
			return -1;
		snprintf(files, sizeof files, "%s", val);
		for (tok = strtok_r(files, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
			char pat[PATH_MAX + 256];
			size_t n;
			char **list;
			snprintf(pat, sizeof pat, "%s%s%s", tok[0] == '/' ? "" : ps->here,
				 tok[0] == '/' ? "" : "/", tok);
			if (strpbrk(pat, "*?[") && strpbrk(pat, "*?[") < strrchr(pat, '/'))
				return conf_fail(ps, line, "[include] %s: only the file name may hold wildcards", tok);
			list = match_files(pat, &n);
			if (n == 0) {
				log_warn("%s:%d: [include] no file matches %s", main_path, line, pat);
				continue;
			}
			for (size_t k = 0; k < n; k++) {
				char *text = conf_read_file(list[k], ps->err);
				int r;
				ps->path = text ? conf_strdup(ps, list[k]) : NULL;
				r = text && ps->path ? conf_lex(ps, text) : -1;
				free(text);
				if (r < 0) {
					free_files(list, n);
					return -1;
				}
			}
			free_files(list, n);
			ps->path = main_path;
		}
	}
	ps->path = main_path;
	return 0;
}
