/* ctl: the server side of the control socket.  Each connection carries one
 * request line ("status", "start web db", "signal HUP haproxy"...) and
 * gets back the lines supervisorctl prints for it and "exit N".  start,
 * stop, restart and update answer once their programs got where they were
 * sent, one program after the other, as supervisorctl's calls do.  Nothing
 * here allocates except reread and update, which load the file again.
 *
 * One local client must not be able to lock the others out: a connection
 * that has sent no complete request is dropped after CTL_IDLE_MS; one
 * process (by SO_PEERCRED) holds at most CTL_PER_PEER connections, its
 * oldest idle one giving way to its next; and when every slot is taken,
 * the process holding the most loses its oldest idle connection (one there
 * for CTL_GRACE_MS at least, long enough to have sent its request). */
#include "init/ctl.h"
#include "init/ctl_int.h"

#include "common/log.h"
#include "init/program.h"
#include "init/sigs.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_IDLE_MS 2000
#define CTL_GRACE_MS 100

int ctl_listen(struct ctl *c, const struct conf *conf, struct init_loop *l)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = conf->ctl_socket;
	struct stat st;

	memset(c, 0, sizeof *c);
	c->lfd = -1;
	c->lw = (struct init_watch){ INIT_TAG_CTL_LISTEN, c };
	for (int i = 0; i < CTL_CLIENTS; i++) {
		c->cl[i].fd = -1;
		c->cl[i].w = (struct init_watch){ INIT_TAG_CTL_CLIENT, &c->cl[i] };
	}
	if (strlen(path) >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(c->path, sizeof c->path, "%s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* A socket left by an earlier run is stale: PID 1 is the only server. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->lfd < 0)
		return -1;
	mode_t old = umask(0777 & ~(mode_t)conf->ctl_mode);
	int rc = bind(c->lfd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc == 0 && chmod(path, (mode_t)conf->ctl_mode) < 0)
		rc = -1;
	if (rc == 0 && conf->ctl_chown && chown(path, conf->ctl_uid, conf->ctl_gid) < 0)
		rc = -1;
	if (rc < 0 || listen(c->lfd, CTL_CLIENTS) < 0 || init_loop_add(l, c->lfd, &c->lw, false) < 0) {
		int e = errno;
		close(c->lfd);
		c->lfd = -1;
		if (rc == 0)
			unlink(path);
		c->path[0] = 0;
		errno = e;
		return -1;
	}
	return 0;
}

static void drop(struct ctl_client *cl, struct init_loop *l)
{
	if (cl->fd < 0)
		return;
	init_loop_del(l, cl->fd);
	close(cl->fd);
	cl->fd = -1;
	cl->job = JOB_NONE;
	cl->busy = false;
}

/* The slot for a new connection from pid: a free one, else one taken
 * from an idle connection.  A process keeps at most CTL_PER_PEER
 * connections: past that its own oldest idle one goes.  When the table is
 * full, the oldest idle connection of the process holding the most gives
 * way.  NULL: refuse the newcomer. */
static struct ctl_client *slot_for(struct ctl *c, pid_t pid, int64_t now, struct init_loop *l)
{
	struct ctl_client *free_slot = NULL, *victim = NULL;
	int mine = 0, most = 0;

	for (int i = 0; i < CTL_CLIENTS; i++) {
		struct ctl_client *cl = &c->cl[i];
		if (cl->fd < 0) {
			if (!free_slot)
				free_slot = cl;
			continue;
		}
		if (cl->peer == pid)
			mine++;
	}
	/* pid 0: a client outside legate-init's PID namespace, which it
	 * cannot tell apart from others there. */
	if (pid != 0 && mine >= CTL_PER_PEER) {
		for (int i = 0; i < CTL_CLIENTS; i++) {
			struct ctl_client *cl = &c->cl[i];
			if (cl->fd >= 0 && cl->peer == pid && !cl->busy && (!victim || cl->since < victim->since))
				victim = cl;
		}
	} else if (free_slot) {
		return free_slot;
	} else {
		for (int i = 0; i < CTL_CLIENTS; i++) {
			struct ctl_client *cl = &c->cl[i];
			int n = 0;
			if (cl->fd < 0 || cl->busy || now - cl->since < CTL_GRACE_MS)
				continue;
			for (int k = 0; k < CTL_CLIENTS && cl->peer; k++)
				n += c->cl[k].fd >= 0 && c->cl[k].peer == cl->peer;
			if (!victim || n > most || (n == most && cl->since < victim->since)) {
				victim = cl;
				most = n;
			}
		}
	}
	if (!victim)
		return NULL;
	log_debug("ctl: dropping a connection of pid %d idle for %lld ms to make room",
		  (int)victim->peer, (long long)(now - victim->since));
	drop(victim, l);
	return victim;
}

void ctl_accept(struct ctl *c, struct init_loop *l)
{
	for (;;) {
		int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		int64_t now = init_now_ms();
		struct ucred cred = { 0 };
		socklen_t len = sizeof cred;
		struct ctl_client *slot;
		if (fd < 0)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
			cred.pid = 0;
		slot = slot_for(c, cred.pid, now, l);
		if (!slot) {
			static const char busy[] = "ERROR: too many control connections\nexit 1\n";
			(void)!send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		if (init_loop_add(l, fd, &slot->w, false) < 0) {
			close(fd);
			continue;
		}
		slot->fd = fd;
		slot->peer = cred.pid;
		slot->len = 0;
		slot->since = now;
		slot->busy = false;
		slot->job = JOB_NONE;
	}
}

/* ---- output ------------------------------------------------------------------------ */

void ctl_out(struct ctl_client *cl, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (cl->fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	if (send(cl->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
		cl->exit = -1;     /* the answer is broken: finish() drops it */
}

static void finish(struct ctl_client *cl, struct init_loop *l)
{
	if (cl->exit >= 0)
		ctl_out(cl, "exit %d", cl->exit);
	drop(cl, l);
}

/* ---- names ---------------------------------------------------------------------------- */

/* supervisorctl names "NAME", "GROUP:NAME" and "GROUP:*"; here every program
 * is a group of its own.  Returns the program, or NULL after printing the
 * error supervisorctl prints. */
static struct program *lookup(struct ctl_client *cl, struct sup *s, const char *word, int code)
{
	char name[CTL_LINE];
	const char *colon = strchr(word, ':');
	struct program *p;

	snprintf(name, sizeof name, "%.*s", colon ? (int)(colon - word) : (int)strlen(word), word);
	p = sup_find(s, name);
	if (p && colon && strcmp(colon + 1, "*") != 0 && strcmp(colon + 1, name) != 0)
		p = NULL;
	if (!p) {
		if (colon && (!colon[1] || strcmp(colon + 1, "*") == 0))
			ctl_out(cl, "%s: ERROR (no such group)", name);
		else
			ctl_out(cl, "%s: ERROR (no such process)", word);
		cl->exit = code;
	}
	return p;
}

bool ctl_has_all(struct ctl_client *cl)
{
	for (int i = cl->first; i < cl->nwords; i++)
		if (strcmp(cl->words[i], "all") == 0)
			return true;
	return false;
}

static bool is_running(const struct program *p)
{
	return p->state == PROG_RUNNING || p->state == PROG_STARTING || p->state == PROG_BACKOFF;
}

static bool is_stopped(const struct program *p)
{
	return p->state == PROG_STOPPED || p->state == PROG_EXITED || p->state == PROG_FATAL;
}

/* ---- commands answered at once ----------------------------------------------------------- */

static void cmd_status(struct ctl_client *cl, struct sup *s)
{
	int width = 30;
	bool all = cl->nwords == 1 || ctl_has_all(cl);
	char desc[200];

	for (int i = 0; i < s->n; i++) {
		int len = (int)strlen(s->progs[i]->c->name);
		if (len > width)
			width = len;
	}
	if (!all) {
		for (int i = 1; i < cl->nwords; i++)
			if (!lookup(cl, s, cl->words[i], CTL_STATUS_UNKNOWN))
				cl->words[i] = NULL;
	}
	for (int k = 0; k < s->n; k++) {
		const struct program *p = s->progs[s->by_name[k]];
		bool want = all;
		for (int i = 1; i < cl->nwords && !want; i++)
			want = cl->words[i] && strncmp(cl->words[i], p->c->name, strlen(p->c->name)) == 0 &&
			       (cl->words[i][strlen(p->c->name)] == 0 || cl->words[i][strlen(p->c->name)] == ':');
		if (!want)
			continue;
		program_describe(p, desc, sizeof desc);
		ctl_out(cl, "%-*s%-10s%s", width + 3, p->c->name, program_state_name(p->state), desc);
		if (is_stopped(p))
			cl->exit = CTL_STATUS_NOT_RUNNING;
	}
}

static void cmd_pid(struct ctl_client *cl, struct sup *s)
{
	if (cl->nwords == 1) {
		ctl_out(cl, "%d", (int)getpid());
		return;
	}
	if (ctl_has_all(cl)) {
		for (int k = 0; k < s->n; k++)
			ctl_out(cl, "%d", (int)s->progs[s->by_name[k]]->pid);
		return;
	}
	for (int i = 1; i < cl->nwords; i++) {
		struct program *p = sup_find(s, cl->words[i]);
		if (!p) {
			ctl_out(cl, "No such process %s", cl->words[i]);
			cl->exit = CTL_GENERIC;
			continue;
		}
		ctl_out(cl, "%d", (int)p->pid);
		if (p->pid == 0)
			cl->exit = CTL_NOT_RUNNING;
	}
}

static void cmd_signal(struct ctl_client *cl, struct sup *s)
{
	int sig;

	if (cl->nwords < 3) {
		ctl_out(cl, "Error: signal requires a signal name and a process name");
		cl->exit = CTL_GENERIC;
		return;
	}
	sig = sig_parse(cl->words[1]);
	for (int k = 0; k < (ctl_has_all(cl) ? s->n : cl->nwords - 2); k++) {
		struct program *p = ctl_has_all(cl) ? s->progs[s->by_name[k]]
					       : lookup(cl, s, cl->words[k + 2], CTL_GENERIC);
		if (!p)
			continue;
		if (p->state != PROG_RUNNING && p->state != PROG_STARTING && p->state != PROG_STOPPING) {
			if (!ctl_has_all(cl)) {
				ctl_out(cl, "%s: ERROR (not running)", p->c->name);
				cl->exit = CTL_NOT_RUNNING;
			}
			continue;
		}
		if (sig < 0) {
			ctl_out(cl, "%s: ERROR (bad signal name)", p->c->name);
			cl->exit = CTL_GENERIC;
			continue;
		}
		if (program_kill(p, sig, false) < 0 && errno != ESRCH) {
			ctl_out(cl, "%s: ERROR (%s)", p->c->name, strerror(errno));
			cl->exit = CTL_GENERIC;
			continue;
		}
		log_info_at("program", p->c->name, "SIG%s sent (ctl signal)", sig_name(sig));
		ctl_out(cl, "%s: signalled", p->c->name);
	}
}

/* legate's reload NAME: the program's reload_signal.  A program with no
 * process reads its configuration when it starts, so that is no error
 * (legate reloads HAProxy after its first install, before HAProxy has
 * started); a FATAL one will not start again. */
static void cmd_reload_one(struct ctl_client *cl, struct sup *s)
{
	for (int i = 1; i < cl->nwords; i++) {
		struct program *p = lookup(cl, s, cl->words[i], CTL_GENERIC);
		if (!p)
			continue;
		if (p->pid <= 0) {
			if (p->state == PROG_FATAL) {
				ctl_out(cl, "%s: ERROR (not running)", p->c->name);
				cl->exit = CTL_NOT_RUNNING;
			} else {
				ctl_out(cl, "%s: not running (%s): nothing to reload", p->c->name,
				    program_state_name(p->state));
			}
			continue;
		}
		if (program_kill(p, p->c->reload_signal, false) < 0 && errno != ESRCH) {
			ctl_out(cl, "%s: ERROR (%s)", p->c->name, strerror(errno));
			cl->exit = CTL_GENERIC;
			continue;
		}
		log_info_at("program", p->c->name, "SIG%s sent (ctl reload)", sig_name(p->c->reload_signal));
		ctl_out(cl, "%s: reloaded", p->c->name);
	}
}

static void cmd_clear(struct ctl_client *cl, struct sup *s)
{
	bool all = ctl_has_all(cl);
	for (int k = 0; k < (all ? s->n : cl->nwords - 1); k++) {
		struct program *p = all ? s->progs[s->by_name[k]] : lookup(cl, s, cl->words[k + 1], CTL_GENERIC);
		bool ok = true;
		if (!p)
			continue;
		if (p->c->out.kind == CONF_OUT_FILE && relay_clear(&p->out, &p->c->out) < 0)
			ok = false;
		if (!p->c->redirect_stderr && p->c->err.kind == CONF_OUT_FILE &&
		    relay_clear(&p->err, &p->c->err) < 0)
			ok = false;
		if (ok) {
			ctl_out(cl, "%s: cleared", p->c->name);
		} else {
			ctl_out(cl, "%s: ERROR (failed)", p->c->name);
			cl->exit = CTL_GENERIC;
		}
	}
}

/* The client's tail reads the log file itself: this tells it which. */
static void cmd_logfile(struct ctl_client *cl, struct sup *s)
{
	struct program *p;
	const struct conf_log *log;

	if (cl->nwords != 3 || (strcmp(cl->words[2], "stdout") != 0 && strcmp(cl->words[2], "stderr") != 0)) {
		ctl_out(cl, "Error: logfile NAME stdout|stderr");
		cl->exit = CTL_GENERIC;
		return;
	}
	p = sup_find(s, cl->words[1]);
	if (!p) {
		ctl_out(cl, "%s: ERROR (no such process name)", cl->words[1]);
		cl->exit = CTL_GENERIC;
		return;
	}
	log = cl->words[2][3] == 'o' ? &p->c->out : &p->c->err;
	if (log->kind != CONF_OUT_FILE || (log == &p->c->err && p->c->redirect_stderr)) {
		ctl_out(cl, "%s: ERROR (no log file)", p->c->name);
		cl->exit = CTL_GENERIC;
		return;
	}
	ctl_out(cl, "%s", log->file);
}

/* ---- commands that wait for programs --------------------------------------------------------- */

/* The job's current program, or NULL at the end.  For all: every program
 * the command applies to, in name order, as supervisord goes through them. */
static struct program *next_target(struct ctl_client *cl, struct sup *s, bool *end)
{
	*end = false;
	if (cl->all) {
		while (cl->cursor < s->n) {
			struct program *p = s->progs[s->by_name[cl->cursor]];
			/* The one waited for stays the target, whatever its state. */
			if (cl->waiting || (cl->job == JOB_START ? !is_running(p) : is_running(p)))
				return p;
			cl->cursor++;
		}
		*end = true;
		return NULL;
	}
	if (cl->first + cl->cursor >= cl->nwords) {
		*end = true;
		return NULL;
	}
	return lookup(cl, s, cl->words[cl->first + cl->cursor], CTL_GENERIC);
}

/* A start or stop that was sent: true once it got somewhere (and the line
 * for it is out). */
static bool settled(struct ctl_client *cl, struct program *p)
{
	if (cl->job != JOB_START) {
		if (p->pid > 0 || p->state == PROG_STOPPING)
			return false;
		ctl_out(cl, "%s: stopped", p->c->name);
		return true;
	}
	if (p->start_seq == cl->seq)
		return false;      /* not started again yet */
	switch (p->state) {
	case PROG_STARTING:
		return false;
	case PROG_RUNNING:
		ctl_out(cl, "%s: started", p->c->name);
		return true;
	case PROG_EXITED:
		if (p->done) {
			ctl_out(cl, "%s: started", p->c->name);
			return true;
		}
		/* fall through */
	case PROG_STOPPED:
	case PROG_STOPPING:
		ctl_out(cl, "%s: ERROR (abnormal termination)", p->c->name);
		cl->exit = CTL_NOT_RUNNING;
		return true;
	default:
		ctl_out(cl, "%s: ERROR (spawn error)", p->c->name);
		cl->exit = CTL_NOT_RUNNING;
		return true;
	}
}

static void job_step(struct ctl_client *cl, struct sup *s)
{
	while (cl->fd >= 0 && cl->job != JOB_NONE) {
		struct program *p;
		bool end;

		if (cl->job == JOB_UPDATE) {
			if (!s->update_done)
				return;
			cl->job = JOB_NONE;
			break;
		}
		p = next_target(cl, s, &end);
		if (end) {
			if (cl->job == JOB_STOP_START) {
				cl->job = JOB_START;
				cl->cursor = 0;
				continue;
			}
			cl->job = JOB_NONE;
			break;
		}
		if (!p) {
			cl->cursor++;
			continue;
		}
		if (cl->waiting) {
			if (!settled(cl, p))
				return;
			cl->waiting = false;
			cl->cursor++;
			continue;
		}
		if (cl->job == JOB_START) {
			char path[PATH_MAX];
			const char *why;
			if (is_running(p)) {
				ctl_out(cl, "%s: ERROR (already started)", p->c->name);
			} else if (s->stopping) {
				ctl_out(cl, "%s: ERROR (shutting down)", p->c->name);
				cl->exit = CTL_GENERIC;
			} else if (conf_find_command(p->c, path, sizeof path, &why) < 0) {
				ctl_out(cl, "%s: ERROR (%s)", p->c->name, strcmp(why, "not executable") == 0 ?
				    "file is not executable" : "no such file");
				cl->exit = CTL_GENERIC;
			} else {
				cl->seq = p->start_seq;
				sup_start(s, p);
				cl->waiting = true;
				continue;
			}
		} else {
			if (!is_running(p) && p->state != PROG_STOPPING) {
				ctl_out(cl, "%s: ERROR (not running)", p->c->name);
			} else {
				program_event(p, PEV_STOP, 0, s->loop);
				cl->waiting = true;
				continue;
			}
		}
		cl->cursor++;
	}
	if (cl->fd >= 0 && cl->job == JOB_NONE)
		finish(cl, s->loop);
}

static void start_job(struct ctl_client *cl, enum ctl_job job, const char *verb)
{
	if (cl->nwords < 2) {
		ctl_out(cl, "Error: %s requires a process name", verb);
		cl->exit = strcmp(verb, "start") == 0 ? CTL_INVALID_ARGS : CTL_GENERIC;
		return;
	}
	cl->job = job;
	cl->all = ctl_has_all(cl);
	cl->first = 1;
	cl->cursor = 0;
	cl->waiting = false;
}

/* ---- requests ------------------------------------------------------------------------------ */

static void request(struct ctl *c, struct ctl_client *cl, struct sup *s)
{
	const char *cmd;

	cl->nwords = 0;
	cl->exit = CTL_OK;
	cl->job = JOB_NONE;
	cl->busy = true;
	for (char *save, *t = strtok_r(cl->buf, " \t\r", &save); t && cl->nwords < CTL_WORDS;
	     t = strtok_r(NULL, " \t\r", &save))
		cl->words[cl->nwords++] = t;
	if (cl->nwords == 0) {
		finish(cl, s->loop);
		return;
	}
	cmd = cl->words[0];
	log_debug("ctl: %s", cmd);
	if (strcmp(cmd, "status") == 0)
		cmd_status(cl, s);
	else if (strcmp(cmd, "start") == 0)
		start_job(cl, JOB_START, "start");
	else if (strcmp(cmd, "stop") == 0)
		start_job(cl, JOB_STOP, "stop");
	else if (strcmp(cmd, "restart") == 0)
		start_job(cl, JOB_STOP_START, "restart");
	else if (strcmp(cmd, "signal") == 0)
		cmd_signal(cl, s);
	else if (strcmp(cmd, "pid") == 0)
		cmd_pid(cl, s);
	else if (strcmp(cmd, "reload") == 0 && cl->nwords > 1)
		cmd_reload_one(cl, s);
	else if (strcmp(cmd, "reload") == 0) {
		/* supervisord's reload: everything stopped, the file read again,
		 * everything started. */
		struct conf *next = ctl_load_again(cl, s);
		if (next && sup_restart_all(s, next) == 0)
			ctl_out(cl, "Restarted supervisord");
		else if (next)
			ctl_out(cl, "ERROR: already shutting down");
	} else if (strcmp(cmd, "avail") == 0)
		ctl_cmd_avail(c, cl, s);
	else if (strcmp(cmd, "reread") == 0)
		ctl_cmd_reread(c, cl, s);
	else if (strcmp(cmd, "update") == 0)
		ctl_cmd_update(c, cl, s, false);
	else if (strcmp(cmd, "add") == 0)
		ctl_cmd_update(c, cl, s, true);
	else if (strcmp(cmd, "remove") == 0)
		ctl_cmd_remove(cl, s);
	else if (strcmp(cmd, "clear") == 0)
		cmd_clear(cl, s);
	else if (strcmp(cmd, "logfile") == 0)
		cmd_logfile(cl, s);
	else if (strcmp(cmd, "version") == 0)
		ctl_out(cl, "%s", LEGATE_INIT_VERSION);
	else if (strcmp(cmd, "shutdown") == 0) {
		if (cl->nwords > 1) {
			ctl_out(cl, "Error: shutdown accepts no arguments");
			cl->exit = CTL_GENERIC;
		} else if (s->stopping) {
			ctl_out(cl, "ERROR: already shutting down");
		} else {
			ctl_out(cl, "Shut down");
			sup_shutdown(s, 0, "ctl shutdown");
		}
	} else {
		ctl_out(cl, "*** Unknown syntax: %s", cmd);
		cl->exit = CTL_GENERIC;
	}
	if (cl->job != JOB_NONE)
		job_step(cl, s);
	else
		finish(cl, s->loop);
}

void ctl_input(struct ctl *c, struct ctl_client *cl, struct sup *s)
{
	if (cl->fd < 0)
		return;
	if (cl->busy) {
		/* Nothing more is expected; only notice the client leaving. */
		char b[64];
		ssize_t n = recv(cl->fd, b, sizeof b, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			drop(cl, s->loop);
		return;
	}
	for (;;) {
		ssize_t n = recv(cl->fd, cl->buf + cl->len, sizeof cl->buf - 1 - cl->len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			drop(cl, s->loop);
			return;
		}
		cl->len += (size_t)n;
		cl->buf[cl->len] = 0;
		char *nl = strchr(cl->buf, '\n');
		if (nl) {
			*nl = 0;
			request(c, cl, s);
			return;
		}
		if (cl->len == sizeof cl->buf - 1) {
			cl->busy = true;
			ctl_out(cl, "ERROR: request too long");
			cl->exit = CTL_GENERIC;
			finish(cl, s->loop);
			return;
		}
	}
}

void ctl_step(struct ctl *c, struct sup *s)
{
	int64_t now = init_now_ms();
	for (int i = 0; i < CTL_CLIENTS; i++) {
		struct ctl_client *cl = &c->cl[i];
		if (cl->fd < 0)
			continue;
		if (cl->busy)
			job_step(cl, s);
		else if (now - cl->since >= CTL_IDLE_MS)
			drop(cl, s->loop);
	}
}

int64_t ctl_deadline(const struct ctl *c)
{
	int64_t d = 0;
	for (int i = 0; i < CTL_CLIENTS; i++) {
		const struct ctl_client *cl = &c->cl[i];
		if (cl->fd >= 0 && !cl->busy && (!d || cl->since + CTL_IDLE_MS < d))
			d = cl->since + CTL_IDLE_MS;
	}
	return d;
}

void ctl_close(struct ctl *c, struct init_loop *l)
{
	for (int i = 0; i < CTL_CLIENTS; i++)
		drop(&c->cl[i], l);
	if (c->lfd >= 0) {
		init_loop_del(l, c->lfd);
		close(c->lfd);
		c->lfd = -1;
	}
	if (c->path[0])
		unlink(c->path);
	ctl_forget_reread(c);
}
