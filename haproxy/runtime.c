/* runtime: plans applied through HAProxy's runtime API, drains, audits.
 * Every command is its own connection (HAProxy's non-interactive mode
 * answers and closes), run one after another; each answer is matched
 * against the one success gives, since the CLI has no status code. */
#include "haproxy/runtime.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/loop.h"
#include "haproxy/cli.h"

#define CMD_TIMEOUT 2.0
#define DRAIN_POLL 0.1        /* "del server" tried again while connections remain, */
#define DRAIN_POLL_MAX 1.0    /* the delay doubling up to this (long drains stay cheap) */
#define DRAIN_GIVE_UP 5.0     /* after the sessions were shut */

/* What a successful answer looks like. */
enum expect { EX_EMPTY, EX_ADDED, EX_ADDR, EX_DELETED, EX_ANY };

struct rcmd {
	char *line;
	enum expect expect;
};

/* One operation of a plan, copied out of it (the plan need not outlive
 * hap_runtime_apply), so that its commands can be made when the apply
 * really starts: whether a server comes back from a drain depends on what
 * the drain has done by then. */
struct rop {
	enum hap_op_type type;
	char *be, *srv, *host, *port, *opts;
	char *add_line;        /* HAP_OP_ADD: the "add server" command */
	int weight;
	bool disabled, check, agent;
};

struct drain {
	char *backend, *server, *opts;
	double deadline;
	bool shut;             /* sessions shut after the deadline */
	struct drain *next;
};

struct hap_runtime {
	struct loop *loop;
	char *sock;
	const char *prefix;    /* "@1 " through the master CLI, else "" */
	double drain_timeout;

	/* the apply or audit in progress */
	struct rcmd *cmds;
	size_t ncmds, next;
	struct hap_cli *req;
	hap_runtime_cb cb;
	void *arg;
	struct drain *to_drain;       /* the plan's removed servers, drained once it has succeeded */
	size_t added, removed, changed;
	struct rop *ops;              /* the plan, copied: commands are made when it starts */
	size_t nops;
	bool waiting;                 /* the apply waits for a drain's "del server" in flight */
	const struct hap_cfg *audit_cfg;
	char why[512];
	struct loop_timer later;      /* a failure found before sending anything */

	/* drains */
	struct drain *drains;
	struct drain *draining_now;   /* the one whose "del server" is in flight */
	struct hap_cli *dreq;
	struct loop_timer dtimer;
	double dpoll;                 /* the delay before the next "del server" */

	struct hap_runtime_stats stats;
};

static bool blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

static bool answer_ok(enum expect e, const char *a)
{
	switch (e) {
	case EX_EMPTY:   return blank(a);
	case EX_ADDED:   return strstr(a, "New server registered.") != NULL;
	case EX_ADDR:    return strstr(a, "changed from") || strstr(a, "no need to change");
	case EX_DELETED: return strstr(a, "Server deleted.") != NULL;
	case EX_ANY:     return true;
	}
	return false;
}

static void cmds_free(struct hap_runtime *rt)
{
	for (size_t i = 0; i < rt->ncmds; i++)
		free(rt->cmds[i].line);
	free(rt->cmds);
	rt->cmds = NULL;
	rt->ncmds = rt->next = 0;
}

static int cmd_add(struct hap_runtime *rt, enum expect e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int cmd_add(struct hap_runtime *rt, enum expect e, const char *fmt, ...)
{
	struct rcmd *nc = realloc(rt->cmds, (rt->ncmds + 1) * sizeof *nc);
	struct buf b = BUF_INIT;
	va_list ap;
	int rc;

	if (!nc)
		return -1;
	rt->cmds = nc;
	va_start(ap, fmt);
	rc = buf_puts(&b, rt->prefix) < 0 ? -1 : buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc < 0) {
		buf_free(&b);
		return -1;
	}
	nc[rt->ncmds].line = buf_steal(&b, NULL);
	nc[rt->ncmds].expect = e;
	rt->ncmds++;
	return 0;
}

/* ---- drains --------------------------------------------------------------- */

static void drain_free(struct drain *d)
{
	free(d->backend);
	free(d->server);
	free(d->opts);
	free(d);
}

static struct drain *drain_find(struct hap_runtime *rt, const char *be, const char *srv)
{
	for (struct drain *d = rt->drains; d; d = d->next)
		if (strcmp(d->backend, be) == 0 && strcmp(d->server, srv) == 0)
			return d;
	return NULL;
}

static void drain_remove(struct hap_runtime *rt, struct drain *d)
{
	struct drain **pp = &rt->drains;
	while (*pp && *pp != d)
		pp = &(*pp)->next;
	if (*pp)
		*pp = d->next;
	if (rt->draining_now == d)
		rt->draining_now = NULL;
	drain_free(d);
}

static void drain_arm(struct hap_runtime *rt)
{
	if (rt->drains && !rt->dreq)
		loop_add_timer(rt->loop, &rt->dtimer, rt->dpoll);
}

static void start_apply(struct hap_runtime *rt);

static void on_drain_answer(int ok, const char *text, size_t len, void *arg)
{
	struct hap_runtime *rt = arg;
	struct drain *d = rt->draining_now;
	double next;

	(void)len;
	rt->dreq = NULL;
	rt->draining_now = NULL;
	if (!d) {          /* forgotten meanwhile (a reload) */
		drain_arm(rt);
		if (rt->waiting)
			start_apply(rt);
		return;
	}
	next = DRAIN_POLL;
	if (ok && answer_ok(EX_DELETED, text)) {
		log_info("haproxy: server %s/%s drained and deleted", d->backend, d->server);
		drain_remove(rt, d);
	} else if (ok && strstr(text, "No such server")) {
		drain_remove(rt, d);
	} else if (clock_mono() >= d->deadline && !d->shut) {
		d->shut = true;
		d->deadline = clock_mono() + DRAIN_GIVE_UP;
		rt->stats.drain_timeouts++;
		log_warn("haproxy: server %s/%s still has connections after %.0f s; shutting them",
			 d->backend, d->server, rt->drain_timeout);
	} else if (clock_mono() >= d->deadline) {
		/* Stays in maintenance: no traffic reaches it; the next reload drops it. */
		log_warn("haproxy: server %s/%s cannot be deleted (%.*s); left in maintenance until the next reload",
			 d->backend, d->server, (int)strcspn(text, "\n"), text);
		drain_remove(rt, d);
	} else {
		/* Connections remain: look again, less and less often. */
		next = rt->dpoll * 2 > DRAIN_POLL_MAX ? DRAIN_POLL_MAX : rt->dpoll * 2;
	}
	rt->dpoll = next;
	drain_arm(rt);
	if (rt->waiting)
		start_apply(rt);
}

static void on_drain_timer(struct loop *l, void *arg)
{
	struct hap_runtime *rt = arg;
	struct drain *d = rt->drains;
	char line[600];

	(void)l;
	if (!d || rt->dreq)
		return;
	if (rt->cb) {
		/* An apply is on its way; drains wait for it to end. */
		drain_arm(rt);
		return;
	}
	/* round robin: the head goes to the back */
	if (d->next) {
		struct drain **pp = &rt->drains;
		rt->drains = d->next;
		d->next = NULL;
		for (pp = &rt->drains; *pp; pp = &(*pp)->next)
			;
		*pp = d;
	}
	if (d->shut)
		snprintf(line, sizeof line, "%sshutdown sessions server %s/%s; %sdel server %s/%s",
			 rt->prefix, d->backend, d->server, rt->prefix, d->backend, d->server);
	else
		snprintf(line, sizeof line, "%sdel server %s/%s", rt->prefix, d->backend, d->server);
	rt->draining_now = d;
	rt->dreq = hap_cli_send(rt->loop, rt->sock, line, CMD_TIMEOUT, on_drain_answer, rt);
	if (!rt->dreq) {
		rt->draining_now = NULL;
		drain_arm(rt);
	}
}

/* Starts draining d (taken), unless that server drains already. */
static void drain_start(struct hap_runtime *rt, struct drain *d)
{
	if (drain_find(rt, d->backend, d->server)) {
		drain_free(d);
		return;
	}
	d->deadline = clock_mono() + rt->drain_timeout;
	d->next = rt->drains;
	rt->drains = d;
	rt->dpoll = DRAIN_POLL;
	drain_arm(rt);
}

void hap_runtime_forget_drains(struct hap_runtime *rt)
{
	while (rt->drains)
		drain_remove(rt, rt->drains);
	loop_del_timer(rt->loop, &rt->dtimer);
}

size_t hap_runtime_draining(const struct hap_runtime *rt)
{
	size_t n = 0;
	for (const struct drain *d = rt->drains; d; d = d->next)
		n++;
	return n;
}

/* ---- applying a plan ------------------------------------------------------ */

static void rops_free(struct hap_runtime *rt)
{
	for (size_t i = 0; i < rt->nops; i++) {
		struct rop *o = &rt->ops[i];
		free(o->be);
		free(o->srv);
		free(o->host);
		free(o->port);
		free(o->opts);
		free(o->add_line);
	}
	free(rt->ops);
	rt->ops = NULL;
	rt->nops = 0;
}

/* Copies what the commands of op need.  Returns 0 or -1. */
static int rop_copy(struct rop *o, const struct hap_op *op)
{
	const struct hap_backend *b = op->be;
	const struct hap_server *s = op->srv;
	struct buf line = BUF_INIT;

	memset(o, 0, sizeof *o);
	o->type = op->type;
	o->weight = s->weight;
	o->disabled = s->disabled;
	o->check = hap_server_has(b, s, "check");
	o->agent = hap_server_has(b, s, "agent-check");
	if (!(o->be = strdup(b->name)) || !(o->srv = strdup(s->name)) || !(o->host = strdup(s->host)) ||
	    !(o->port = strdup(s->port)) || !(o->opts = strdup(s->opts)))
		return -1;
	if (op->type == HAP_OP_ADD) {
		if (hap_add_command(b, s, &line) < 0) {
			buf_free(&line);
			return -1;
		}
		o->add_line = buf_steal(&line, NULL);
	}
	return 0;
}

/* The commands of one operation.  Returns 0, -1 (out of memory) or 1 (it
 * cannot be done at run time; why says why). */
static int op_commands(struct hap_runtime *rt, const struct rop *o)
{
	struct drain *d;
	int rc = 0;

	switch (o->type) {
	case HAP_OP_ADD:
		d = drain_find(rt, o->be, o->srv);
		if (d && strcmp(d->opts, o->opts) == 0) {
			/* Back before its drain ended: the same server, revived in place. */
			drain_remove(rt, d);
			rc |= cmd_add(rt, EX_ADDR, "set server %s/%s addr %s%s%s", o->be, o->srv, o->host,
				      o->port[0] ? " port " : "", o->port);
			rc |= cmd_add(rt, EX_EMPTY, "set server %s/%s weight %d", o->be, o->srv, o->weight);
		} else {
			if (d) {
				snprintf(rt->why, sizeof rt->why, "server %s/%s is still draining with other options",
					 o->be, o->srv);
				return 1;
			}
			rc |= cmd_add(rt, EX_ADDED, "%s", o->add_line);
			if (o->check)
				rc |= cmd_add(rt, EX_EMPTY, "enable health %s/%s", o->be, o->srv);
			if (o->agent)
				rc |= cmd_add(rt, EX_EMPTY, "enable agent %s/%s", o->be, o->srv);
		}
		if (!o->disabled)
			rc |= cmd_add(rt, EX_EMPTY, "set server %s/%s state ready", o->be, o->srv);
		break;
	case HAP_OP_DEL:
		rc |= cmd_add(rt, EX_EMPTY, "set server %s/%s state maint", o->be, o->srv);
		if (!(d = calloc(1, sizeof *d)) || !(d->backend = strdup(o->be)) ||
		    !(d->server = strdup(o->srv)) || !(d->opts = strdup(o->opts))) {
			if (d)
				drain_free(d);
			return -1;
		}
		d->next = rt->to_drain;
		rt->to_drain = d;
		break;
	case HAP_OP_ADDR:
		rc |= cmd_add(rt, EX_ADDR, "set server %s/%s addr %s%s%s", o->be, o->srv, o->host,
			      o->port[0] ? " port " : "", o->port);
		break;
	case HAP_OP_WEIGHT:
		rc |= cmd_add(rt, EX_EMPTY, "set server %s/%s weight %d", o->be, o->srv, o->weight);
		break;
	case HAP_OP_STATE:
		rc |= cmd_add(rt, EX_EMPTY, "set server %s/%s state %s", o->be, o->srv,
			      o->disabled ? "maint" : "ready");
		break;
	}
	return rc ? -1 : 0;
}

static void end_apply(struct hap_runtime *rt, int ok)
{
	hap_runtime_cb cb = rt->cb;
	void *arg = rt->arg;

	cmds_free(rt);
	rops_free(rt);
	rt->cb = NULL;
	rt->waiting = false;
	while (rt->to_drain) {
		struct drain *d = rt->to_drain;
		rt->to_drain = d->next;
		d->next = NULL;
		if (ok)
			drain_start(rt, d);
		else
			drain_free(d);
	}
	if (ok) {
		rt->stats.added += rt->added;
		rt->stats.removed += rt->removed;
		rt->stats.changed += rt->changed;
	}
	cb(ok, ok ? NULL : rt->why, arg);
}

static void send_next(struct hap_runtime *rt);

static void on_answer(int ok, const char *text, size_t len, void *arg)
{
	struct hap_runtime *rt = arg;
	struct rcmd *c = &rt->cmds[rt->next];

	(void)len;
	rt->req = NULL;
	rt->stats.commands++;
	if (!ok || !answer_ok(c->expect, text)) {
		rt->stats.refused += ok;
		snprintf(rt->why, sizeof rt->why, "\"%s\": %.*s", c->line, (int)strcspn(text, "\n"),
			 ok && blank(text) ? "no answer" : text);
		end_apply(rt, 0);
		return;
	}
	rt->next++;
	send_next(rt);
}

static void send_next(struct hap_runtime *rt)
{
	if (rt->next == rt->ncmds) {
		end_apply(rt, 1);
		return;
	}
	log_debug("haproxy: %s", rt->cmds[rt->next].line);
	rt->req = hap_cli_send(rt->loop, rt->sock, rt->cmds[rt->next].line, CMD_TIMEOUT, on_answer, rt);
	if (!rt->req) {
		snprintf(rt->why, sizeof rt->why, "cannot reach %s: out of memory or sockets", rt->sock);
		end_apply(rt, 0);
	}
}

/* Makes the commands of the copied plan and sends the first. */
static void start_apply(struct hap_runtime *rt)
{
	rt->waiting = false;
	for (size_t i = 0; i < rt->nops; i++) {
		int rc = op_commands(rt, &rt->ops[i]);
		if (rc != 0) {
			if (rc < 0)
				snprintf(rt->why, sizeof rt->why, "out of memory");
			/* reported from the loop, like any other answer */
			loop_add_timer(rt->loop, &rt->later, 0);
			return;
		}
	}
	send_next(rt);
}

int hap_runtime_apply(struct hap_runtime *rt, const struct hap_plan *plan, hap_runtime_cb cb, void *arg)
{
	if (rt->cb)
		return -1;
	rt->cb = cb;
	rt->arg = arg;
	rt->why[0] = '\0';
	rt->added = plan->added;
	rt->removed = plan->removed;
	rt->changed = plan->changed;
	if (!(rt->ops = calloc(plan->nops ? plan->nops : 1, sizeof *rt->ops))) {
		snprintf(rt->why, sizeof rt->why, "out of memory");
		loop_add_timer(rt->loop, &rt->later, 0);
		return 0;
	}
	for (; rt->nops < plan->nops; rt->nops++) {
		if (rop_copy(&rt->ops[rt->nops], &plan->ops[rt->nops]) < 0) {
			rt->nops++;
			snprintf(rt->why, sizeof rt->why, "out of memory");
			loop_add_timer(rt->loop, &rt->later, 0);
			return 0;
		}
	}
	if (rt->dreq) {
		/* A drain's "del server" is on its way: whether a server comes back
		 * from its drain depends on its answer. */
		rt->waiting = true;
		return 0;
	}
	start_apply(rt);
	return 0;
}

static void on_later(struct loop *l, void *arg)
{
	(void)l;
	end_apply(arg, 0);
}

/* ---- audit ---------------------------------------------------------------- */

int hap_servers_state_parse(const char *text, hap_state_row_fn row, void *arg)
{
	int col_be = -1, col_srv = -1, col_addr = -1, col_port = -1, col_admin = -1, rows = 0;
	const char *p = text;
	bool header = false;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[2048], *f[64], *save = NULL, *tok;
		int nf = 0;

		if (len >= sizeof line)
			return -1;
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (nl ? 1 : 0);
		for (tok = strtok_r(line, " \t", &save); tok && nf < 64; tok = strtok_r(NULL, " \t", &save))
			f[nf++] = tok;
		if (nf == 0)
			continue;
		if (strcmp(f[0], "#") == 0) {
			/* the header names the columns: "# be_id be_name srv_id ..." */
			for (int i = 1; i < nf; i++) {
				int c = i - 1;
				if (strcmp(f[i], "be_name") == 0) col_be = c;
				else if (strcmp(f[i], "srv_name") == 0) col_srv = c;
				else if (strcmp(f[i], "srv_addr") == 0) col_addr = c;
				else if (strcmp(f[i], "srv_port") == 0) col_port = c;
				else if (strcmp(f[i], "srv_admin_state") == 0) col_admin = c;
			}
			header = col_be >= 0 && col_srv >= 0 && col_addr >= 0 && col_port >= 0 && col_admin >= 0;
			continue;
		}
		if (!header) {
			if (nf == 1 && rows == 0)   /* the format version line */
				continue;
			return -1;
		}
		if (nf <= col_be || nf <= col_srv || nf <= col_addr || nf <= col_port || nf <= col_admin)
			return -1;
		row(f[col_be], f[col_srv], f[col_addr], f[col_port], atoi(f[col_admin]), arg);
		rows++;
	}
	return header ? rows : -1;
}

/* The audit's running tally. */
struct audit {
	struct hap_runtime *rt;
	const struct hap_cfg *cfg;
	size_t *seen;            /* per backend, servers of cfg found running */
	char why[400];
};

static void audit_row(const char *backend, const char *server, const char *addr, const char *port,
		      int admin, void *arg)
{
	struct audit *a = arg;
	const struct hap_backend *b = hap_cfg_backend(a->cfg, backend);
	const struct hap_server *s;

	(void)admin;
	if (!b || a->why[0])
		return;            /* not a backend of ours (HAProxy's own), or already different */
	s = hap_backend_server(b, server);
	if (!s) {
		if (!drain_find(a->rt, backend, server))
			snprintf(a->why, sizeof a->why, "server %s/%s runs but is not in the file", backend, server);
		return;
	}
	a->seen[b - a->cfg->be]++;
	if (s->ip && (strcmp(s->host, addr) != 0 || (s->port[0] && strcmp(s->port, port) != 0)))
		snprintf(a->why, sizeof a->why, "server %s/%s runs at %s:%s, the file says %s:%s", backend,
			 server, addr, port, s->host, s->port);
}

static void on_audit(int ok, const char *text, size_t len, void *arg)
{
	struct hap_runtime *rt = arg;
	const struct hap_cfg *cfg = rt->audit_cfg;
	struct audit a = { .rt = rt, .cfg = cfg };
	hap_runtime_cb cb = rt->cb;
	void *cbarg = rt->arg;

	(void)len;
	rt->req = NULL;
	rt->cb = NULL;
	rt->audit_cfg = NULL;
	if (!ok) {
		snprintf(rt->why, sizeof rt->why, "the runtime API does not answer: %s", text);
		cb(-1, rt->why, cbarg);
		return;
	}
	if (!(a.seen = calloc(cfg->nbe ? cfg->nbe : 1, sizeof *a.seen))) {
		snprintf(rt->why, sizeof rt->why, "out of memory");
		cb(-1, rt->why, cbarg);
		return;
	}
	if (hap_servers_state_parse(text, audit_row, &a) < 0) {
		snprintf(rt->why, sizeof rt->why, "\"show servers state\" did not give the answer expected: %.*s",
			 (int)strcspn(text, "\n"), text);
		free(a.seen);
		cb(-1, rt->why, cbarg);
		return;
	}
	for (size_t i = 0; !a.why[0] && i < cfg->nbe; i++) {
		const struct hap_backend *b = &cfg->be[i];
		if (a.seen[i] != b->nsrv)
			snprintf(a.why, sizeof a.why, "backend %s runs %zu of the %zu servers in the file",
				 b->name, a.seen[i], b->nsrv);
	}
	free(a.seen);
	snprintf(rt->why, sizeof rt->why, "%s", a.why);
	cb(!a.why[0], a.why[0] ? rt->why : NULL, cbarg);
}

int hap_runtime_audit(struct hap_runtime *rt, const struct hap_cfg *cfg, hap_runtime_cb cb, void *arg)
{
	char line[64];

	if (rt->cb)
		return -1;
	rt->cb = cb;
	rt->arg = arg;
	rt->audit_cfg = cfg;
	snprintf(line, sizeof line, "%sshow servers state", rt->prefix);
	rt->req = hap_cli_send(rt->loop, rt->sock, line, CMD_TIMEOUT, on_audit, rt);
	if (!rt->req) {
		rt->cb = NULL;
		rt->audit_cfg = NULL;
		return -1;
	}
	return 0;
}

/* ---- life ----------------------------------------------------------------- */

struct hap_runtime *hap_runtime_new(struct loop *l, const char *sock, bool via_master,
				    double drain_timeout)
{
	struct hap_runtime *rt = calloc(1, sizeof *rt);

	if (!rt)
		return NULL;
	rt->loop = l;
	rt->prefix = via_master ? "@1 " : "";
	rt->drain_timeout = drain_timeout;
	rt->dpoll = DRAIN_POLL;
	loop_timer_init(&rt->dtimer, on_drain_timer, rt);
	loop_timer_init(&rt->later, on_later, rt);
	if (!(rt->sock = strdup(sock))) {
		free(rt);
		return NULL;
	}
	return rt;
}

void hap_runtime_free(struct hap_runtime *rt)
{
	if (!rt)
		return;
	hap_cli_cancel(rt->req);
	hap_cli_cancel(rt->dreq);
	loop_del_timer(rt->loop, &rt->later);
	hap_runtime_forget_drains(rt);
	while (rt->to_drain) {
		struct drain *d = rt->to_drain;
		rt->to_drain = d->next;
		drain_free(d);
	}
	cmds_free(rt);
	rops_free(rt);
	free(rt->sock);
	free(rt);
}

const struct hap_runtime_stats *hap_runtime_stats(const struct hap_runtime *rt)
{
	return &rt->stats;
}
