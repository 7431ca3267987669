/* status: /health, /status and /metrics over libmicrohttpd, driven by
 * legate's epoll loop through MHD's own epoll descriptor and a timer. */
#include "legate/status.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

struct status_server {
	struct loop *loop;
	struct MHD_Daemon *mhd;
	int epfd;
	int port;
	struct loop_timer timer;
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
	return rc;
}

static void arm(struct status_server *s)
{
	MHD_UNSIGNED_LONG_LONG ms;
	if (MHD_get_timeout(s->mhd, &ms) == MHD_YES)
		loop_add_timer(s->loop, &s->timer, ms / 1000.0);
	else
		loop_del_timer(s->loop, &s->timer);
}

static void on_ready(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct status_server *s = arg;
	(void)l;
	(void)fd;
	(void)events;
	MHD_run(s->mhd);
	arm(s);
}

static void on_timer(struct loop *l, void *arg)
{
	struct status_server *s = arg;
	(void)l;
	MHD_run(s->mhd);
	arm(s);
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

struct status_server *status_start(struct loop *l, const char *addr,
				   const struct status_source *src, char *err, size_t errlen)
{
	struct status_server *s = calloc(1, sizeof *s);
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->loop = l;
	s->src = *src;
	s->epfd = -1;
	loop_timer_init(&s->timer, on_timer, s);
	if (parse_addr(addr, &sa) < 0) {
		snprintf(err, errlen, "status address \"%s\": want HOST:PORT or :PORT (IPv4)", addr);
		goto err;
	}
	s->mhd = MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, handle, s,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
				  MHD_OPTION_END);
	if (!s->mhd) {
		snprintf(err, errlen, "cannot listen on %s for /health and /status", addr);
		goto err;
	}
	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info) {
		snprintf(err, errlen, "libmicrohttpd gives no epoll descriptor");
		goto err;
	}
	s->epfd = info->epoll_fd;
	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : ntohs(sa.sin_port);
	if (loop_add_fd(l, s->epfd, EPOLLIN, on_ready, s) < 0) {
		snprintf(err, errlen, "cannot watch the status server's descriptor");
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
	if (s->epfd >= 0)
		loop_del_fd(s->loop, s->epfd);
	loop_del_timer(s->loop, &s->timer);
	if (s->mhd)
		MHD_stop_daemon(s->mhd);
	free(s);
}
