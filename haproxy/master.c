/* master: the master CLI's two uses, each a small state machine on the
 * loop.  A probe is one "show proc".  A reload reads the counter (the
 * base), sends "reload", then polls "show proc" until the counter passes
 * the base: "[failed: N]" with N > 0 then means HAProxy refused the file
 * and its old workers go on.  A master that is re-executing does not
 * answer; polling simply goes on until the deadline.  A new master pid
 * means HAProxy was started again, and a new master reads the file too. */
#include "haproxy/master.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/loop.h"
#include "haproxy/cli.h"

#define POLL_EVERY 0.02     /* show proc while waiting for the counter */
#define RESEND_AFTER 2.0    /* "reload" again when the counter has not moved */
#define CLI_TIMEOUT 1.0

enum mstate { M_IDLE, M_PROBE, M_BASE, M_ASK, M_SENT };

struct hap_master {
	struct loop *loop;
	char *sock;
	enum mstate state;
	struct hap_cli *req;
	struct loop_timer timer;       /* next poll */
	double deadline, sent_at;
	struct hap_proc base;
	bool have_base;
	char why[256];
	hap_probe_cb probe_cb;
	hap_reload_cb reload_cb;
	void *arg;
};

int hap_proc_parse(const char *text, struct hap_proc *out)
{
	enum { NONE, WORKERS, OLD, OTHER } sec = NONE;
	const char *p = text;
	bool master = false;

	memset(out, 0, sizeof *out);
	out->failed = -1;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[512], type[32];
		long pid, reloads;

		snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
		p += len + (nl ? 1 : 0);
		if (line[0] == '#') {
			sec = strstr(line, "old workers") ? OLD : strstr(line, "workers") ? WORKERS :
			      strstr(line, "<PID>") ? NONE : OTHER;
			continue;
		}
		if (sscanf(line, "%ld %31s %ld", &pid, type, &reloads) != 3)
			continue;
		if (strcmp(type, "master") == 0) {
			const char *f = strstr(line, "[failed:");
			master = true;
			out->master = (pid_t)pid;
			out->reloads = reloads;
			if (f)
				out->failed = strtol(f + 8, NULL, 10);
		} else if (strcmp(type, "worker") == 0 && sec == WORKERS) {
			out->workers++;
			if (reloads == 0 || !out->worker)
				out->worker = (pid_t)pid;
		} else if (strcmp(type, "worker") == 0 && sec == OLD) {
			out->old_workers++;
		}
	}
	return master ? 0 : -1;
}

static void step(struct hap_master *m);

static void end_probe(struct hap_master *m, int ok, const struct hap_proc *p)
{
	hap_probe_cb cb = m->probe_cb;
	m->state = M_IDLE;
	cb(ok, p, ok ? NULL : m->why, m->arg);
}

static void end_reload(struct hap_master *m, int ok, const struct hap_proc *p)
{
	hap_reload_cb cb = m->reload_cb;
	m->state = M_IDLE;
	loop_del_timer(m->loop, &m->timer);
	cb(ok, p, ok ? NULL : m->why, m->arg);
}

static void on_asked(int ok, const char *text, size_t len, void *arg)
{
	struct hap_master *m = arg;

	(void)ok;
	(void)text;
	(void)len;
	m->req = NULL;
	m->state = M_SENT;
	m->sent_at = clock_mono();
	loop_add_timer(m->loop, &m->timer, POLL_EVERY);
}

/* The answer to "show proc" (or the failure to get one). */
static void on_proc(int ok, const char *text, size_t len, void *arg)
{
	struct hap_master *m = arg;
	struct hap_proc p;
	bool parsed;

	(void)len;
	m->req = NULL;
	parsed = ok && hap_proc_parse(text, &p) == 0;
	if (!parsed)
		snprintf(m->why, sizeof m->why, "the master CLI at %s does not answer: %s", m->sock,
			 ok ? "not a \"show proc\" answer" : text);
	switch (m->state) {
	case M_PROBE:
		end_probe(m, parsed, &p);
		return;
	case M_BASE:
		if (parsed) {
			m->base = p;
			m->have_base = true;
			m->state = M_ASK;
			/* The answer to "reload" is the connection closing as the master
			 * re-executes; the counter is what confirms it. */
			m->req = hap_cli_send(m->loop, m->sock, "reload", CLI_TIMEOUT, on_asked, m);
			if (m->req)
				return;
			m->state = M_BASE;
		}
		break;
	case M_SENT:
		if (parsed && m->have_base && (p.master != m->base.master || p.reloads > m->base.reloads)) {
			if (p.master == m->base.master && p.failed > 0) {
				snprintf(m->why, sizeof m->why,
					 "HAProxy refused the new configuration (master reload counter %ld, %ld failed); "
					 "its old workers go on with the previous one", p.reloads, p.failed);
				end_reload(m, 0, &p);
			} else {
				end_reload(m, 1, &p);
			}
			return;
		}
		if (parsed && clock_mono() - m->sent_at >= RESEND_AFTER) {
			/* The master answers and its counter has not moved: the
			 * request was lost (sent while it re-executed, say).  Ask
			 * again from a fresh base.  A master that does not answer
			 * is still at work on a reload: no new one is piled on. */
			m->state = M_BASE;
		}
		break;
	default:
		return;
	}
	if (clock_mono() >= m->deadline) {
		if (parsed)
			snprintf(m->why, sizeof m->why, "the master at %s did not confirm the reload in time "
				 "(reload counter still %ld)", m->sock, p.reloads);
		end_reload(m, 0, parsed ? &p : NULL);
		return;
	}
	loop_add_timer(m->loop, &m->timer, POLL_EVERY);
}

static void step(struct hap_master *m)
{
	m->req = hap_cli_send(m->loop, m->sock, "show proc", CLI_TIMEOUT, on_proc, m);
	if (!m->req) {
		snprintf(m->why, sizeof m->why, "cannot reach the master CLI at %s: out of memory or sockets", m->sock);
		if (m->state == M_PROBE)
			end_probe(m, 0, NULL);
		else
			end_reload(m, 0, NULL);
	}
}

static void on_timer(struct loop *l, void *arg)
{
	(void)l;
	step(arg);
}

struct hap_master *hap_master_new(struct loop *l, const char *sock)
{
	struct hap_master *m = calloc(1, sizeof *m);

	if (!m)
		return NULL;
	m->loop = l;
	if (!(m->sock = strdup(sock))) {
		free(m);
		return NULL;
	}
	loop_timer_init(&m->timer, on_timer, m);
	return m;
}

void hap_master_free(struct hap_master *m)
{
	if (!m)
		return;
	hap_cli_cancel(m->req);
	loop_del_timer(m->loop, &m->timer);
	free(m->sock);
	free(m);
}

const char *hap_master_socket(const struct hap_master *m)
{
	return m->sock;
}

bool hap_master_busy(const struct hap_master *m)
{
	return m->state != M_IDLE;
}

int hap_master_probe(struct hap_master *m, double timeout, hap_probe_cb cb, void *arg)
{
	if (m->state != M_IDLE)
		return -1;
	m->state = M_PROBE;
	m->probe_cb = cb;
	m->arg = arg;
	m->deadline = clock_mono() + timeout;
	step(m);
	return 0;
}

int hap_master_reload(struct hap_master *m, double timeout, hap_reload_cb cb, void *arg)
{
	if (m->state != M_IDLE)
		return -1;
	m->state = M_BASE;
	m->have_base = false;
	m->reload_cb = cb;
	m->arg = arg;
	m->deadline = clock_mono() + timeout;
	step(m);
	return 0;
}
