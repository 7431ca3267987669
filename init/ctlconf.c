/* ctlconf: the control commands about the configuration file: avail,
 * reread, update, add, remove, and reading the file again for them and for
 * reload.  These are the only commands that allocate: a new configuration
 * is loaded, compared with the running one and, for an update, handed to
 * the supervisor. */
#include "init/ctl.h"
#include "init/ctl_int.h"

#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ctl_cmd_avail(struct ctl *c, struct ctl_client *cl, struct sup *s)
{
	const struct conf *conf = c->reread ? c->reread : s->conf;
	char prio[32];

	if (cl->nwords > 1) {
		ctl_out(cl, "Error: avail accepts no arguments");
		cl->exit = CTL_GENERIC;
		return;
	}
	/* In name order, as supervisorctl lists them. */
	for (const struct prog_conf *last = NULL, *p;; last = p) {
		p = NULL;
		for (int i = 0; i < conf->nprogs; i++) {
			const struct prog_conf *q = conf->progs[i];
			if ((!last || strcmp(last->name, q->name) < 0) && (!p || strcmp(q->name, p->name) < 0))
				p = q;
		}
		if (!p)
			break;
		snprintf(prio, sizeof prio, "%d:%d", p->priority, p->priority);
		ctl_out(cl, "%-32s %-9s %-9s %s", p->name, sup_find(s, p->name) ? "in use" : "avail",
		    p->autostart ? "auto" : "manual", prio);
	}
}

struct conf *ctl_load_again(struct ctl_client *cl, struct sup *s)
{
	struct conf_opts opts = { .log_prefix = false, .ctl_socket = s->conf->ctl_socket };
	struct conf_error err;
	struct conf *next = calloc(1, sizeof *next);

	/* A -P given at start-up holds for programs read again. */
	for (int i = 0; i < s->n; i++)
		if (s->progs[i]->c->log_prefix)
			opts.log_prefix = true;
	if (!next) {
		ctl_out(cl, "ERROR: CANT_REREAD: out of memory");
		cl->exit = CTL_GENERIC;
		return NULL;
	}
	if (conf_load(s->conf->path, &opts, next, &err) < 0) {
		if (err.line)
			ctl_out(cl, "ERROR: CANT_REREAD: %s:%d: %s", err.file, err.line, err.msg);
		else
			ctl_out(cl, "ERROR: CANT_REREAD: %s: %s", err.file, err.msg);
		cl->exit = CTL_GENERIC;
		free(next);
		return NULL;
	}
	return next;
}

void ctl_forget_reread(struct ctl *c)
{
	if (c->reread) {
		conf_free(c->reread);
		free(c->reread);
		c->reread = NULL;
	}
}

/* The first name after after (NULL: from the start), in name order, of a
 * program that differs between the running and the re-read configuration:
 * returns its enum sup_change and sets *name, or -1 at the end. */
static int changes(struct sup *s, const struct conf *next, const char *after, const char **name)
{
	const char *best = NULL;
	enum sup_change ch = SUP_SAME, bestch = SUP_SAME;

	for (int pass = 0; pass < 2; pass++) {
		int n = pass ? next->nprogs : s->n;
		for (int i = 0; i < n; i++) {
			const char *nm = pass ? next->progs[i]->name : s->progs[i]->c->name;
			if ((after && strcmp(nm, after) <= 0) || (best && strcmp(nm, best) >= 0))
				continue;
			ch = sup_compare(s, next, nm);
			if (ch != SUP_SAME) {
				best = nm;
				bestch = ch;
			}
		}
	}
	*name = best;
	return best ? (int)bestch : -1;
}

void ctl_cmd_reread(struct ctl *c, struct ctl_client *cl, struct sup *s)
{
	static const char *const what[] = { "", "available", "changed", "disappeared" };
	const char *name = NULL;
	struct conf *next;
	int ch, count = 0;

	if (cl->nwords > 1) {
		ctl_out(cl, "Error: reread accepts no arguments");
		cl->exit = CTL_GENERIC;
		return;
	}
	if (!(next = ctl_load_again(cl, s)))
		return;
	while ((ch = changes(s, next, name, &name)) >= 0) {
		ctl_out(cl, "%s: %s", name, what[ch]);
		count++;
	}
	if (!count)
		ctl_out(cl, "No config updates to processes");
	ctl_forget_reread(c);
	c->reread = next;
}

/* The lines supervisorctl prints for an update, in its order: removed,
 * changed, added.  Returns how many programs the update touches. */
static int update_lines(struct ctl_client *cl, struct sup *s, const struct conf *next,
			char *const *names, int n)
{
	int count = 0;
	for (int pass = 0; pass < 3; pass++) {
		int total = pass == 0 ? s->n : next->nprogs;
		for (int i = 0; i < total; i++) {
			const char *nm = pass == 0 ? s->progs[s->order[i]]->c->name : next->progs[i]->name;
			enum sup_change ch = sup_compare(s, next, nm);
			bool named = n == 0;
			for (int k = 0; k < n && !named; k++)
				named = strcmp(names[k], nm) == 0;
			if (!named)
				continue;
			if (pass == 0 && ch == SUP_REMOVED) {
				ctl_out(cl, "%s: stopped", nm);
				ctl_out(cl, "%s: removed process group", nm);
			} else if (pass == 1 && ch == SUP_CHANGED) {
				ctl_out(cl, "%s: stopped", nm);
				ctl_out(cl, "%s: updated process group", nm);
			} else if (pass == 2 && ch == SUP_ADDED) {
				ctl_out(cl, "%s: added process group", nm);
			} else {
				continue;
			}
			count++;
		}
	}
	return count;
}

/* update [NAME...|all], and add NAME...: the file is read again and the
 * programs it adds, changes or removes are applied (for add: only the
 * named programs it adds). */
void ctl_cmd_update(struct ctl *c, struct ctl_client *cl, struct sup *s, bool add)
{
	char **names = cl->words + 1;
	int n = ctl_has_all(cl) ? 0 : cl->nwords - 1, count = 0;
	struct conf *next;

	if (s->stopping) {
		ctl_out(cl, "ERROR: already shutting down");
		cl->exit = CTL_GENERIC;
		return;
	}
	if (!(next = ctl_load_again(cl, s)))
		return;
	ctl_forget_reread(c);
	for (int i = 0; i < n; i++) {
		bool active = sup_find(s, names[i]) != NULL;
		enum sup_change ch = sup_compare(s, next, names[i]);
		if (add && active) {
			ctl_out(cl, "ERROR: process group already active");
			names[i] = "";
		} else if (add && ch != SUP_ADDED) {
			ctl_out(cl, "ERROR: no such process/group: %s", names[i]);
			cl->exit = CTL_GENERIC;
			names[i] = "";
		} else if (!add && !active && ch != SUP_ADDED) {
			ctl_out(cl, "ERROR: no such group: %s", names[i]);
			cl->exit = CTL_GENERIC;
			names[i] = "";
		} else if (add) {
			ctl_out(cl, "%s: added process group", names[i]);
			count++;
		}
	}
	if (!add)
		count = update_lines(cl, s, next, names, n);
	if (count == 0) {
		conf_free(next);
		free(next);
		return;
	}
	if (sup_update(s, next, names, n) < 0) {
		ctl_out(cl, "ERROR: an update is already under way");
		cl->exit = CTL_GENERIC;
		return;
	}
	cl->job = JOB_UPDATE;
}

void ctl_cmd_remove(struct ctl_client *cl, struct sup *s)
{
	for (int i = 1; i < cl->nwords; i++) {
		struct program *p = sup_find(s, cl->words[i]);
		if (!p) {
			ctl_out(cl, "ERROR: no such process/group: %s", cl->words[i]);
			cl->exit = CTL_GENERIC;
		} else if (p->pid > 0 || p->state == PROG_STOPPING) {
			ctl_out(cl, "ERROR: process/group still running: %s", cl->words[i]);
			cl->exit = CTL_GENERIC;
		} else {
			sup_remove(s, p);
			ctl_out(cl, "%s: removed process group", cl->words[i]);
		}
	}
}

