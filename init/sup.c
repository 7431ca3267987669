/* sup: start-up walks the programs in dependency-then-priority-then-name
 * order and starts each one whose dependencies are ready and whose
 * lower-priority predecessors in that order have settled; a shutdown stops
 * one program at a time, the most recently started first.  Everything is
 * re-evaluated after each batch of events, which is cheap for the handful
 * of programs a container runs and keeps the rules in one place. */
#include "init/sup.h"

#include "common/log.h"
#include "init/events.h"
#include "init/sigs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* How long a shutdown waits for listeners to take their last events. */
#define SUP_LISTENER_GRACE_MS 2000

enum sup_boot { SUP_BOOT_NONE, SUP_BOOT_WAIT, SUP_BOOT_STARTED, SUP_BOOT_BLOCKED };

/* What an update does with each program of the new configuration. */
enum { PLAN_SKIP, PLAN_KEEP, PLAN_NEW };

static void program_changed(void *ctx, struct program *p, enum prog_state from);

/* ---- events ----------------------------------------------------------------------- */

static void notify(struct sup *s, unsigned bit, const char *name, const char *payload)
{
	unsigned serial = 0;
	for (int i = 0; i < s->n; i++) {
		struct program *p = s->progs[i];
		if (!p->ev || !(p->c->events & bit))
			continue;
		if (!serial)
			serial = events_next_serial();
		listener_accept(p->ev, serial, name, payload);
	}
}

static void program_changed(void *ctx, struct program *p, enum prog_state from)
{
	static const unsigned bits[] = {
		CONF_EV_STATE_STOPPED, CONF_EV_STATE_STARTING, CONF_EV_STATE_RUNNING,
		CONF_EV_STATE_BACKOFF, CONF_EV_STATE_STOPPING, CONF_EV_STATE_EXITED,
		CONF_EV_STATE_FATAL,
	};
	struct sup *s = ctx;
	char name[64], payload[EV_PAYLOAD_LEN];
	int n;

	snprintf(name, sizeof name, "PROCESS_STATE_%s", program_state_name(p->state));
	n = snprintf(payload, sizeof payload, "processname:%s groupname:%s from_state:%s", p->c->name,
		     p->c->name, program_state_name(from));
	switch (p->state) {
	case PROG_STARTING:
	case PROG_BACKOFF:
		snprintf(payload + n, sizeof payload - (size_t)n, " tries:%d", p->retries);
		break;
	case PROG_EXITED:
		snprintf(payload + n, sizeof payload - (size_t)n, " expected:%d pid:%d",
			 p->exit_expected ? 1 : 0, (int)p->last_pid);
		break;
	case PROG_RUNNING:
	case PROG_STOPPING:
	case PROG_STOPPED:
		snprintf(payload + n, sizeof payload - (size_t)n, " pid:%d", (int)p->last_pid);
		break;
	default:
		break;
	}
	notify(s, bits[p->state], name, payload);
}

/* TICK_5, TICK_60, TICK_3600 when the wall clock crosses a multiple of
 * the period, as supervisord sends them. */
static void ticks(struct sup *s)
{
	static const struct { int period; unsigned bit; const char *name; } t[] = {
		{ 5, CONF_EV_TICK_5, "TICK_5" }, { 60, CONF_EV_TICK_60, "TICK_60" },
		{ 3600, CONF_EV_TICK_3600, "TICK_3600" },
	};
	time_t now = time(NULL);

	for (int i = 0; i < 3; i++) {
		time_t slice = now - now % t[i].period;
		char payload[32];
		if (s->tick_last[i] == 0 || slice == s->tick_last[i]) {
			s->tick_last[i] = slice;
			continue;
		}
		s->tick_last[i] = slice;
		snprintf(payload, sizeof payload, "when:%lld", (long long)slice);
		notify(s, t[i].bit, t[i].name, payload);
	}
}

/* ---- set-up ------------------------------------------------------------------------ */

static int cmp_priority(const struct prog_conf *a, const struct prog_conf *b)
{
	if (a->priority != b->priority)
		return a->priority < b->priority ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* Start order: dependencies first, then lowest priority, then name (as
 * supervisord orders its groups).  Each round places one program whose
 * dependencies are placed; a dependency that is gone does not hold back. */
static void build_order(struct sup *s)
{
	for (int k = 0; k < s->n; k++) {
		int best = -1;
		for (int i = 0; i < s->n; i++) {
			const struct prog_conf *c = s->progs[i]->c;
			bool placed = false, deps_placed = true;
			for (int j = 0; j < k; j++)
				placed |= s->order[j] == i;
			for (int d = 0; d < c->ndeps && deps_placed; d++) {
				bool found = c->deps[d] < 0 || c->deps[d] >= s->n;
				for (int j = 0; j < k; j++)
					found |= s->order[j] == c->deps[d];
				deps_placed = found;
			}
			if (placed || !deps_placed)
				continue;
			if (best < 0 || cmp_priority(c, s->progs[best]->c) < 0)
				best = i;
		}
		if (best < 0) {
			/* A dependency cycle an update has made: the rest in priority order. */
			for (int i = 0; i < s->n && best < 0; i++) {
				bool placed = false;
				for (int j = 0; j < k; j++)
					placed |= s->order[j] == i;
				if (!placed)
					best = i;
			}
		}
		s->order[k] = best;
	}
	for (int i = 0; i < s->n; i++)
		s->by_name[i] = i;
	for (int i = 1; i < s->n; i++)
		for (int j = i; j > 0 && strcmp(s->progs[s->by_name[j - 1]]->c->name,
						s->progs[s->by_name[j]]->c->name) > 0; j--) {
			int t = s->by_name[j];
			s->by_name[j] = s->by_name[j - 1];
			s->by_name[j - 1] = t;
		}
}

static struct program *new_program(struct sup *s, const struct prog_conf *c)
{
	struct program *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	if (program_init(p, c, &s->hooks) < 0) {
		program_free(p);
		free(p);
		return NULL;
	}
	p->boot = c->autostart ? SUP_BOOT_WAIT : SUP_BOOT_NONE;
	if (c->listener && (c->events & (CONF_EV_TICK_5 | CONF_EV_TICK_60 | CONF_EV_TICK_3600)))
		s->wants_ticks = true;
	return p;
}

static void free_program(struct program *p)
{
	if (p) {
		program_free(p);
		free(p);
	}
}

/* Allocates the tables for n programs (zeroed). */
static int alloc_tables(int n, struct program ***progs, int **order, int **by_name)
{
	size_t k = (size_t)(n ? n : 1);
	*progs = calloc(k, sizeof **progs);
	*order = calloc(k, sizeof **order);
	*by_name = calloc(k, sizeof **by_name);
	if (*progs && *order && *by_name)
		return 0;
	free(*progs);
	free(*order);
	free(*by_name);
	return -1;
}

int sup_init(struct sup *s, struct conf *conf, struct init_loop *loop)
{
	memset(s, 0, sizeof *s);
	s->conf = conf;
	s->loop = loop;
	s->hooks = (struct program_hooks){ program_changed, s };
	if (alloc_tables(conf->nprogs, &s->progs, &s->order, &s->by_name) < 0)
		return -1;
	for (int i = 0; i < conf->nprogs; i++) {
		s->progs[i] = new_program(s, conf->progs[i]);
		if (!s->progs[i])
			return -1;
		s->n++;
	}
	build_order(s);
	s->booting = true;
	return 0;
}

void sup_free(struct sup *s)
{
	for (int i = 0; s->progs && i < s->n; i++)
		free_program(s->progs[i]);
	free(s->progs);
	free(s->order);
	free(s->by_name);
	free(s->plan);
	free(s->new_progs);
	free(s->new_order);
	free(s->new_by_name);
	if (s->next) {
		conf_free(s->next);
		free(s->next);
	}
	if (s->conf) {
		conf_free(s->conf);
		free(s->conf);
	}
	memset(s, 0, sizeof *s);
}

struct program *sup_find(struct sup *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->progs[i]->c->name, name) == 0)
			return s->progs[i];
	return NULL;
}

/* ---- start-up ------------------------------------------------------------------ */

static bool dep_ready(const struct program *d)
{
	return d->c->oneshot ? d->done : d->state == PROG_RUNNING;
}

static bool dep_failed(const struct program *d)
{
	return d->state == PROG_FATAL || d->boot == SUP_BOOT_BLOCKED ||
	       (d->c->oneshot && d->state == PROG_EXITED && !d->done);
}

/* A lower-priority program no longer holds the others back once it is
 * ready, finished, failed or stopped. */
static bool settled(const struct program *p)
{
	switch (p->boot) {
	case SUP_BOOT_NONE:
	case SUP_BOOT_BLOCKED:
		return true;
	case SUP_BOOT_WAIT:
		return false;
	default:
		return p->state != PROG_STARTING && p->state != PROG_BACKOFF;
	}
}

static void boot_step(struct sup *s)
{
	bool changed = true, waiting = false;

	while (changed) {
		changed = false;
		waiting = false;
		for (int k = 0; k < s->n; k++) {
			struct program *p = s->progs[s->order[k]];
			bool ok = true;
			if (p->boot != SUP_BOOT_WAIT)
				continue;
			if (p->started_once) {        /* started through ctl meanwhile */
				p->boot = SUP_BOOT_STARTED;
				continue;
			}
			for (int d = 0; d < p->c->ndeps && ok; d++) {
				int di = p->c->deps[d];
				const struct program *dp = di >= 0 && di < s->n ? s->progs[di] : NULL;
				if (!dp || dep_failed(dp)) {
					log_error_at("program", p->c->name, "not started: it depends on %s, which %s",
						  p->c->dep_names[d], dp ? "failed" : "is not configured");
					p->boot = SUP_BOOT_BLOCKED;
					changed = true;
					ok = false;
				} else if (!dep_ready(dp)) {
					ok = false;
				}
			}
			for (int k2 = 0; k2 < k && ok; k2++) {
				const struct program *q = s->progs[s->order[k2]];
				if (q->c->priority < p->c->priority && !settled(q))
					ok = false;
			}
			if (p->boot != SUP_BOOT_WAIT)
				continue;
			if (!ok) {
				waiting = true;
				continue;
			}
			p->boot = SUP_BOOT_STARTED;
			program_event(p, PEV_START, 0, s->loop);
			changed = true;
		}
	}
	if (!waiting) {
		s->booting = false;
		log_debug("start-up complete");
	}
}

void sup_start(struct sup *s, struct program *p)
{
	p->boot = SUP_BOOT_STARTED;
	program_event(p, PEV_START, 0, s->loop);
}

/* ---- fatal policy and shutdown ---------------------------------------------------- */

void sup_shutdown(struct sup *s, int code, const char *why)
{
	if (s->stopping)
		return;
	log_info("shutting down: %s", why);
	notify(s, CONF_EV_SUP_STOPPING, "SUPERVISOR_STATE_CHANGE_STOPPING", "");
	s->stopping = true;
	s->stop_started_ms = init_now_ms();
	s->loop->stopping = true;
	s->booting = false;
	s->exit_code = code;
	for (int i = 0; i < s->n; i++)
		if (s->progs[i]->state == PROG_BACKOFF)
			program_event(s->progs[i], PEV_STOP, 0, s->loop);
}

static void fatal_step(struct sup *s)
{
	for (int i = 0; i < s->n; i++) {
		struct program *p = s->progs[i];
		if (p->state != PROG_FATAL || p->fatal_handled)
			continue;
		p->fatal_handled = true;
		if (p->c->on_fatal == CONF_FATAL_KEEP) {
			log_warn_at("program", p->c->name, "FATAL; the other programs keep running");
			continue;
		}
		log_error_at("program", p->c->name, "FATAL; stopping everything (on_fatal=exit)");
		sup_shutdown(s, program_fail_code(p), "a program failed");
	}
	for (int i = 0; i < s->n; i++)
		if (s->progs[i]->state != PROG_FATAL)
			s->progs[i]->fatal_handled = false;
}

/* Stops the live program started last; the next one waits until it is
 * gone.  Event listeners go last, so they hear about the others. */
static void stop_step(struct sup *s)
{
	struct program *last = NULL;
	for (int i = 0; i < s->n; i++) {
		struct program *p = s->progs[i];
		if (p->pid <= 0)
			continue;
		if (!last || (!p->ev && last->ev) ||
		    (!p->ev == !last->ev && p->start_seq > last->start_seq))
			last = p;
	}
	if (!last) {
		s->finished = true;
		return;
	}
	/* A listener first hears the events it has waiting (the stopping of
	 * the rest, SUPERVISOR_STATE_CHANGE_STOPPING), if it keeps up. */
	if (last->ev && last->state == PROG_RUNNING && last->ev->state != LISTENER_UNKNOWN &&
	    (last->ev->n > 0 || last->ev->state == LISTENER_BUSY) &&
	    init_now_ms() < s->stop_started_ms + SUP_LISTENER_GRACE_MS)
		return;
	if (last->state != PROG_STOPPING)
		program_event(last, PEV_STOP, 0, s->loop);
}

/* ---- updates ------------------------------------------------------------------------- */

enum sup_change sup_compare(const struct sup *s, const struct conf *next, const char *name)
{
	const struct prog_conf *now = NULL, *then = NULL;
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->progs[i]->c->name, name) == 0)
			now = s->progs[i]->c;
	for (int i = 0; i < next->nprogs; i++)
		if (next->progs[i] && strcmp(next->progs[i]->name, name) == 0)
			then = next->progs[i];
	if (now && then)
		return strcmp(now->sig, then->sig) == 0 ? SUP_SAME : SUP_CHANGED;
	return now ? SUP_REMOVED : then ? SUP_ADDED : SUP_SAME;
}

static bool named(const char *name, char *const *names, int n)
{
	if (n == 0)
		return true;
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

static int begin_update(struct sup *s, struct conf *next, char *const *names, int n, bool everything)
{
	if (s->next || s->stopping) {
		conf_free(next);
		free(next);
		return -1;
	}
	int cap = s->n + next->nprogs;
	s->new_cap = cap;
	s->plan = calloc((size_t)(next->nprogs + 1), 1);
	s->merged = conf_progs_reserve(next, cap);
	if (!s->plan || !s->merged ||
	    alloc_tables(cap, &s->new_progs, &s->new_order, &s->new_by_name) < 0) {
		free(s->plan);
		s->plan = NULL;
		conf_free(next);
		free(next);
		return -1;
	}
	s->next = next;
	s->update_done = false;
	for (int i = 0; i < next->nprogs; i++) {
		const char *name = next->progs[i]->name;
		enum sup_change ch = sup_compare(s, next, name);
		if (!named(name, names, n))
			s->plan[i] = PLAN_SKIP;
		else
			s->plan[i] = ch == SUP_SAME && !everything ? PLAN_KEEP : PLAN_NEW;
	}
	for (int i = 0; i < s->n; i++) {
		struct program *p = s->progs[i];
		enum sup_change ch = sup_compare(s, next, p->c->name);
		if (everything || ((ch == SUP_REMOVED || ch == SUP_CHANGED) && named(p->c->name, names, n))) {
			p->removing = true;
			p->boot = SUP_BOOT_NONE;
			program_event(p, PEV_STOP, 0, s->loop);
		}
	}
	return 0;
}

int sup_update(struct sup *s, struct conf *next, char *const *names, int n)
{
	return begin_update(s, next, names, n, false);
}

int sup_restart_all(struct sup *s, struct conf *next)
{
	return begin_update(s, next, NULL, 0, true);
}

/* s->progs[i] runs with s->conf->progs[i]; settings no program uses
 * (removed ones) follow the live ones in the conf's table. */
void sup_remove(struct sup *s, struct program *p)
{
	struct conf *c = s->conf;
	int idx = 0;

	while (idx < s->n && s->progs[idx] != p)
		idx++;
	if (idx == s->n)
		return;
	struct prog_conf *pc = c->progs[idx];
	for (int i = idx; i < s->n - 1; i++) {
		s->progs[i] = s->progs[i + 1];
		c->progs[i] = c->progs[i + 1];
	}
	c->progs[s->n - 1] = pc;
	s->n--;
	conf_link_deps(c);
	log_info_at("program", p->c->name, "removed");
	free_program(p);
	build_order(s);
}

/* The update's programs have stopped: builds the new table.  Programs it
 * leaves alone keep their process and their settings; their settings move
 * into the new configuration, which becomes the running one. */
static void notify_group(struct sup *s, bool added, const char *name)
{
	char payload[EV_PAYLOAD_LEN];
	snprintf(payload, sizeof payload, "groupname:%s\n", name);
	notify(s, added ? CONF_EV_GROUP_ADDED : CONF_EV_GROUP_REMOVED,
	       added ? "PROCESS_GROUP_ADDED" : "PROCESS_GROUP_REMOVED", payload);
}

static void apply_update(struct sup *s)
{
	struct conf *next = s->next, *old = s->conf;
	struct program **progs = s->new_progs, **old_progs = s->progs;
	struct prog_conf **confs = s->merged;
	int n = 0, nrem = 0, old_n = s->n, cap = s->new_cap;

	/* In the new file's order: what it keeps, changes and adds... */
	for (int i = 0; i < next->nprogs; i++) {
		struct prog_conf *c = next->progs[i];
		struct program *p = sup_find(s, c->name);
		if (s->plan[i] == PLAN_SKIP && !p)
			continue;
		if (s->plan[i] == PLAN_NEW) {
			struct program *np = new_program(s, c);
			if (!np) {
				log_error_at("program", c->name, "out of memory; not started");
				continue;
			}
			next->progs[i] = NULL;
			confs[n] = c;
			progs[n++] = np;
			log_info_at("program", c->name, "%s", p ? "updated" : "added");
			continue;
		}
		/* Kept: the running program, with the settings it runs with. */
		confs[n] = (struct prog_conf *)p->c;
		progs[n++] = p;
	}
	/* ...then what the new file no longer has but the update left alone.
	 * Programs going away wait at the table's far end until the events
	 * about them are out. */
	for (int i = 0; i < old_n; i++) {
		struct program *p = old_progs[i];
		bool placed = false;
		for (int k = 0; k < n && !placed; k++)
			placed = progs[k] == p;
		if (placed)
			continue;
		if (p->removing) {
			progs[cap - 1 - nrem++] = p;
			continue;
		}
		confs[n] = (struct prog_conf *)p->c;
		progs[n++] = p;
	}
	/* The kept settings leave the old configuration for the new one. */
	for (int i = 0; i < n; i++)
		for (int k = 0; k < old->nprogs; k++)
			if (old->progs[k] == confs[i])
				old->progs[k] = NULL;
	conf_progs_set(next, confs, n);
	for (int i = 0; i < n; i++) {
		progs[i]->removing = false;
		program_rebind(progs[i], confs[i]);
	}
	free(s->order);
	free(s->by_name);
	s->progs = progs;
	s->order = s->new_order;
	s->by_name = s->new_by_name;
	s->n = n;
	s->new_progs = NULL;
	s->new_order = s->new_by_name = NULL;
	build_order(s);
	/* Events go to the listeners of the new table. */
	for (int k = 0; k < nrem; k++) {
		struct program *p = progs[cap - 1 - k];
		log_info_at("program", p->c->name, "removed");
		notify_group(s, false, p->c->name);
		free_program(p);
		progs[cap - 1 - k] = NULL;
	}
	for (int i = 0; i < n; i++) {
		bool was = false;
		for (int k = 0; k < old_n && !was; k++)
			was = old_progs[k] == progs[i];
		if (!was)
			notify_group(s, true, progs[i]->c->name);
	}
	free(old_progs);
	conf_free(old);
	free(old);
	s->conf = next;
	s->next = NULL;
	s->merged = NULL;
	s->booting = true;    /* new autostart programs start in order */
	free(s->plan);
	s->plan = NULL;
	s->update_done = true;
}

static void update_step(struct sup *s)
{
	for (int i = 0; i < s->n; i++)
		if (s->progs[i]->removing && (s->progs[i]->pid > 0 || s->progs[i]->state == PROG_STOPPING))
			return;
	apply_update(s);
}

/* ---- the step ------------------------------------------------------------------------- */

void sup_step(struct sup *s)
{
	if (!s->announced) {
		s->announced = true;
		notify(s, CONF_EV_SUP_RUNNING, "SUPERVISOR_STATE_CHANGE_RUNNING", "");
	}
	for (int i = 0; i < s->n; i++)
		program_event(s->progs[i], PEV_TIMER, 0, s->loop);
	if (s->wants_ticks)
		ticks(s);
	if (!s->stopping)
		fatal_step(s);
	if (s->next && !s->stopping)
		update_step(s);
	if (s->booting && !s->stopping)
		boot_step(s);
	if (s->stopping)
		stop_step(s);
	for (int i = 0; i < s->n; i++) {
		struct program *p = s->progs[i];
		if (p->ev && p->state == PROG_RUNNING)
			listener_dispatch(p->ev, s->loop, s->conf->identifier);
	}
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
			if (s->progs[i]->pid == pid)
				p = s->progs[i];
		if (p)
			program_event(p, PEV_EXIT, status, s->loop);
		else
			log_trace("reaped orphan %d", (int)pid);
	}
}

static void reload_all(struct sup *s)
{
	for (int i = 0; i < s->n; i++) {
		struct program *p = s->progs[i];
		if (p->pid <= 0 || (p->state != PROG_RUNNING && p->state != PROG_STARTING))
			continue;
		log_info_at("program", p->c->name, "reload (SIG%s)", sig_name(p->c->reload_signal));
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
		/* Like supervisord: an asked-for shutdown is a success. */
		sup_shutdown(s, 0, sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "SIGQUIT");
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
	int64_t d = 0;
	for (int i = 0; i < s->n; i++) {
		int64_t pd = s->progs[i]->deadline_ms;
		if (pd && (!d || pd < d))
			d = pd;
	}
	if (s->stopping) {
		int64_t g = s->stop_started_ms + SUP_LISTENER_GRACE_MS;
		if (g > init_now_ms() && (!d || g < d))
			d = g;
	}
	if (s->wants_ticks) {
		/* Wake at the next multiple of 5 seconds on the wall clock. */
		int64_t t = init_now_ms() + (5 - time(NULL) % 5) * 1000;
		if (!d || t < d)
			d = t;
	}
	return d;
}
