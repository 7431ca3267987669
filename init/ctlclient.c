/* ctlclient: `legate-init ctl` and the supervisorctl link: supervisorctl's
 * options (-c FILE, -s URL, -i), its commands and exit codes, and its
 * interactive prompt.  The server answers every command but tail, which
 * asks the server for the log file and reads it here, following it with
 * -f; help, quit and open are the client's own. */
#include "init/ctl.h"

#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/legate-init.sock"
#define REPLY_MAX (1 << 20)

struct client {
	char sock[108];
	char prompt[64];
	bool interactive;
	int exit;                 /* supervisorctl keeps the last error's code */
};

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void help(void)
{
	printf("commands (supervisorctl's):\n"
	       "  status [NAME...|all]        state of each program; exit 3 if one is not running\n"
	       "  start|stop|restart NAME...|all\n"
	       "  signal SIG NAME...|all      send SIG (HUP, USR2, 15, ...)\n"
	       "  pid [NAME...|all]           legate-init's pid, or the programs'\n"
	       "  tail [-f|-BYTES] NAME [stdout|stderr]   a program's log file\n"
	       "  clear NAME...|all           empty the programs' log files\n"
	       "  avail | reread | update [NAME...|all] | add NAME... | remove NAME...\n"
	       "  reload                      stop everything, read the file again, start again\n"
	       "  shutdown | version | help | quit | open unix:///PATH\n"
	       "legate-init's own:\n"
	       "  reload NAME...              send each program its reload_signal\n");
}

/* "unix:///path" or a plain path into c->sock; 0, or -1 for another URL. */
static int set_sock(struct client *c, const char *url)
{
	if (strncmp(url, "unix://", 7) == 0)
		url += 7;
	else if (strstr(url, "://")) {
		log_error("%s: legate-init answers only on unix:// sockets", url);
		return -1;
	}
	if (strlen(url) >= sizeof c->sock) {
		log_error("socket path too long: %s", url);
		return -1;
	}
	snprintf(c->sock, sizeof c->sock, "%s", url);
	return 0;
}

/* Sends one request and reads the whole answer into *reply (malloc'd).
 * Returns the connect errno (0 when connected). */
static int exchange(struct client *c, const char *req, char **reply, size_t *len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t cap = 65536, n = 0;
	char *buf;
	int fd, e;

	*reply = NULL;
	*len = 0;
	memcpy(sa.sun_path, c->sock, strlen(c->sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		e = errno;
		if (fd >= 0)
			close(fd);
		return e ? e : EIO;
	}
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
		e = errno;
		close(fd);
		return e;
	}
	buf = malloc(cap);
	while (buf) {
		ssize_t r;
		if (n + 1 >= cap) {
			char *g = cap < REPLY_MAX ? realloc(buf, cap * 2) : NULL;
			if (!g)
				break;
			buf = g;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (buf)
		buf[n] = 0;
	*reply = buf;
	*len = n;
	return 0;
}

/* Runs one request on the server: prints its lines, returns its code. */
static int remote(struct client *c, const char *req, const char *cmd, char **body)
{
	char *reply, *last;
	size_t len;
	int e = exchange(c, req, &reply, &len), code;

	if (body)
		*body = NULL;
	if (e) {
		if (e == ENOENT)
			printf("unix://%s no such file\n", c->sock);
		else if (e == ECONNREFUSED)
			printf("unix://%s refused connection\n", c->sock);
		else
			printf("unix://%s: %s\n", c->sock, strerror(e));
		fflush(stdout);
		/* supervisorctl's line above; how to point at another supervisor
		 * goes apart, to stderr. */
		fprintf(stderr, "(is legate-init running with this control socket? -s unix:///PATH or "
			"-c FILE names another; $LEGATE_INIT_SOCKET too)\n");
		if (strcmp(cmd, "status") == 0)
			return CTL_STATUS_UNKNOWN;
		return e == ENOENT ? CTL_NOT_RUNNING : e == ECONNREFUSED ? CTL_REFUSED : CTL_GENERIC;
	}
	if (!reply) {
		printf("error: out of memory\n");
		return CTL_GENERIC;
	}
	while (len > 0 && reply[len - 1] == '\n')
		reply[--len] = 0;
	last = strrchr(reply, '\n');
	last = last ? last + 1 : reply;
	if (strncmp(last, "exit ", 5) != 0) {
		printf("%s%sERROR: no complete answer from unix://%s\n", reply, *reply ? "\n" : "", c->sock);
		free(reply);
		return CTL_GENERIC;
	}
	code = atoi(last + 5);
	*last = 0;
	if (body) {
		*body = reply;
		return code;
	}
	fputs(reply, stdout);
	fflush(stdout);
	free(reply);
	return code;
}

/* ---- tail --------------------------------------------------------------------------- */

static void copy_range(int fd, off_t from, off_t to)
{
	char buf[8192];
	if (lseek(fd, from, SEEK_SET) < 0)
		return;
	while (from < to) {
		size_t want = (size_t)(to - from) < sizeof buf ? (size_t)(to - from) : sizeof buf;
		ssize_t n = read(fd, buf, want);
		if (n <= 0)
			break;
		fwrite(buf, 1, (size_t)n, stdout);
		from += n;
	}
	fflush(stdout);
}

static int follow(const char *path, long bytes)
{
	struct sigaction sa = { .sa_handler = on_interrupt };
	struct stat st, now;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t pos;

	if (fd < 0 || fstat(fd, &st) < 0) {
		printf("%s\n", strerror(errno));
		return CTL_GENERIC;
	}
	pos = st.st_size > bytes ? st.st_size - bytes : 0;
	copy_range(fd, pos, st.st_size);
	pos = st.st_size;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!interrupted) {
		struct timespec ts = { 0, 200 * 1000000L };
		nanosleep(&ts, NULL);
		/* Rotated (a new file at the path) or emptied: start over. */
		if (stat(path, &now) == 0 && (now.st_ino != st.st_ino || now.st_dev != st.st_dev)) {
			int nfd = open(path, O_RDONLY | O_CLOEXEC);
			if (nfd >= 0) {
				close(fd);
				fd = nfd;
				st = now;
				pos = 0;
			}
		}
		if (fstat(fd, &now) < 0)
			break;
		if (now.st_size < pos)
			pos = 0;
		if (now.st_size > pos) {
			copy_range(fd, pos, now.st_size);
			pos = now.st_size;
		}
	}
	close(fd);
	printf("\n");
	return CTL_OK;
}

static int tail(struct client *c, char **w, int n)
{
	const char *name, *channel = "stdout";
	long bytes = 1600;
	bool f = false;
	char req[CTL_LINE], *path, *nl;
	int code, i = 1;

	if (n < 2 || n > 4) {
		printf("Error: too %s arguments\n", n < 2 ? "few" : "many");
		printf("tail [-f] <name> [stdout|stderr] (default stdout)\n");
		return CTL_GENERIC;
	}
	if (w[1][0] == '-') {
		char *end;
		if (strcmp(w[1], "-f") == 0) {
			f = true;
		} else {
			bytes = strtol(w[1] + 1, &end, 10);
			if (end == w[1] + 1 || *end || bytes < 0) {
				printf("Error: bad argument %s\n", w[1]);
				return CTL_GENERIC;
			}
		}
		i = 2;
	}
	if (i >= n) {
		printf("Error: tail requires process name\n");
		return CTL_GENERIC;
	}
	name = w[i];
	if (i + 1 < n) {
		channel = w[i + 1];
		if (strcmp(channel, "stdout") != 0 && strcmp(channel, "stderr") != 0) {
			printf("Error: bad channel '%s'\n", channel);
			return CTL_GENERIC;
		}
	}
	snprintf(req, sizeof req, "logfile %s %s\n", name, channel);
	code = remote(c, req, "tail", &path);
	if (!path)
		return code;
	if (code != 0) {
		fputs(path, stdout);
		free(path);
		return code;
	}
	if ((nl = strchr(path, '\n')))
		*nl = 0;
	if (f) {
		code = follow(path, 1600);
	} else {
		struct stat st;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0) {
			/* Not written yet: empty, as supervisord answers. */
			printf("\n");
		} else {
			copy_range(fd, st.st_size > bytes ? st.st_size - bytes : 0, st.st_size);
			printf("\n");
		}
		if (fd >= 0)
			close(fd);
	}
	free(path);
	return code;
}

/* ---- one command -------------------------------------------------------------------- */

/* The commands the server answers.  Anything else is refused here, before
 * connecting: "no such file" would hide that the command is wrong. */
static bool known(const char *cmd)
{
	static const char *const cmds[] = { "status", "start", "stop", "restart", "signal", "pid",
					    "reload", "avail", "reread", "update", "add", "remove",
					    "clear", "logfile", "version", "shutdown" };
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(cmd, cmds[i]) == 0)
			return true;
	return false;
}

static int run(struct client *c, char **w, int n)
{
	char req[CTL_LINE];
	size_t len = 0;

	if (n == 0)
		return CTL_OK;
	if (strcmp(w[0], "help") == 0) {
		help();
		return CTL_OK;
	}
	if (strcmp(w[0], "tail") == 0)
		return tail(c, w, n);
	if (strcmp(w[0], "maintail") == 0) {
		printf("supervisord: ERROR (no log file)\n");
		return CTL_GENERIC;
	}
	if (strcmp(w[0], "fg") == 0) {
		printf("Error: fg is not supported by legate-init\n");
		return CTL_GENERIC;
	}
	if (strcmp(w[0], "open") == 0) {
		if (n != 2 || set_sock(c, w[1]) < 0) {
			printf("ERROR: url must be unix://\n");
			return CTL_GENERIC;
		}
		return remote(c, "status\n", "status", NULL);
	}
	if (!known(w[0])) {
		/* supervisorctl's answer, as the server would give it. */
		printf("*** Unknown syntax: %s\n", w[0]);
		return CTL_GENERIC;
	}
	for (int i = 0; i < n; i++) {
		int k = snprintf(req + len, sizeof req - len, "%s%s", i ? " " : "", w[i]);
		if (k < 0 || (size_t)k >= sizeof req - len - 1) {
			printf("ERROR: command too long\n");
			return CTL_GENERIC;
		}
		len += (size_t)k;
	}
	req[len++] = '\n';
	req[len] = 0;
	return remote(c, req, w[0], NULL);
}

static void record(struct client *c, int code)
{
	if (code != CTL_OK)
		c->exit = code;
}

/* The prompt: a command per line, the first one status, until EOF or quit. */
static int shell(struct client *c)
{
	char line[CTL_LINE], *w[CTL_WORDS];
	char *status[] = { "status" };
	bool tty = isatty(STDIN_FILENO);

	record(c, run(c, status, 1));
	for (;;) {
		int n = 0;
		if (tty) {
			printf("%s> ", c->prompt);
			fflush(stdout);
		}
		if (!fgets(line, sizeof line, stdin)) {
			if (tty)
				printf("\n");
			break;
		}
		for (char *save, *t = strtok_r(line, " \t\r\n", &save); t && n < CTL_WORDS;
		     t = strtok_r(NULL, " \t\r\n", &save))
			w[n++] = t;
		if (n && (strcmp(w[0], "quit") == 0 || strcmp(w[0], "exit") == 0))
			break;
		if (n)
			record(c, run(c, w, n));
	}
	return c->exit;
}

/* -s, then -c FILE's socket, then $LEGATE_INIT_SOCKET, then the file
 * supervisorctl would find on its own, then the default. */
static int find_socket(struct client *c, const char *url, const char *file, const char *argv0)
{
	char found[4096];
	struct conf_error err;
	const char *env = getenv("LEGATE_INIT_SOCKET");
	const char *slash = strrchr(argv0, '/');
	const char *paths[6] = { NULL, NULL, "supervisord.conf", "etc/supervisord.conf",
				 "/etc/supervisord.conf", "/etc/supervisor/supervisord.conf" };
	char here[2][4096];

	if (url)
		return set_sock(c, url);
	if (file) {
		int rc = conf_client_socket(file, found, sizeof found, &err);
		if (rc < 0) {
			if (err.line)
				log_error("%s:%d: %s", err.file, err.line, err.msg);
			else
				log_error("%s: %s", err.file, err.msg);
			return -1;
		}
		if (rc == 0)
			return set_sock(c, found);
	}
	if (env && *env)
		return set_sock(c, env);
	if (slash) {
		snprintf(here[0], sizeof here[0], "%.*s/../etc/supervisord.conf", (int)(slash - argv0), argv0);
		snprintf(here[1], sizeof here[1], "%.*s/../supervisord.conf", (int)(slash - argv0), argv0);
		paths[0] = here[0];
		paths[1] = here[1];
	}
	for (size_t i = 0; !file && i < sizeof paths / sizeof paths[0]; i++) {
		if (!paths[i] || access(paths[i], F_OK) < 0)
			continue;
		if (conf_client_socket(paths[i], found, sizeof found, &err) == 0)
			return set_sock(c, found);
		break;
	}
	return set_sock(c, DEFAULT_SOCKET);
}

int ctl_client_main(int argc, char **argv, const char *sock, bool as_supervisorctl)
{
	static const struct option longs[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "configuration", required_argument, NULL, 'c' },
		{ "serverurl", required_argument, NULL, 's' },
		{ "interactive", no_argument, NULL, 'i' },
		{ "username", required_argument, NULL, 'u' },
		{ "password", required_argument, NULL, 'p' },
		{ "history-file", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct client c = { .exit = CTL_OK };
	const char *file = NULL, *url = sock;
	int opt, code;

	snprintf(c.prompt, sizeof c.prompt, "%s", as_supervisorctl ? "supervisor" : "legate-init");
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+hc:s:iu:p:r:", longs, NULL)) != -1) {
		switch (opt) {
		case 'h':
			printf("usage: %s [-c FILE] [-s unix:///SOCKET] [-i] [COMMAND [ARGS...]]\n",
			       as_supervisorctl ? "supervisorctl" : "legate-init ctl");
			help();
			return CTL_OK;
		case 'c': file = optarg; break;
		case 's': url = optarg; break;
		case 'i': c.interactive = true; break;
		case 'u': case 'p': case 'r': break;   /* no authentication on a unix socket */
		default:
			return CTL_INVALID_ARGS;
		}
	}
	if (find_socket(&c, url, file, argv[0]) < 0)
		return CTL_INVALID_ARGS;
	if (optind >= argc)
		return shell(&c);
	code = run(&c, argv + optind, argc - optind);
	record(&c, code);
	if (c.interactive)
		return shell(&c);
	return code;
}
