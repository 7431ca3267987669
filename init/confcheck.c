/* confcheck: what `legate-init -t` checks beyond the syntax: everything a
 * run would otherwise find out one failed start at a time (a command that
 * is not there, a log directory that is missing or read-only, a working
 * directory that does not exist). */
#include "init/conf.h"

#include "common/log.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The PATH the program's environment gives execvp, or its default. */
static const char *program_path(const struct prog_conf *p)
{
	for (char **e = p->envp; e && *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			return *e + 5;
	return "/bin:/usr/bin";
}

static bool executable(const char *path, const char **why)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		*why = strerror(errno);
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		return false;
	}
	if (access(path, X_OK) < 0) {
		*why = "not executable";
		return false;
	}
	return true;
}

int conf_find_command(const struct prog_conf *p, char *path, size_t len, const char **why)
{
	const char *cmd = p->argv[0];

	*why = "not found in PATH";
	if (strchr(cmd, '/')) {
		if (cmd[0] != '/' && p->directory)
			snprintf(path, len, "%s/%s", p->directory, cmd);
		else
			snprintf(path, len, "%s", cmd);
		return executable(path, why) ? 0 : -1;
	}
	for (const char *d = program_path(p);;) {
		size_t n = strcspn(d, ":");
		const char *w;
		/* An empty entry means the current directory, as for execvp. */
		snprintf(path, len, "%.*s/%s", n ? (int)n : 1, n ? d : ".", cmd);
		if (executable(path, &w))
			return 0;
		if (strcmp(w, strerror(ENOENT)) != 0)
			*why = w;
		if (!d[n])
			break;
		d += n + 1;
	}
	return -1;
}

static int check_command(const struct prog_conf *p)
{
	char path[PATH_MAX];
	const char *why;

	if (conf_find_command(p, path, sizeof path, &why) == 0)
		return 0;
	log_error("%s:%d: [%s]: command %s: %s", p->file, p->line_command, p->name, p->argv[0], why);
	return 1;
}

static int check_log(const struct prog_conf *p, const struct conf_log *log, const char *key)
{
	char dir[PATH_MAX];
	const char *slash;
	struct stat st;

	if (log->kind != CONF_OUT_FILE)
		return 0;
	slash = strrchr(log->file, '/');
	snprintf(dir, sizeof dir, "%.*s", slash == log->file ? 1 : (int)(slash - log->file), log->file);
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		log_error("%s:%d: [%s]: %s %s: directory %s does not exist", p->file, log->line, p->name,
			  key, log->file, dir);
		return 1;
	}
	if (access(log->file, F_OK) == 0 ? access(log->file, W_OK) < 0 : access(dir, W_OK) < 0) {
		log_error("%s:%d: [%s]: %s %s: %s", p->file, log->line, p->name, key, log->file,
			  strerror(errno));
		return 1;
	}
	return 0;
}

int conf_check(const struct conf *c)
{
	int problems = 0;
	char dir[PATH_MAX];
	const char *slash = strrchr(c->ctl_socket, '/');
	struct stat st;

	for (int i = 0; i < c->nprogs; i++) {
		const struct prog_conf *p = c->progs[i];
		if (p->directory && (stat(p->directory, &st) < 0 || !S_ISDIR(st.st_mode))) {
			log_error("%s:%d: [%s]: directory %s does not exist", p->file, p->line_directory,
				  p->name, p->directory);
			problems++;
		}
		problems += check_command(p);
		problems += check_log(p, &p->out, "stdout_logfile");
		if (!p->redirect_stderr)
			problems += check_log(p, &p->err, "stderr_logfile");
	}
	snprintf(dir, sizeof dir, "%.*s", slash && slash != c->ctl_socket ? (int)(slash - c->ctl_socket) : 1,
		 c->ctl_socket);
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		log_error("%s: control socket %s: directory %s does not exist", c->path, c->ctl_socket, dir);
		problems++;
	}
	return problems;
}
