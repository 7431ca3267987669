/* srv: one SRV name resolved again and again with c-ares on legate's
 * event loop: c-ares tells which sockets to watch (the sock-state
 * callback) and when to time out (ares_timeout); each round asks for the
 * SRV records, then the A records of their targets, and reports the
 * addresses once every answer of the round is in. */
#include "ambassador/srv.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <ares.h>
#include <arpa/nameser.h>

#include "common/log.h"

#define MAX_INTERVAL 30.0
#define MAX_ADDRS 32

struct amb_srv {
	struct loop *loop;
	ares_channel ch;
	char *name;
	double min_interval;
	amb_srv_cb cb;
	void *arg;
	struct loop_timer round_timer;  /* next round */
	struct loop_timer ares_timer;   /* c-ares' own timeouts */
	unsigned gen;                   /* the round in progress */
	int pending;                    /* its queries still out */
	bool failed;                    /* one of them failed (not "no such name") */
	double ttl;                     /* smallest TTL seen this round, < 0: none */
	struct amb_list acc;            /* addresses of this round */
	double failure_delay;           /* next retry after a failed round */
	unsigned failures;              /* failed rounds in a row */
};

/* An A query for one SRV target. */
struct a_query {
	struct amb_srv *r;
	unsigned gen;
	int port;
	char target[256];
};

static int lib_users;

static void start_round(struct amb_srv *r);

static void rearm_ares_timer(struct amb_srv *r)
{
	struct timeval tv, *tvp = ares_timeout(r->ch, NULL, &tv);

	if (tvp)
		loop_add_timer(r->loop, &r->ares_timer, (double)tvp->tv_sec + tvp->tv_usec / 1e6);
	else
		loop_del_timer(r->loop, &r->ares_timer);
}

static void on_fd(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct amb_srv *r = arg;
	(void)l;
	ares_process_fd(r->ch, events & (EPOLLIN | EPOLLERR | EPOLLHUP) ? fd : ARES_SOCKET_BAD,
			events & EPOLLOUT ? fd : ARES_SOCKET_BAD);
	rearm_ares_timer(r);
}

static void on_ares_timer(struct loop *l, void *arg)
{
	struct amb_srv *r = arg;
	(void)l;
	ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	rearm_ares_timer(r);
}

static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct amb_srv *r = data;

	if (!readable && !writable) {
		loop_del_fd(r->loop, fd);
		return;
	}
	if (loop_add_fd(r->loop, fd, (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0), on_fd, r) < 0)
		log_error("%s: cannot watch DNS socket: %m", r->name);
}

static void on_round_timer(struct loop *l, void *arg)
{
	(void)l;
	start_round(arg);
}

/* The round is over when its last query answered. */
static void finish(struct amb_srv *r)
{
	double next;

	if (--r->pending > 0)
		return;
	if (r->failed) {
		next = r->failure_delay;
		r->failure_delay = r->failure_delay * 2 > MAX_INTERVAL ? MAX_INTERVAL : r->failure_delay * 2;
		r->failures++;
		amb_list_free(&r->acc);
	} else {
		if (r->failures)
			log_info("%s: DNS answers again", r->name);
		r->failures = 0;
		r->failure_delay = 1;
		amb_list_sort(&r->acc);
		r->cb(r->arg, &r->acc);
		amb_list_free(&r->acc);
		next = r->ttl > r->min_interval ? r->ttl : r->min_interval;
		if (next > MAX_INTERVAL)
			next = MAX_INTERVAL;
	}
	loop_add_timer(r->loop, &r->round_timer, next);
}

/* "No such name" and "no records" mean no backend; anything else (a
 * timeout, a refused or failing server) keeps the last answer. */
static bool is_empty_answer(int status)
{
	return status == ARES_ENOTFOUND || status == ARES_ENODATA;
}

static void round_failed(struct amb_srv *r, const char *what, int status)
{
	if (!r->failed && r->failures == 0)
		log_warn("%s: DNS %s: %s; keeping the last answer", r->name, what, ares_strerror(status));
	r->failed = true;
}

static void on_a(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct a_query *q = arg;
	struct amb_srv *r = q->r;
	struct ares_addrttl addrs[MAX_ADDRS];
	int n = MAX_ADDRS;

	(void)timeouts;
	if (status == ARES_EDESTRUCTION || q->gen != r->gen) {
		free(q);
		return;
	}
	if (status == ARES_SUCCESS)
		status = ares_parse_a_reply(abuf, alen, NULL, addrs, &n);
	if (status == ARES_SUCCESS) {
		for (int i = 0; i < n; i++) {
			char ip[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &addrs[i].ipaddr, ip, sizeof ip);
			if (amb_list_add(&r->acc, ip, q->port) < 0)
				r->failed = true;
			if (r->ttl < 0 || addrs[i].ttl < r->ttl)
				r->ttl = addrs[i].ttl;
		}
	} else if (is_empty_answer(status)) {
		log_debug("%s: target %s has no A record", r->name, q->target);
	} else {
		round_failed(r, q->target, status);
	}
	free(q);
	finish(r);
}

static void on_srv(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct amb_srv *r = arg;
	struct ares_srv_reply *srv = NULL;

	(void)timeouts;
	if (status == ARES_EDESTRUCTION)
		return;
	if (status == ARES_SUCCESS)
		status = ares_parse_srv_reply(abuf, alen, &srv);
	if (status == ARES_SUCCESS) {
		for (struct ares_srv_reply *s = srv; s; s = s->next) {
			struct in_addr a4;
			struct a_query *q;
			if (inet_pton(AF_INET, s->host, &a4) == 1) {
				if (amb_list_add(&r->acc, s->host, s->port) < 0)
					r->failed = true;
				continue;
			}
			if (!(q = calloc(1, sizeof *q))) {
				r->failed = true;
				continue;
			}
			q->r = r;
			q->gen = r->gen;
			q->port = s->port;
			snprintf(q->target, sizeof q->target, "%s", s->host);
			r->pending++;
			ares_query(r->ch, q->target, C_IN, T_A, on_a, q);
		}
		ares_free_data(srv);
	} else if (!is_empty_answer(status)) {
		round_failed(r, "SRV query", status);
	}
	finish(r);
}

static void start_round(struct amb_srv *r)
{
	r->gen++;
	r->pending = 1;
	r->failed = false;
	r->ttl = -1;
	amb_list_free(&r->acc);
	ares_query(r->ch, r->name, C_IN, T_SRV, on_srv, r);
	rearm_ares_timer(r);
}

struct amb_srv *amb_srv_new(struct loop *l, const char *name, const char *server,
			    double min_interval, amb_srv_cb cb, void *arg,
			    struct lg_error *err)
{
	struct amb_srv *r;
	struct ares_options o;
	int rc;

	if (lib_users == 0 && (rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		lg_error_set(err, NULL, 0, 0, "c-ares: %s", ares_strerror(rc));
		return NULL;
	}
	lib_users++;
	if (!(r = calloc(1, sizeof *r))) {
		lg_error_set(err, NULL, 0, 0, "out of memory");
		goto err;
	}
	r->loop = l;
	r->min_interval = min_interval;
	r->cb = cb;
	r->arg = arg;
	r->failure_delay = 1;
	loop_timer_init(&r->round_timer, on_round_timer, r);
	loop_timer_init(&r->ares_timer, on_ares_timer, r);
	if (!(r->name = strdup(name))) {
		lg_error_set(err, NULL, 0, 0, "out of memory");
		goto err;
	}
	memset(&o, 0, sizeof o);
	o.sock_state_cb = on_sock_state;
	o.sock_state_cb_data = r;
	o.timeout = 1000;
	o.tries = 3;
	rc = ares_init_options(&r->ch, &o, ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (rc != ARES_SUCCESS) {
		r->ch = NULL;
		lg_error_set(err, NULL, 0, 0, "c-ares: %s", ares_strerror(rc));
		goto err;
	}
	if (server && (rc = ares_set_servers_ports_csv(r->ch, server)) != ARES_SUCCESS) {
		lg_error_set(err, NULL, 0, 0, "--dns %s: %s", server, ares_strerror(rc));
		goto err;
	}
	loop_add_timer(l, &r->round_timer, 0);
	return r;
err:
	amb_srv_free(r);
	if (!r && --lib_users == 0)
		ares_library_cleanup();
	return NULL;
}

void amb_srv_free(struct amb_srv *r)
{
	if (!r)
		return;
	if (r->ch)
		ares_destroy(r->ch);   /* pending callbacks see ARES_EDESTRUCTION */
	loop_del_timer(r->loop, &r->round_timer);
	loop_del_timer(r->loop, &r->ares_timer);
	amb_list_free(&r->acc);
	free(r->name);
	free(r);
	if (--lib_users == 0)
		ares_library_cleanup();
}
