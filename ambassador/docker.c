/* docker: a small client of the Docker engine's HTTP API over its unix
 * socket: the container list, one inspection per container that starts,
 * and the events stream (resumed with "since" after a drop, so that no
 * start or stop is missed; replayed events are harmless). */
#include "ambassador/docker.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ambassador/backend.h"
#include "common/log.h"
#include "watcher/http.h"

#define RETRY_AFTER 1.0

/* The events that change what a container asks for: {"type":
 * ["container"], "event": ["start", "die", "destroy"]} ("kill" is not one:
 * a signal may leave it running; "stop" always follows a "die"). */
#define EVENTS_FILTER "%7B%22type%22%3A%5B%22container%22%5D%2C%22event%22%3A%5B%22start%22%2C" \
	"%22die%22%2C%22destroy%22%5D%7D"

struct amb_docker {
	struct loop *loop;
	struct http *http;
	json_t *containers;            /* id -> {ips, backends} */
	struct http_req *list, *events;
	struct inspect *inspections;   /* in flight */
	size_t inspecting;             /* inspections of the first listing in flight */
	bool listed, ready;
	char since[32];                /* the last event's time, "sec.nsec" */
	struct loop_timer retry;       /* the events stream again, or the listing */
	json_t *to_inspect;            /* ids of started containers, inspected from kick */
	struct loop_timer kick;        /* curl takes no new request inside a callback */
	amb_docker_cb cb;
	void *arg;
};

struct inspect;

static void start_events(struct amb_docker *d);
static void start_list(struct amb_docker *d);

static bool good_id(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	return n >= 12 && n <= 64 && strspn(id, "0123456789abcdef") == n;
}

void *amb_docker_parse(const void *inspect_)
{
	const json_t *in = inspect_, *env, *nets, *net, *v;
	json_t *out, *ips, *bes;
	const char *name;
	size_t i;

	if (!json_is_true(json_object_get(json_object_get(in, "State"), "Running")))
		return NULL;
	out = json_object();
	ips = json_array();
	bes = json_object();
	if (!out || !ips || !bes) {
		json_decref(out);
		json_decref(ips);
		json_decref(bes);
		return NULL;
	}
	json_object_set_new(out, "ips", ips);
	json_object_set_new(out, "backends", bes);
	nets = json_object_get(json_object_get(in, "NetworkSettings"), "Networks");
	json_object_foreach((json_t *)nets, name, net) {
		const char *ip = json_string_value(json_object_get(net, "IPAddress"));
		struct in_addr a;
		if (ip && inet_pton(AF_INET, ip, &a) == 1)
			json_array_append_new(ips, json_string(ip));
	}
	env = json_object_get(json_object_get(in, "Config"), "Env");
	json_array_foreach(env, i, v) {
		const char *e = json_string_value(v), *eq;
		char port[8];
		size_t plen;
		if (!e || strncmp(e, "BACKEND_", 8) != 0 || !(eq = strchr(e, '=')))
			continue;
		plen = (size_t)(eq - e - 8);
		if (plen == 0 || plen >= sizeof port)
			continue;
		memcpy(port, e + 8, plen);
		port[plen] = '\0';
		if (amb_port_parse(port) < 0 || !eq[1])
			continue;
		json_object_set_new(bes, port, json_string(eq + 1));
	}
	if (json_array_size(ips) == 0 || json_object_size(bes) == 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

static void changed(struct amb_docker *d)
{
	if (d->ready)
		d->cb(d->arg);
}

/* Sets (or, when not running or asking nothing, removes) one container. */
static void set_container(struct amb_docker *d, const char *id, json_t *parsed)
{
	json_t *old = json_object_get(d->containers, id);

	if (parsed && old && json_equal(parsed, old)) {
		json_decref(parsed);
		return;
	}
	if (!parsed && !old)
		return;
	if (parsed) {
		char *text = json_dumps(parsed, JSON_COMPACT);
		log_info("docker: container %.12s: %s", id, text ? text : "");
		free(text);
		json_object_set_new(d->containers, id, parsed);
	} else {
		log_info("docker: container %.12s gone", id);
		json_object_del(d->containers, id);
	}
	changed(d);
}

struct inspect {
	struct amb_docker *d;
	struct inspect *next, **pprev;  /* in d->inspections, freed with it */
	char id[65];
	bool first;                    /* part of the first listing */
	bool stale;                    /* the container died meanwhile: its answer is old */
};

static void first_done(struct amb_docker *d)
{
	if (d->listed && d->inspecting == 0 && !d->ready) {
		d->ready = true;
		log_info("docker: %zu containers with BACKEND_<PORT> variables", json_object_size(d->containers));
		d->cb(d->arg);
	}
}

static void on_inspect(struct http_req *r, const struct http_result *res, void *arg)
{
	struct inspect *in = arg;
	struct amb_docker *d = in->d;
	json_t *j = NULL;

	(void)r;
	if (res->ok && res->status == 200)
		j = json_loadb(res->body->data ? res->body->data : "", res->body->len, 0, NULL);
	if (in->stale || (res->ok && res->status == 404)) {
		set_container(d, in->id, NULL);
	} else if (!j) {
		log_warn("docker: cannot inspect container %.12s: %s", in->id,
			 res->ok ? "bad answer" : res->error);
	} else {
		set_container(d, in->id, amb_docker_parse(j));
	}
	json_decref(j);
	*in->pprev = in->next;
	if (in->next)
		in->next->pprev = in->pprev;
	if (in->first) {
		d->inspecting--;
		free(in);
		first_done(d);
		return;
	}
	free(in);
}

static void inspect(struct amb_docker *d, const char *id, bool first)
{
	struct inspect *in = calloc(1, sizeof *in);
	char url[160];
	struct lg_error err;
	struct http_call c = { 0 };

	if (!in) {
		log_error("out of memory");
		return;
	}
	in->d = d;
	in->first = first;
	snprintf(in->id, sizeof in->id, "%s", id);
	snprintf(url, sizeof url, "http://docker/containers/%s/json", id);
	c.url = url;
	c.timeout = 10;
	c.on_done = on_inspect;
	c.arg = in;
	if (!http_start(d->http, &c, &err)) {
		log_error("docker: %s", err.text);
		free(in);
		return;
	}
	in->next = d->inspections;
	in->pprev = &d->inspections;
	if (in->next)
		in->next->pprev = &in->next;
	d->inspections = in;
	if (first)
		d->inspecting++;
}

static void on_list(struct http_req *r, const struct http_result *res, void *arg)
{
	struct amb_docker *d = arg;
	json_t *j = NULL, *c;
	size_t i;

	(void)r;
	d->list = NULL;
	if (res->ok && res->status == 200)
		j = json_loadb(res->body->data ? res->body->data : "", res->body->len, 0, NULL);
	if (!json_is_array(j)) {
		log_error("docker: cannot list containers: %s%s", res->ok ? "HTTP " : res->error,
			  res->ok ? (res->status == 200 ? "bad answer" : "error") : "");
		json_decref(j);
		loop_add_timer(d->loop, &d->retry, RETRY_AFTER);
		return;
	}
	json_array_foreach(j, i, c) {
		const char *id = json_string_value(json_object_get(c, "Id"));
		if (good_id(id))
			inspect(d, id, true);
	}
	json_decref(j);
	d->listed = true;
	first_done(d);
}

static void start_list(struct amb_docker *d)
{
	struct http_call c = { 0 };
	struct lg_error err;

	c.url = "http://docker/containers/json";
	c.timeout = 10;
	c.on_done = on_list;
	c.arg = d;
	if (!(d->list = http_start(d->http, &c, &err))) {
		log_error("docker: %s", err.text);
		loop_add_timer(d->loop, &d->retry, RETRY_AFTER);
	}
}

/* One event: a start is inspected, anything else removes the container
 * (an inspection would say it is not running, one request later). */
static void on_event(struct amb_docker *d, json_t *ev)
{
	const char *status = json_string_value(json_object_get(ev, "status"));
	const char *id = json_string_value(json_object_get(ev, "id"));
	json_int_t tn = json_integer_value(json_object_get(ev, "timeNano"));

	if (tn > 0)
		snprintf(d->since, sizeof d->since, "%lld.%09lld", (long long)(tn / 1000000000),
			 (long long)(tn % 1000000000));
	if (!status || !good_id(id))
		return;
	log_debug("docker: event %s %.12s", status, id);
	if (strcmp(status, "start") == 0) {
		json_array_append_new(d->to_inspect, json_string(id));
		loop_add_timer(d->loop, &d->kick, 0);
	} else {
		/* An inspection under way may answer "running" from before. */
		for (struct inspect *in = d->inspections; in; in = in->next)
			if (strcmp(in->id, id) == 0)
				in->stale = true;
		set_container(d, id, NULL);
	}
}

static int on_events_data(struct http_req *r, struct buf *body, void *arg)
{
	struct amb_docker *d = arg;
	size_t used = 0;

	(void)r;
	while (used < body->len) {
		const char *nl = memchr(body->data + used, '\n', body->len - used);
		size_t n;
		json_t *ev;
		if (!nl)
			break;
		n = (size_t)(nl - (body->data + used));
		if (n > 0 && (ev = json_loadb(body->data + used, n, 0, NULL))) {
			on_event(d, ev);
			json_decref(ev);
		}
		used += n + 1;
	}
	if (used > 0) {
		memmove(body->data, body->data + used, body->len - used);
		body->len -= used;
		if (body->data)
			body->data[body->len] = '\0';
	}
	return 0;
}

static void on_events_done(struct http_req *r, const struct http_result *res, void *arg)
{
	struct amb_docker *d = arg;

	(void)r;
	d->events = NULL;
	log_warn("docker: the events stream ended (%s); resuming from %s in %.0f s",
		 res->ok ? "closed by the engine" : res->error, d->since, RETRY_AFTER);
	loop_add_timer(d->loop, &d->retry, RETRY_AFTER);
}

static void start_events(struct amb_docker *d)
{
	struct http_call c = { 0 };
	struct lg_error err;
	char url[512];

	snprintf(url, sizeof url, "http://docker/events?since=%s&filters=%s", d->since, EVENTS_FILTER);
	c.url = url;
	c.on_data = on_events_data;
	c.on_done = on_events_done;
	c.arg = d;
	if (!(d->events = http_start(d->http, &c, &err))) {
		log_error("docker: %s", err.text);
		loop_add_timer(d->loop, &d->retry, RETRY_AFTER);
	}
}

static void on_kick(struct loop *l, void *arg)
{
	struct amb_docker *d = arg;
	json_t *v;
	size_t i;

	(void)l;
	json_array_foreach(d->to_inspect, i, v)
		inspect(d, json_string_value(v), false);
	json_array_clear(d->to_inspect);
}

static void on_retry(struct loop *l, void *arg)
{
	struct amb_docker *d = arg;

	(void)l;
	if (!d->listed && !d->list)
		start_list(d);
	if (!d->events)
		start_events(d);
}

struct amb_docker *amb_docker_new(struct loop *l, const char *socket_path, amb_docker_cb cb,
				  void *arg, struct lg_error *err)
{
	struct amb_docker *d = calloc(1, sizeof *d);
	struct http_opts o = { 0 };
	struct timespec now;

	if (!d || !(d->containers = json_object()) || !(d->to_inspect = json_array())) {
		if (d)
			json_decref(d->containers);
		free(d);
		lg_error_set(err, NULL, 0, 0, "out of memory");
		return NULL;
	}
	d->loop = l;
	d->cb = cb;
	d->arg = arg;
	loop_timer_init(&d->retry, on_retry, d);
	loop_timer_init(&d->kick, on_kick, d);
	o.unix_socket = socket_path;
	o.max_conns = 8;
	if (!(d->http = http_new(l, &o, err))) {
		amb_docker_free(d);
		return NULL;
	}
	/* Events from just before the listing on: a container that starts
	 * while it is read is seen twice, never missed. */
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(d->since, sizeof d->since, "%lld.%09ld", (long long)now.tv_sec - 1, now.tv_nsec);
	start_events(d);
	start_list(d);
	return d;
}

void amb_docker_free(struct amb_docker *d)
{
	if (!d)
		return;
	loop_del_timer(d->loop, &d->retry);
	loop_del_timer(d->loop, &d->kick);
	json_decref(d->to_inspect);
	http_free(d->http);         /* no callbacks: the inspections are freed here */
	while (d->inspections) {
		struct inspect *in = d->inspections;
		d->inspections = in->next;
		free(in);
	}
	json_decref(d->containers);
	free(d);
}

bool amb_docker_ready(const struct amb_docker *d)
{
	return d->ready;
}

const void *amb_docker_containers(const struct amb_docker *d)
{
	return d->containers;
}
