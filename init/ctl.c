/* ctl: a unix stream socket; each connection carries one request line
 * ("status", "start NAME", "signal NAME SIG"...) and gets text lines back,
 * the last one "ok" or "error: MESSAGE".  start, stop and restart answer
 * once the program got where it was sent, so scripts can rely on them. */
#include "init/ctl.h"

#include "common/log.h"
#include "init/program.h"
#include "init/sigs.h"
#include "init/sup.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define IDLE_MS 5000

enum pending { P_NONE, P_START, P_STOP };

int ctl_listen(struct ctl *c, const char *path, int nprogs, struct loop *l)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;

	memset(c, 0, sizeof *c);
	c->lfd = -1;
	for (int i = 0; i < CTL_CLIENTS; i++)
		c->cl[i].fd = -1;
	if (strlen(path) >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	c->cap = (size_t)nprogs * 256 + 256;
	c->reply = malloc(c->cap);
	if (!c->reply)
		return -1;
	snprintf(c->path, sizeof c->path, "%s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* A socket left by an earlier run is stale: PID 1 is the only server. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->lfd < 0)
		return -1;
	mode_t old = umask(077);
	int rc = bind(c->lfd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc < 0 || listen(c->lfd, CTL_CLIENTS) < 0 ||
	    loop_add(l, c->lfd, LOOP_KEY(TAG_CTL_LISTEN, 0), false) < 0) {
		int e = errno;
		close(c->lfd);
		c->lfd = -1;
		c->path[0] = 0;
		errno = e;
		return -1;
	}
	return 0;
}

static void drop(struct ctl *c, int slot, struct loop *l)
{
	struct ctl_client *cl = &c->cl[slot];
	if (cl->fd < 0)
		return;
	loop_del(l, cl->fd);
	close(cl->fd);
	cl->fd = -1;
}

void ctl_accept(struct ctl *c, struct loop *l)
{
	for (;;) {
		int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), slot;
		if (fd < 0)
			return;
		for (slot = 0; slot < CTL_CLIENTS && c->cl[slot].fd >= 0; slot++)
			;
		if (slot == CTL_CLIENTS) {
			static const char busy[] = "error: too many control clients\n";
			(void)!send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL);
			close(fd);
			continue;
		}
		if (loop_add(l, fd, LOOP_KEY(TAG_CTL_CLIENT, slot), false) < 0) {
			close(fd);
			continue;
		}
		c->cl[slot] = (struct ctl_client){ .fd = fd, .deadline = now_ms() + IDLE_MS };
	}
}

/* Sends the reply buffer plus a final line, then closes the connection.
 * The socket buffer holds a status of any sane size, so one send will do. */
static void finish(struct ctl *c, int slot, size_t len, struct loop *l, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void finish(struct ctl *c, int slot, size_t len, struct loop *l, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(c->reply + len, c->cap - len - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	len += (size_t)n < c->cap - len - 1 ? (size_t)n : c->cap - len - 2;
	c->reply[len++] = '\n';
	(void)!send(c->cl[slot].fd, c->reply, len, MSG_NOSIGNAL);
	drop(c, slot, l);
}

static void fmt_uptime(char *buf, size_t n, int64_t ms)
{
	long long s = ms / 1000;
	snprintf(buf, n, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
}

static size_t status_line(const struct program *p, char *buf, size_t n)
{
	char up[32] = "-", pid[16] = "-", last[32];
	if (p->pid > 0) {
		snprintf(pid, sizeof pid, "%d", (int)p->pid);
		fmt_uptime(up, sizeof up, now_ms() - p->spawned_ms);
	}
	program_last_exit(p, last, sizeof last);
	int k = snprintf(buf, n, "%-16s %-9s pid %-7s uptime %-9s restarts %-3d last %s\n",
			 p->c->name, state_name(p->state), pid, up, p->restarts, last);
	return k < 0 ? 0 : (size_t)k < n ? (size_t)k : n - 1;
}

/* Answers a waiting start or stop when the program has got somewhere. */
static bool settle(struct ctl *c, int slot, struct sup *s)
{
	struct ctl_client *cl = &c->cl[slot];
	const struct program *p = &s->progs[cl->prog];
	char last[32];

	program_last_exit(p, last, sizeof last);
	if (cl->pending == P_STOP) {
		if (p->pid > 0 || p->state == ST_STOPPING)
			return false;
		finish(c, slot, 0, s->loop, "ok");
		return true;
	}
	if (p->start_seq == cl->seq)
		return false;     /* not started again yet */
	switch (p->state) {
	case ST_RUNNING:
		finish(c, slot, 0, s->loop, "ok");
		return true;
	case ST_EXITED:
		if (p->done)
			finish(c, slot, 0, s->loop, "ok");
		else
			finish(c, slot, 0, s->loop, "error: %s exited (%s)", p->c->name, last);
		return true;
	case ST_FATAL:
		finish(c, slot, 0, s->loop, "error: %s is FATAL (%s)", p->c->name, last);
		return true;
	case ST_STOPPED:
		finish(c, slot, 0, s->loop, "error: %s was stopped", p->c->name);
		return true;
	default:
		return false;
	}
}

static void request(struct ctl *c, int slot, struct sup *s, char *line)
{
	char *w[4] = { 0 };
	int nw = 0;
	struct program *p = NULL;
	struct loop *l = s->loop;

	for (char *save, *t = strtok_r(line, " \t\r", &save); t && nw < 4;
	     t = strtok_r(NULL, " \t\r", &save))
		w[nw++] = t;
	if (nw == 0) {
		finish(c, slot, 0, l, "error: empty request");
		return;
	}
	if (nw >= 2) {
		p = sup_find(s, w[1]);
		if (!p) {
			finish(c, slot, 0, l, "error: no program named %s", w[1]);
			return;
		}
	}
	log_debug("ctl: %s%s%s", w[0], p ? " " : "", p ? p->c->name : "");
	if (strcmp(w[0], "status") == 0 && nw <= 2) {
		size_t len = 0;
		for (int i = 0; i < s->n && c->cap - len > 128; i++)
			if (!p || p == &s->progs[i])
				len += status_line(&s->progs[i], c->reply + len, c->cap - len - 64);
		finish(c, slot, len, l, "ok");
		return;
	}
	if (!p || nw != (strcmp(w[0], "signal") == 0 ? 3 : 2)) {
		finish(c, slot, 0, l, "error: usage: status [NAME] | start NAME | stop NAME | "
		       "restart NAME | reload NAME | signal NAME SIG");
		return;
	}
	struct ctl_client *cl = &c->cl[slot];
	cl->prog = p->idx;
	cl->seq = p->start_seq;
	if (strcmp(w[0], "start") == 0 || strcmp(w[0], "restart") == 0) {
		if (s->stopping) {
			finish(c, slot, 0, l, "error: shutting down");
			return;
		}
		if (w[0][0] == 's' && (p->state == ST_RUNNING || p->state == ST_STARTING)) {
			if (p->state == ST_RUNNING) {
				finish(c, slot, 0, l, "ok");
				return;
			}
			cl->seq--;       /* already on its way: wait for this start */
		} else if (w[0][0] == 'r') {
			program_event(p, EV_STOP, 0, l);
			if (p->state == ST_STOPPING)
				p->restart_after_stop = true;
			else
				program_event(p, EV_START, 0, l);
		} else {
			program_event(p, EV_START, 0, l);
		}
		cl->pending = P_START;
	} else if (strcmp(w[0], "stop") == 0) {
		program_event(p, EV_STOP, 0, l);
		cl->pending = P_STOP;
	} else if (strcmp(w[0], "reload") == 0 || strcmp(w[0], "signal") == 0) {
		int sig = w[0][0] == 'r' ? p->c->reload_signal : sig_parse(w[2]);
		if (sig < 0) {
			finish(c, slot, 0, l, "error: %s is not a signal", w[2]);
			return;
		}
		if (p->pid <= 0) {
			/* A reload asks a program to take up its new configuration; one
			 * with no process will read it when it starts, so that is not an
			 * error (legate reloads HAProxy after its first install, before
			 * HAProxy has started).  A FATAL program will not start again. */
			if (w[0][0] == 'r' && p->state != ST_FATAL)
				finish(c, slot, 0, l, "%s is not running (%s): nothing to reload\nok",
				       p->c->name, state_name(p->state));
			else
				finish(c, slot, 0, l, "error: %s is not running (%s)", p->c->name,
				       state_name(p->state));
			return;
		}
		if (program_kill(p, sig, false) < 0) {
			finish(c, slot, 0, l, "error: cannot send SIG%s to %s: %s", sig_name(sig),
			       p->c->name, strerror(errno));
			return;
		}
		log_info("%s: SIG%s sent (ctl %s)", p->c->name, sig_name(sig), w[0]);
		finish(c, slot, 0, l, "ok");
		return;
	} else {
		finish(c, slot, 0, l, "error: unknown command %s", w[0]);
		return;
	}
	cl->deadline = 0;
	settle(c, slot, s);
}

void ctl_input(struct ctl *c, int slot, struct sup *s)
{
	struct ctl_client *cl = &c->cl[slot];
	if (cl->fd < 0)
		return;
	if (cl->pending != P_NONE) {
		/* Nothing more is expected; only notice the client leaving. */
		char b[64];
		ssize_t n = recv(cl->fd, b, sizeof b, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			drop(c, slot, s->loop);
		return;
	}
	for (;;) {
		ssize_t n = recv(cl->fd, cl->buf + cl->len, sizeof cl->buf - 1 - cl->len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			drop(c, slot, s->loop);
			return;
		}
		cl->len += (size_t)n;
		cl->buf[cl->len] = 0;
		char *nl = strchr(cl->buf, '\n');
		if (nl) {
			*nl = 0;
			request(c, slot, s, cl->buf);
			return;
		}
		if (cl->len == sizeof cl->buf - 1) {
			finish(c, slot, 0, s->loop, "error: request too long");
			return;
		}
	}
}

void ctl_step(struct ctl *c, struct sup *s)
{
	int64_t now = now_ms();
	for (int i = 0; i < CTL_CLIENTS; i++) {
		struct ctl_client *cl = &c->cl[i];
		if (cl->fd < 0)
			continue;
		if (cl->pending != P_NONE)
			settle(c, i, s);
		else if (cl->deadline && cl->deadline <= now)
			drop(c, i, s->loop);
	}
}

int64_t ctl_deadline(const struct ctl *c)
{
	int64_t d = 0;
	for (int i = 0; i < CTL_CLIENTS; i++)
		if (c->cl[i].fd >= 0 && c->cl[i].pending == P_NONE && c->cl[i].deadline &&
		    (!d || c->cl[i].deadline < d))
			d = c->cl[i].deadline;
	return d;
}

void ctl_close(struct ctl *c, struct loop *l)
{
	for (int i = 0; i < CTL_CLIENTS; i++)
		drop(c, i, l);
	if (c->lfd >= 0) {
		loop_del(l, c->lfd);
		close(c->lfd);
		c->lfd = -1;
	}
	if (c->path[0])
		unlink(c->path);
	free(c->reply);
	c->reply = NULL;
}

/* ---- the client ---------------------------------------------------------------------- */

int ctl_client_main(int argc, char **argv, const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char req[CTL_LINE], reply[65536];
	size_t len = 0, rl = 0;
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: legate-init ctl [-s SOCKET] status [NAME] | start NAME | "
			"stop NAME | restart NAME | reload NAME | signal NAME SIG\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		int n = snprintf(req + len, sizeof req - len, "%s%s", i > 1 ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= sizeof req - len || strpbrk(argv[i], " \t\r\n")) {
			log_error("ctl: bad argument \"%s\"", argv[i]);
			return 2;
		}
		len += (size_t)n;
	}
	req[len++] = '\n';
	if (!sock || !*sock)
		sock = getenv("LEGATE_INIT_SOCKET");
	if (!sock || !*sock)
		sock = "/run/legate-init.sock";
	if (strlen(sock) >= sizeof sa.sun_path) {
		log_error("ctl: socket path too long: %s", sock);
		return 2;
	}
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		log_error("ctl: cannot connect to %s: %s", sock, strerror(errno));
		return 3;
	}
	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
		log_error("ctl: cannot send to %s: %s", sock, strerror(errno));
		return 3;
	}
	for (;;) {
		ssize_t n = read(fd, reply + rl, sizeof reply - 1 - rl);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		rl += (size_t)n;
		if (rl == sizeof reply - 1)
			break;
	}
	close(fd);
	reply[rl] = 0;
	while (rl > 0 && reply[rl - 1] == '\n')
		reply[--rl] = 0;
	char *last = strrchr(reply, '\n');
	last = last ? last + 1 : reply;
	if (last > reply)
		fwrite(reply, 1, (size_t)(last - reply), stdout);
	if (strcmp(last, "ok") == 0)
		return 0;
	if (strncmp(last, "error: ", 7) == 0)
		log_error("%s", last + 7);
	else
		log_error("ctl: no answer from %s", sock);
	return 1;
}
