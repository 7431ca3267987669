/* status: /health, /status and /metrics over libmicrohttpd, driven by
 * legate's epoll loop through MHD's own epoll descriptor and a timer.
 * The listening socket is legate's, not MHD's: it is always watched, and a
 * new connection makes room for itself by closing the least recently
 * useful one, so no number of idle, half-sent or slow clients keeps a
 * probe out. */
#include "legate/status.h"

#include <arpa/inet.h>
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

/* Connections served at once, and at most per client address.  A request
 * head must arrive within REQUEST_DEADLINE of the connection's start or of
 * its previous request; MHD_TIMEOUT closes a connection silent that long. */
#define MAX_CONNS        64
#define MAX_PER_CLIENT   8
#define REQUEST_DEADLINE 10.0
#define MHD_TIMEOUT      10
/* Connections accepted per loop turn (the rest on the next turn), and the
 * slack MHD gets above MAX_CONNS for those closed but not yet freed. */
#define ACCEPT_BATCH     16
#define MHD_LIMIT        (2 * MAX_CONNS + ACCEPT_BATCH)
/* How long the listener rests when accept() runs out of descriptors. */
#define FD_PAUSE         1.0

/* One client connection, in s->conns from the least recently useful (the
 * oldest start or request) to the most. */
struct conn {
	struct conn *prev, *next;
	int fd;
	struct sockaddr_storage addr;
	double since;
	bool closing;           /* shut down by us; MHD frees it on its next pass */
};

struct status_server {
	struct loop *loop;
	struct MHD_Daemon *mhd;
	int epfd;
	int lfd;
	int port;
	struct loop_timer timer;        /* MHD's own timeouts */
	struct loop_timer deadline;     /* the oldest connection's deadline */
	struct loop_timer pause;        /* the listener back after EMFILE */
	struct conn *head, *tail;
	int live;                       /* connections not closing */
	struct status_source src;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
			     const char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	rc = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return rc;
}

static void unlink_conn(struct status_server *s, struct conn *c)
{
	*(c->prev ? &c->prev->next : &s->head) = c->next;
	*(c->next ? &c->next->prev : &s->tail) = c->prev;
	c->prev = c->next = NULL;
}

static void append_conn(struct status_server *s, struct conn *c)
{
	c->prev = s->tail;
	c->next = NULL;
	*(s->tail ? &s->tail->next : &s->head) = c;
	s->tail = c;
}

/* A request head arrived on c: it is now the most recently useful. */
static void touch(struct status_server *s, struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *i = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *c = i ? i->socket_context : NULL;

	if (!c)
		return;
	c->since = clock_mono();
	unlink_conn(s, c);
	append_conn(s, c);
}

static bool same_client(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
	return true;
}

/* Closes c from our side.  MHD sees the hang-up on its epoll descriptor
 * and drops the connection; notify() then frees c.  (MHD closes the socket
 * only after that notice, so c->fd is never a reused descriptor.) */
static void evict(struct status_server *s, struct conn *c, const char *why)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (c->addr.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&c->addr)->sin_addr, host, sizeof host);
	log_debug("status: closing a connection from %s (%s)", host, why);
	shutdown(c->fd, SHUT_RDWR);
	c->closing = true;
	s->live--;
}

/* Before a connection from addr is added: a client at its own limit loses
 * its least recently useful connection; otherwise, at the overall limit,
 * the least recently useful of all goes. */
static void make_room(struct status_server *s, const struct sockaddr_storage *addr)
{
	struct conn *c, *oldest = NULL;
	int mine = 0;

	for (c = s->head; c; c = c->next) {
		if (c->closing || !same_client(&c->addr, addr))
			continue;
		if (!oldest)
			oldest = c;
		mine++;
	}
	if (mine >= MAX_PER_CLIENT) {
		evict(s, oldest, "too many from one client");
		return;
	}
	if (s->live < MAX_CONNS)
		return;
	for (c = s->head; c && c->closing; c = c->next)
		;
	if (c)
		evict(s, c, "every connection in use");
}

static void notify(void *cls, struct MHD_Connection *mc, void **socket_context,
		   enum MHD_ConnectionNotificationCode toe)
{
	struct status_server *s = cls;
	struct conn *c = *socket_context;
	const union MHD_ConnectionInfo *fd, *addr;

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (!c)
			return;
		unlink_conn(s, c);
		if (!c->closing)
			s->live--;
		free(c);
		*socket_context = NULL;
		return;
	}
	fd = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	addr = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	c = calloc(1, sizeof *c);
	if (!c || !fd) {
		/* Untracked, it could not be made room for: refuse it. */
		if (fd)
			shutdown(fd->connect_fd, SHUT_RDWR);
		free(c);
		return;
	}
	c->fd = fd->connect_fd;
	if (addr && addr->client_addr) {
		size_t len = addr->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
								       : sizeof(struct sockaddr_in);
		memcpy(&c->addr, addr->client_addr, len);
	}
	c->since = clock_mono();
	append_conn(s, c);
	s->live++;
	*socket_context = c;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **req_cls)
{
	struct status_server *s = cls;
	struct buf b = BUF_INIT;
	enum MHD_Result rc;

	(void)version;
	(void)upload;
	if (!*req_cls) {
		/* First call for this request: headers only. */
		*req_cls = s;
		touch(s, c);
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(c, 405, "text/plain", "method not allowed\n", 19);
	if (strcmp(url, "/health") == 0) {
		bool ok = s->src.healthy(s->src.arg, &b);
		if (ok)
			buf_puts(&b, "ok");
		buf_putc(&b, '\n');
		rc = reply(c, ok ? 200 : 503, "text/plain; charset=utf-8", buf_cstr(&b), b.len);
	} else if (strcmp(url, "/status") == 0) {
		json_t *j = s->src.status(s->src.arg);
		char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
		json_decref(j);
		if (!text)
			return reply(c, 500, "text/plain", "out of memory\n", 14);
		buf_puts(&b, text);
		buf_putc(&b, '\n');
		free(text);
		rc = reply(c, 200, "application/json", buf_cstr(&b), b.len);
	} else if (strcmp(url, "/metrics") == 0) {
		s->src.metrics(s->src.arg, &b);
		rc = reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", buf_cstr(&b), b.len);
	} else {
		rc = reply(c, 404, "text/plain", "not found: try /health, /status or /metrics\n", 44);
	}
	buf_free(&b);
#ifdef __GLIBC__
	/* /status at 10,000 watches built and freed a tree of thousands of
	 * small values and 3 MB of text: the pages they held go back to the
	 * system rather than stay in the private memory (15 MB there). */
	if (strcmp(url, "/status") == 0)
		malloc_trim(0);
#endif
	return rc;
}

static void arm(struct status_server *s)
{
	MHD_UNSIGNED_LONG_LONG ms;
	struct conn *c;

	if (MHD_get_timeout(s->mhd, &ms) == MHD_YES)
		loop_add_timer(s->loop, &s->timer, ms / 1000.0);
	else
		loop_del_timer(s->loop, &s->timer);
	for (c = s->head; c && c->closing; c = c->next)
		;
	if (c)
		loop_add_timer(s->loop, &s->deadline, c->since + REQUEST_DEADLINE - clock_mono());
	else
		loop_del_timer(s->loop, &s->deadline);
}

static void run(struct status_server *s)
{
	MHD_run(s->mhd);
	arm(s);
}

static void on_ready(struct loop *l, int fd, uint32_t events, void *arg)
{
	(void)l;
	(void)fd;
	(void)events;
	run(arg);
}

static void on_timer(struct loop *l, void *arg)
{
	(void)l;
	run(arg);
}

static void on_deadline(struct loop *l, void *arg)
{
	struct status_server *s = arg;
	double now = clock_mono();
	struct conn *c;

	(void)l;
	for (c = s->head; c && c->since + REQUEST_DEADLINE <= now; c = c->next)
		if (!c->closing)
			evict(s, c, "no request in time");
	run(s);
}

static void on_accept(struct loop *l, int lfd, uint32_t events, void *arg);

static void on_pause_end(struct loop *l, void *arg)
{
	struct status_server *s = arg;

	if (loop_add_fd(l, s->lfd, EPOLLIN, on_accept, s) < 0)
		loop_add_timer(l, &s->pause, FD_PAUSE);
}

static void on_accept(struct loop *l, int lfd, uint32_t events, void *arg)
{
	struct status_server *s = arg;
	int i;

	(void)events;
	for (i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage addr;
		socklen_t len = sizeof addr;
		int fd = accept4(lfd, (struct sockaddr *)&addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* Out of descriptors or memory: rest rather than spin. */
			log_warn("status: cannot accept a connection: %s", strerror(errno));
			loop_del_fd(l, lfd);
			loop_add_timer(l, &s->pause, FD_PAUSE);
			break;
		}
		make_room(s, &addr);
		/* On failure MHD has closed fd itself. */
		if (MHD_add_connection(s->mhd, fd, (struct sockaddr *)&addr, len) != MHD_YES)
			log_debug("status: connection refused by the HTTP layer");
	}
	run(s);
}

static int parse_addr(const char *addr, struct sockaddr_in *sa)
{
	const char *colon = strrchr(addr, ':');
	char host[64];
	char *end;
	long port;

	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	if (!colon || (size_t)(colon - addr) >= sizeof host)
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end || port < 0 || port > 65535)
		return -1;
	sa->sin_port = htons((unsigned short)port);
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0)
		sa->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (strcmp(host, "localhost") == 0)
		sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return -1;
	return 0;
}

/* A non-blocking listening socket on sa, or -1 with errno set. */
static int listen_on(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1, e;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (const struct sockaddr *)sa, sizeof *sa) < 0 || listen(fd, SOMAXCONN) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

struct status_server *status_start(struct loop *l, const char *addr,
				   const struct status_source *src, struct lg_error *err)
{
	struct status_server *s = calloc(1, sizeof *s);
	struct sockaddr_in sa;
	socklen_t salen = sizeof sa;
	const union MHD_DaemonInfo *info;

	if (!s) {
		lg_error_set(err, NULL, 0, 0, "out of memory");
		return NULL;
	}
	s->loop = l;
	s->src = *src;
	s->epfd = -1;
	s->lfd = -1;
	loop_timer_init(&s->timer, on_timer, s);
	loop_timer_init(&s->deadline, on_deadline, s);
	loop_timer_init(&s->pause, on_pause_end, s);
	if (parse_addr(addr, &sa) < 0) {
		lg_error_set(err, NULL, 0, 0, "status address \"%s\": want HOST:PORT or :PORT (IPv4)", addr);
		goto err;
	}
	s->lfd = listen_on(&sa);
	if (s->lfd < 0) {
		lg_error_set(err, NULL, 0, 0, "cannot listen on %s for /health and /status: %s", addr, strerror(errno));
		goto err;
	}
	s->port = getsockname(s->lfd, (struct sockaddr *)&sa, &salen) == 0 ? ntohs(sa.sin_port) : 0;
	s->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL, handle, s,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)MHD_LIMIT,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)MHD_TIMEOUT,
				  MHD_OPTION_NOTIFY_CONNECTION, notify, s,
				  MHD_OPTION_END);
	if (!s->mhd) {
		lg_error_set(err, NULL, 0, 0, "cannot start the HTTP server for %s", addr);
		goto err;
	}
	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info) {
		lg_error_set(err, NULL, 0, 0, "libmicrohttpd gives no epoll descriptor");
		goto err;
	}
	s->epfd = info->epoll_fd;
	if (loop_add_fd(l, s->epfd, EPOLLIN, on_ready, s) < 0 ||
	    loop_add_fd(l, s->lfd, EPOLLIN, on_accept, s) < 0) {
		lg_error_set(err, NULL, 0, 0, "cannot watch the status server's descriptors: %s", strerror(errno));
		goto err;
	}
	arm(s);
	return s;
err:
	status_stop(s);
	return NULL;
}

int status_port(const struct status_server *s)
{
	return s->port;
}

void status_stop(struct status_server *s)
{
	if (!s)
		return;
	if (s->lfd >= 0) {
		loop_del_fd(s->loop, s->lfd);
		close(s->lfd);
	}
	if (s->epfd >= 0)
		loop_del_fd(s->loop, s->epfd);
	loop_del_timer(s->loop, &s->timer);
	loop_del_timer(s->loop, &s->deadline);
	loop_del_timer(s->loop, &s->pause);
	/* Closing its connections, MHD calls notify(), which frees ours. */
	if (s->mhd)
		MHD_stop_daemon(s->mhd);
	free(s);
}
