/* http: the libcurl multi handle driven by the loop: curl tells us which
 * sockets and which timeout to watch, the loop tells curl what happened. */
#include "watcher/http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <curl/curl.h>

#include "common/log.h"

struct http {
	struct loop *loop;
	CURLM *multi;
	struct loop_timer timer;
	struct http_opts opts;
	struct curl_slist *connect_to;
	struct http_req *reqs;   /* every live request */
	int nreqs;
	int ndisowned;           /* of those, running with no owner */
	unsigned long started;   /* requests started, ever */
	CURL *spare[8];          /* finished handles, reset, for the next calls */
	int nspare;
};

struct http_req {
	struct http *h;
	struct http_req *prev, *next;
	CURL *easy;
	struct curl_slist *hdrs;
	struct curl_slist *connect_to;
	char *body_out;          /* request body, kept alive for curl */
	struct buf body;
	struct buf headers;
	char errbuf[CURL_ERROR_SIZE];
	http_data_cb on_data;
	http_done_cb on_done;
	void *arg;
	int aborted;
	int disowned;            /* no owner: the answer goes nowhere */
};

static int global_done;

/* Easy handles are kept for the next calls rather than made for each: a
 * new handle allocates its buffers again (with 1,000 services watched,
 * the idle leader poll's CPU fell from about 6 to 4 ms a second). */
static CURL *easy_get(struct http *h)
{
	return h->nspare > 0 ? h->spare[--h->nspare] : curl_easy_init();
}

static void easy_put(struct http *h, CURL *e)
{
	if (!e)
		return;
	if (h->nspare < (int)(sizeof h->spare / sizeof h->spare[0])) {
		curl_easy_reset(e);
		h->spare[h->nspare++] = e;
	} else {
		curl_easy_cleanup(e);
	}
}

static void req_free(struct http_req *r)
{
	struct http *h = r->h;

	if (r->prev)
		r->prev->next = r->next;
	else
		h->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	h->nreqs--;
	if (r->disowned)
		h->ndisowned--;
	curl_multi_remove_handle(h->multi, r->easy);
	easy_put(h, r->easy);
	curl_slist_free_all(r->hdrs);
	curl_slist_free_all(r->connect_to);
	free(r->body_out);
	buf_free(&r->body);
	buf_free(&r->headers);
	free(r);
}

/* Hands every finished transfer to its owner, then frees it: the one
 * place a request ends after it started. */
static void check_done(struct http *h)
{
	CURLMsg *m;
	int left;
	struct http_req *r;
	struct http_result res;
	char *p;

	while ((m = curl_multi_info_read(h->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		p = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &p);
		r = (struct http_req *)p;
		memset(&res, 0, sizeof res);
		res.ok = m->data.result == CURLE_OK;
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res.status);
		res.timed_out = m->data.result == CURLE_OPERATION_TIMEDOUT;
		res.error = r->errbuf[0] ? r->errbuf : curl_easy_strerror(m->data.result);
		if (r->aborted)
			res.error = "aborted by the reader";
		res.body = &r->body;
		res.headers = &r->headers;
		if (!r->disowned)
			r->on_done(r, &res, r->arg);
		req_free(r);
	}
}

static void on_fd(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct http *h = arg;
	int mask = 0, running;

	(void)l;
	if (events & EPOLLIN)
		mask |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		mask |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		mask |= CURL_CSELECT_ERR;
	curl_multi_socket_action(h->multi, fd, mask, &running);
	check_done(h);
}

static void on_timer(struct loop *l, void *arg)
{
	struct http *h = arg;
	int running;

	(void)l;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(h);
}

static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct http *h = userp;
	uint32_t ev = 0;

	(void)e;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		loop_del_fd(h->loop, s);
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		ev |= EPOLLOUT;
	if (loop_add_fd(h->loop, s, ev, on_fd, h) < 0) {
		log_error("http: cannot watch socket %d: %s", s, strerror(errno));
		return -1;
	}
	return 0;
}

/* curl may not be called back from here: the loop timer does it. */
static int timer_cb(CURLM *m, long ms, void *userp)
{
	struct http *h = userp;

	(void)m;
	if (ms < 0)
		loop_del_timer(h->loop, &h->timer);
	else
		loop_add_timer(h->loop, &h->timer, (double)ms / 1000.0);
	return 0;
}

static size_t write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct http_req *r = arg;

	if (r->disowned)
		return n * size;
	if (buf_append(&r->body, p, n * size) < 0)
		return 0;
	if (r->on_data && r->on_data(r, &r->body, r->arg) < 0) {
		r->aborted = 1;
		return 0;
	}
	return n * size;
}

static size_t header_cb(char *p, size_t size, size_t n, void *arg)
{
	struct http_req *r = arg;

	/* A new response (after a 100 Continue or a redirect) starts over. */
	if (n * size > 5 && strncmp(p, "HTTP/", 5) == 0)
		buf_reset(&r->headers);
	if (buf_append(&r->headers, p, n * size) < 0)
		return 0;
	return n * size;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct http *http_new(struct loop *l, const struct http_opts *opts, struct lg_error *err)
{
	struct http *h;
	long cap;

	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			lg_error_set(err, NULL, 0, 0, "curl_global_init failed");
			return NULL;
		}
		global_done = 1;
	}
	h = calloc(1, sizeof *h);
	if (!h) {
		lg_error_set(err, NULL, 0, 0, "out of memory");
		return NULL;
	}
	h->loop = l;
	h->opts = *opts;
	h->opts.ca_file = dup_or_null(opts->ca_file);
	h->opts.cert_file = dup_or_null(opts->cert_file);
	h->opts.key_file = dup_or_null(opts->key_file);
	h->opts.ca_path = dup_or_null(opts->ca_path);
	h->opts.userpwd = dup_or_null(opts->userpwd);
	h->opts.connect_to = NULL;
	h->opts.unix_socket = dup_or_null(opts->unix_socket);
	loop_timer_init(&h->timer, on_timer, h);
	if ((opts->ca_file && !h->opts.ca_file) || (opts->cert_file && !h->opts.cert_file) ||
	    (opts->key_file && !h->opts.key_file) || (opts->ca_path && !h->opts.ca_path) ||
	    (opts->userpwd && !h->opts.userpwd) || (opts->unix_socket && !h->opts.unix_socket) ||
	    (opts->connect_to && !(h->connect_to = curl_slist_append(NULL, opts->connect_to)))) {
		lg_error_set(err, NULL, 0, 0, "out of memory");
		http_free(h);
		return NULL;
	}
	h->multi = curl_multi_init();
	if (!h->multi) {
		lg_error_set(err, NULL, 0, 0, "curl_multi_init failed");
		http_free(h);
		return NULL;
	}
	cap = opts->max_conns > 0 ? opts->max_conns : 32;
	h->opts.max_conns = cap;
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	/* The cap holds for open connections, idle ones in the cache included. */
	curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, cap);
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, cap);
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, cap);
	return h;
}

void http_free(struct http *h)
{
	if (!h)
		return;
	while (h->reqs)
		req_free(h->reqs);
	while (h->nspare > 0)
		curl_easy_cleanup(h->spare[--h->nspare]);
	if (h->multi)
		curl_multi_cleanup(h->multi);
	loop_del_timer(h->loop, &h->timer);
	free((char *)h->opts.ca_file);
	free((char *)h->opts.cert_file);
	free((char *)h->opts.key_file);
	free((char *)h->opts.ca_path);
	free((char *)h->opts.userpwd);
	curl_slist_free_all(h->connect_to);
	free((char *)h->opts.unix_socket);
	free(h);
}

struct http_req *http_start(struct http *h, const struct http_call *c, struct lg_error *err)
{
	struct http_req *r = calloc(1, sizeof *r);
	CURL *e;
	size_t i;

	if (!r || !(r->easy = easy_get(h))) {
		free(r);
		lg_error_set(err, NULL, 0, 0, "out of memory");
		return NULL;
	}
	e = r->easy;
	r->h = h;
	h->started++;
	r->on_data = c->on_data;
	r->on_done = c->on_done;
	r->arg = c->arg;
	for (i = 0; c->headers && c->headers[i]; i++) {
		struct curl_slist *n = curl_slist_append(r->hdrs, c->headers[i]);
		if (!n)
			goto nomem;
		r->hdrs = n;
	}
	if (c->body) {
		struct curl_slist *n = curl_slist_append(r->hdrs, "Content-Type: application/json");
		if (!n || !(r->body_out = strdup(c->body)))
			goto nomem;
		r->hdrs = n;
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body_out);
	}
	/* A call's own route replaces the handle's for that call. */
	if (c->connect_to) {
		if (!(r->connect_to = curl_slist_append(NULL, c->connect_to)))
			goto nomem;
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, r->connect_to);
	} else if (h->connect_to) {
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, h->connect_to);
	}
	if (c->method)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);
	curl_easy_setopt(e, CURLOPT_URL, c->url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	/* Long-polls and streams sit idle for minutes: keepalives find a peer
	 * that vanished without a word within about a minute. */
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 10L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "legate");
	if (c->timeout > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(c->timeout * 1000));
	if (h->opts.unix_socket)
		curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, h->opts.unix_socket);
	if (h->opts.ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, h->opts.ca_file);
	if (h->opts.cert_file)
		curl_easy_setopt(e, CURLOPT_SSLCERT, h->opts.cert_file);
	if (h->opts.key_file)
		curl_easy_setopt(e, CURLOPT_SSLKEY, h->opts.key_file);
	if (h->opts.ca_path)
		curl_easy_setopt(e, CURLOPT_CAPATH, h->opts.ca_path);
	if (h->opts.userpwd) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERPWD, h->opts.userpwd);
	}
	if (h->opts.insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	r->next = h->reqs;
	if (h->reqs)
		h->reqs->prev = r;
	h->reqs = r;
	h->nreqs++;
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
		lg_error_set(err, NULL, 0, 0, "curl_multi_add_handle failed");
		req_free(r);
		return NULL;
	}
	return r;
nomem:
	curl_slist_free_all(r->hdrs);
	curl_slist_free_all(r->connect_to);
	easy_put(h, r->easy);
	free(r->body_out);
	free(r);
	lg_error_set(err, NULL, 0, 0, "out of memory");
	return NULL;
}

void http_cancel(struct http *h, struct http_req *r)
{
	(void)h;
	req_free(r);
}

void http_disown(struct http *h, struct http_req *r)
{
	if (r->disowned)
		return;
	r->disowned = 1;
	r->on_data = NULL;
	r->on_done = NULL;
	r->arg = NULL;
	buf_free(&r->body);
	h->ndisowned++;
}

int http_header(const struct buf *headers, const char *name, char *out, size_t outlen)
{
	const char *p = headers->len ? headers->data : "";
	size_t nl = strlen(name), vl;
	const char *v, *e;

	while (*p) {
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			v = p + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			e = v;
			while (*e && *e != '\r' && *e != '\n')
				e++;
			vl = (size_t)(e - v);
			if (outlen == 0)
				return 0;
			if (vl >= outlen)
				vl = outlen - 1;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return 0;
		}
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	return -1;
}

int http_active(const struct http *h)
{
	return h->nreqs;
}

int http_disowned(const struct http *h)
{
	return h ? h->ndisowned : 0;
}

unsigned long http_started(const struct http *h)
{
	return h ? h->started : 0;
}
