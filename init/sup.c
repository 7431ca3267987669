/* sup: start-up walks the programs in dependency-then-priority order and
 * starts each one whose dependencies are ready and whose lower-priority
 * predecessors in that order have settled;
 * a shutdown stops one program at a time, the most recently started first.
 * Everything is re-evaluated after each batch of events, which is cheap for
 * the handful of programs a container runs and keeps the rules in one
 * place. */
#include "init/sup.h"

#include "common/log.h"
#include "init/ctl.h"
#include "init/sigs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

enum boot { BOOT_NONE, BOOT_WAIT, BOOT_STARTED, BOOT_BLOCKED };

int sup_init(struct sup *s, const struct conf *conf, struct loop *loop)
{
	memset(s, 0, sizeof *s);
	s->conf = conf;
	s->loop = loop;
	s->n = conf->nprogs;
	s->progs = calloc((size_t)s->n, sizeof *s->progs);
	s->order = calloc((size_t)s->n, sizeof *s->order);
	s->boot = calloc((size_t)s->n, 1);
	if (!s->progs || !s->order || !s->boot)
		return -1;
	for (int i = 0; i < s->n; i++) {
		if (program_init(&s->progs[i], &conf->progs[i], i) < 0)
			return -1;
		s->boot[i] = conf->progs[i].autostart ? BOOT_WAIT : BOOT_NONE;
	}
	/* Start order: dependencies first, then lowest priority, then file
	 * order.  conf has ruled out cycles, so each round places one. */
	for (int k = 0; k < s->n; k++) {
		int best = -1;
		for (int i = 0; i < s->n; i++) {
			const struct prog_conf *c = &conf->progs[i];
			bool placed = false, deps_placed = true;
			for (int j = 0; j < k; j++)
				placed |= s->order[j] == i;
			for (int d = 0; d < c->ndeps && deps_placed; d++) {
				bool found = false;
				for (int j = 0; j < k; j++)
					found |= s->order[j] == c->deps[d];
				deps_placed = found;
			}
			if (placed || !deps_placed)
				continue;
			if (best < 0 || c->priority < conf->progs[best].priority)
				best = i;
		}
		s->order[k] = best;
	}
	s->booting = true;
	return 0;
}

void sup_free(struct sup *s)
{
	for (int i = 0; s->progs && i < s->n; i++)
		program_free(&s->progs[i]);
	free(s->progs);
	free(s->order);
	free(s->boot);
}

struct program *sup_find(struct sup *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->progs[i].c->name, name) == 0)
			return &s->progs[i];
	return NULL;
}

/* ---- start-up ------------------------------------------------------------------ */

static bool dep_ready(const struct program *d)
{
	return d->c->oneshot ? d->done : d->state == ST_RUNNING;
}

static bool dep_failed(const struct sup *s, const struct program *d)
{
	return d->state == ST_FATAL || s->boot[d->idx] == BOOT_BLOCKED ||
	       (d->c->oneshot && d->state == ST_EXITED && !d->done);
}

/* A lower-priority program no longer holds the others back once it is
 * ready, finished, failed or stopped. */
static bool settled(const struct sup *s, const struct program *p)
{
	switch (s->boot[p->idx]) {
	case BOOT_NONE:
	case BOOT_BLOCKED:
		return true;
	case BOOT_WAIT:
		return false;
	default:
		return p->state != ST_STARTING && p->state != ST_BACKOFF;
	}
}

static void boot_step(struct sup *s)
{
	bool changed = true, waiting = false;

	while (changed) {
		changed = false;
		waiting = false;
		for (int k = 0; k < s->n; k++) {
			int i = s->order[k];
			struct program *p = &s->progs[i];
			bool ok = true;
			if (s->boot[i] != BOOT_WAIT)
				continue;
			if (p->started_once) {        /* started through ctl meanwhile */
				s->boot[i] = BOOT_STARTED;
				continue;
			}
			for (int d = 0; d < p->c->ndeps && ok; d++) {
				const struct program *dp = &s->progs[p->c->deps[d]];
				if (dep_failed(s, dp)) {
					log_error("%s: not started: it depends on %s, which failed",
						p->c->name, dp->c->name);
					s->boot[i] = BOOT_BLOCKED;
					changed = true;
					ok = false;
				} else if (!dep_ready(dp)) {
					ok = false;
				}
			}
			for (int k2 = 0; k2 < k && ok; k2++) {
				const struct program *q = &s->progs[s->order[k2]];
				if (q->c->priority < p->c->priority && !settled(s, q))
					ok = false;
			}
			if (s->boot[i] != BOOT_WAIT)
				continue;
			if (!ok) {
				waiting = true;
				continue;
			}
			s->boot[i] = BOOT_STARTED;
			program_event(p, EV_START, 0, s->loop);
			changed = true;
		}
	}
	if (!waiting) {
		s->booting = false;
		log_debug("start-up complete");
	}
}

/* ---- fatal policy and shutdown ---------------------------------------------------- */

void sup_shutdown(struct sup *s, int code, const char *why)
{
	if (s->stopping)
		return;
	log_info("shutting down: %s", why);
	s->stopping = true;
	s->loop->stopping = true;
	s->booting = false;
	s->exit_code = code;
	for (int i = 0; i < s->n; i++)
		if (s->progs[i].state == ST_BACKOFF)
			program_event(&s->progs[i], EV_STOP, 0, s->loop);
}

static void fatal_step(struct sup *s)
{
	for (int i = 0; i < s->n; i++) {
		struct program *p = &s->progs[i];
		if (p->state != ST_FATAL || p->fatal_handled)
			continue;
		p->fatal_handled = true;
		if (p->c->on_fatal == FATAL_KEEP) {
			log_warn("%s: FATAL; the other programs keep running (on_fatal=keep)", p->c->name);
			continue;
		}
		log_error("%s: FATAL; stopping everything (on_fatal=exit)", p->c->name);
		sup_shutdown(s, program_fail_code(p), "a program failed");
	}
	for (int i = 0; i < s->n; i++)
		if (s->progs[i].state != ST_FATAL)
			s->progs[i].fatal_handled = false;
}

/* Stops the live program started last; the next one waits until it is gone. */
static void stop_step(struct sup *s)
{
	struct program *last = NULL;
	for (int i = 0; i < s->n; i++) {
		struct program *p = &s->progs[i];
		if (p->pid > 0 && (!last || p->start_seq > last->start_seq))
			last = p;
	}
	if (!last) {
		s->finished = true;
		return;
	}
	if (last->state != ST_STOPPING)
		program_event(last, EV_STOP, 0, s->loop);
}

void sup_step(struct sup *s)
{
	for (int i = 0; i < s->n; i++)
		program_event(&s->progs[i], EV_TIMER, 0, s->loop);
	if (!s->stopping)
		fatal_step(s);
	if (s->booting && !s->stopping)
		boot_step(s);
	if (s->stopping)
		stop_step(s);
	if (s->ctl)
		ctl_step(s->ctl, s);
}

/* ---- signals ----------------------------------------------------------------------- */

static void reap(struct sup *s)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			return;
		struct program *p = NULL;
		for (int i = 0; i < s->n && !p; i++)
			if (s->progs[i].pid == pid)
				p = &s->progs[i];
		if (p)
			program_event(p, EV_EXIT, status, s->loop);
		else
			log_trace("reaped orphan %d", (int)pid);
	}
}

static void reload_all(struct sup *s)
{
	for (int i = 0; i < s->n; i++) {
		struct program *p = &s->progs[i];
		if (p->pid <= 0 || (p->state != ST_RUNNING && p->state != ST_STARTING))
			continue;
		log_info("%s: reload (SIG%s)", p->c->name, sig_name(p->c->reload_signal));
		program_kill(p, p->c->reload_signal, false);
	}
}

void sup_signal(struct sup *s, int sig)
{
	switch (sig) {
	case SIGCHLD:
		reap(s);
		break;
	case SIGTERM:
	case SIGINT:
	case SIGQUIT:
		if (s->stopping)
			log_info("SIG%s: already shutting down", sig_name(sig));
		sup_shutdown(s, 128 + sig, sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "SIGQUIT");
		break;
	case SIGHUP:
		reload_all(s);
		break;
	default:
		log_debug("SIG%s ignored", sig_name(sig));
		break;
	}
}

int64_t sup_deadline(const struct sup *s)
{
	int64_t d = s->ctl ? ctl_deadline(s->ctl) : 0;
	for (int i = 0; i < s->n; i++) {
		int64_t pd = s->progs[i].deadline_ms;
		if (pd && (!d || pd < d))
			d = pd;
	}
	return d;
}
