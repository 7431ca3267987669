/* omni: turns the containers' BACKEND_<PORT> variables into routes
 * (container address and port -> backend) kept in an HAProxy map, the file
 * and, through the runtime API, the running copy; follows each distinct
 * backend with the standard mode's sources; and renders a frontend that
 * looks up the connection's source address and original destination port
 * (the REDIRECT keeps it: HAProxy's dst_port reads SO_ORIGINAL_DST).
 * Every value from the engine is checked before it is written: addresses
 * are IPv4 literals, ports numbers, backend values only named in
 * comments with their control characters replaced. */
#include "ambassador/omni.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ambassador/docker.h"
#include "ambassador/sources.h"
#include "common/log.h"
#include "haproxy/cli.h"
#include "renderer/install.h"

#define MAP_TIMEOUT 5.0
#define MAP_RETRY 1.0

/* One distinct BACKEND value, with its source; shared by every container
 * that names it. */
struct ob {
	struct ob *next;
	int id;                        /* its backend is "b<id>", stable for its life */
	bool used, bad;
	struct amb_forward f;
	struct amb_source *src;
	struct amb_omni *o;
};

struct amb_omni {
	struct loop *loop;
	const struct amb_spec *spec;
	struct amb_docker *docker;
	struct ob *obs;
	int next_id;
	amb_omni_cb cb;
	void *arg;
	char map_path[4200], master[4200];
	json_t *written;               /* the routes in the map file: "IP:PORT" -> "bN" */
	json_t *sent;                  /* the routes HAProxy has, NULL: unknown */
	json_t *target;                /* the routes being pushed */
	struct hap_cli *req;           /* map commands in flight */
	struct loop_timer map_timer;   /* the next push: after a failure, or one in flight */
	bool running;                  /* HAProxy runs and takes runtime commands */
};

static void on_map_timer(struct loop *l, void *arg);

static void ob_free(struct ob *b)
{
	amb_source_free(b->src);
	amb_forward_free(&b->f);
	free(b);
}

static void on_source(struct amb_source *s, void *arg)
{
	struct ob *b = arg;
	(void)s;
	b->o->cb(b->o->arg);
}

static struct ob *ob_get(struct amb_omni *o, const char *value)
{
	struct ob *b;
	struct lg_error err;

	for (b = o->obs; b; b = b->next)
		if (strcmp(b->f.arg, value) == 0)
			return b;
	if (!(b = calloc(1, sizeof *b)) || !(b->f.arg = strdup(value))) {
		free(b);
		log_error("out of memory");
		return NULL;
	}
	b->o = o;
	b->id = ++o->next_id;
	amb_creds_init(&b->f.creds);
	if (amb_forward_parse(&b->f, value, &err) < 0 ||
	    !(b->src = amb_source_new(o->loop, o->spec, &b->f, on_source, b, &err))) {
		log_warn("omni: BACKEND %s: %s; connections for it are refused", value, err.text);
		b->bad = true;
	}
	b->next = o->obs;
	o->obs = b;
	return b;
}

/* Marks every backend a container names, makes the new ones, and frees
 * those no container names any more. */
static void sync_backends(struct amb_omni *o)
{
	const json_t *all = amb_docker_containers(o->docker), *c, *v;
	const char *id, *port;
	struct ob **pb;

	for (struct ob *b = o->obs; b; b = b->next)
		b->used = false;
	json_object_foreach((json_t *)all, id, c)
		json_object_foreach(json_object_get(c, "backends"), port, v) {
			struct ob *b = ob_get(o, json_string_value(v));
			if (b)
				b->used = true;
		}
	for (pb = &o->obs; *pb;) {
		struct ob *b = *pb;
		if (b->used) {
			pb = &b->next;
			continue;
		}
		*pb = b->next;
		log_debug("omni: BACKEND %s: no container names it", b->f.arg);
		ob_free(b);
	}
}

static void on_docker(void *arg)
{
	struct amb_omni *o = arg;
	sync_backends(o);
	o->cb(o->arg);
}

struct amb_omni *amb_omni_new(struct loop *l, const struct amb_spec *spec, amb_omni_cb cb,
			      void *arg, struct lg_error *err)
{
	struct amb_omni *o = calloc(1, sizeof *o);

	if (!o) {
		lg_error_set(err, NULL, 0, 0, "out of memory");
		return NULL;
	}
	o->loop = l;
	o->spec = spec;
	o->cb = cb;
	o->arg = arg;
	amb_omni_map_path(spec, o->map_path, sizeof o->map_path);
	snprintf(o->master, sizeof o->master, "%s/master.sock", spec->run_dir);
	loop_timer_init(&o->map_timer, on_map_timer, o);
	if (!(o->written = json_object()) ||
	    !(o->docker = amb_docker_new(l, spec->docker + 7, on_docker, o, err))) {
		if (!o->written)
			lg_error_set(err, NULL, 0, 0, "out of memory");
		json_decref(o->written);
		free(o);
		return NULL;
	}
	return o;
}

void amb_omni_free(struct amb_omni *o)
{
	if (!o)
		return;
	amb_docker_free(o->docker);
	hap_cli_cancel(o->req);
	loop_del_timer(o->loop, &o->map_timer);
	json_decref(o->written);
	json_decref(o->sent);
	json_decref(o->target);
	while (o->obs) {
		struct ob *b = o->obs;
		o->obs = b->next;
		ob_free(b);
	}
	free(o);
}

bool amb_omni_ready(const struct amb_omni *o)
{
	return amb_docker_ready(o->docker);
}

static struct ob *ob_find(struct amb_omni *o, const char *value)
{
	for (struct ob *b = o->obs; b; b = b->next)
		if (strcmp(b->f.arg, value) == 0)
			return b;
	return NULL;
}

/* "host:port" as HAProxy reads it (config.c does the same for forwards). */
static void haproxy_addr(const char *hostport, char *dst, size_t n)
{
	const char *rb;

	if (hostport[0] == '[' && (rb = strchr(hostport, ']')))
		snprintf(dst, n, "ipv6@%.*s%s", (int)(rb - hostport - 1), hostport + 1, rb + 1);
	else
		snprintf(dst, n, "%s", hostport);
}

/* The routes known now: "IP:PORT" -> "bN", for every container's
 * BACKEND whose value parsed. */
static json_t *route_map(struct amb_omni *o)
{
	const json_t *all = amb_docker_containers(o->docker), *c, *v, *ip;
	const char *id, *port;
	json_t *m = json_object();
	size_t i;

	json_object_foreach((json_t *)all, id, c)
		json_object_foreach(json_object_get(c, "backends"), port, v) {
			struct ob *b = ob_find(o, json_string_value(v));
			char key[64], be[16];
			if (!b || b->bad)
				continue;
			snprintf(be, sizeof be, "b%d", b->id);
			json_array_foreach(json_object_get(c, "ips"), i, ip) {
				snprintf(key, sizeof key, "%s:%d", json_string_value(ip), amb_port_parse(port));
				json_object_set_new(m, key, json_string(be));
			}
		}
	return m;
}

void amb_omni_map_path(const struct amb_spec *spec, char *dst, size_t n)
{
	snprintf(dst, n, "%s/omni.map", spec->run_dir);
}

static int write_map(const char *path, const json_t *m, struct lg_error *err)
{
	struct install_opts io = { path, 0644, (uid_t)-1, (gid_t)-1, false, true };
	struct install_staged st;
	struct buf text = BUF_INIT;
	const char *k;
	json_t *v;
	int rc = -1;

	buf_puts(&text, "# omni mode's routes, written by legate ambassador: IP:PORT backend\n");
	json_object_foreach((json_t *)m, k, v)
		buf_printf(&text, "%s %s\n", k, json_string_value(v));
	if (install_stage(&io, text.data, text.len, &st, err) == 0 && install_commit(&io, &st, err) == 0)
		rc = 0;
	buf_free(&text);
	return rc;
}

int amb_omni_map_init(const struct amb_spec *spec, struct lg_error *err)
{
	char path[4200];
	json_t *m = json_object();
	int rc;

	amb_omni_map_path(spec, path, sizeof path);
	rc = m ? write_map(path, m, err) : lg_error_set(err, NULL, 0, 0, "out of memory");
	json_decref(m);
	return rc;
}

static void push(struct amb_omni *o);

/* An answer with anything but white space is HAProxy saying no. */
static bool cli_failed(int ok, const char *text)
{
	return !ok || text[strspn(text, " \r\n")] != '\0';
}

static void map_retry(struct amb_omni *o, const char *what, const char *text)
{
	log_warn("omni: %s: %.*s; again in %.0f s", what, (int)strcspn(text, "\n"), text, MAP_RETRY);
	json_decref(o->target);
	o->target = NULL;
	loop_add_timer(o->loop, &o->map_timer, MAP_RETRY);
}

static void on_committed(int ok, const char *text, size_t len, void *arg)
{
	struct amb_omni *o = arg;

	(void)len;
	o->req = NULL;
	if (cli_failed(ok, text)) {
		map_retry(o, "the routes' map", text);
		return;
	}
	log_info("omni: %zu routes in HAProxy's map (runtime API, no reload)", json_object_size(o->target));
	json_decref(o->sent);
	o->sent = o->target;
	o->target = NULL;
	push(o);
}

/* The whole map is replaced at once: a new version filled, then committed
 * (prepare/commit map), so no connection sees it half made and HAProxy
 * ends with exactly the routes of the file, whatever it had before. */
static void on_prepared(int ok, const char *text, size_t len, void *arg)
{
	struct amb_omni *o = arg;
	const char *ver = ok ? strstr(text, "New version created:") : NULL;
	struct buf cmd = BUF_INIT;
	const char *k;
	json_t *v;
	int n;

	(void)len;
	o->req = NULL;
	if (!ver || sscanf(ver, "New version created: %d", &n) != 1) {
		map_retry(o, "prepare map", ok ? text : "no answer");
		return;
	}
	json_object_foreach(o->target, k, v)
		buf_printf(&cmd, "@1 add map @%d %s %s %s; ", n, o->map_path, k, json_string_value(v));
	buf_printf(&cmd, "@1 commit map @%d %s", n, o->map_path);
	if (!(o->req = hap_cli_send(o->loop, o->master, buf_cstr(&cmd), MAP_TIMEOUT, on_committed, o)))
		map_retry(o, "commit map", "cannot reach the master socket");
	buf_free(&cmd);
}

/* Brings HAProxy's map to the file's routes, one exchange at a time. */
static void push(struct amb_omni *o)
{
	char cmd[4300];

	if (o->req || !o->running || (o->sent && json_equal(o->sent, o->written)))
		return;
	o->target = json_incref(o->written);
	snprintf(cmd, sizeof cmd, "@1 prepare map %s", o->map_path);
	if (!(o->req = hap_cli_send(o->loop, o->master, cmd, MAP_TIMEOUT, on_prepared, o)))
		map_retry(o, "prepare map", "cannot reach the master socket");
}

static void on_map_timer(struct loop *l, void *arg)
{
	(void)l;
	push(arg);
}

void amb_omni_sync(struct amb_omni *o, bool running)
{
	json_t *m = route_map(o);
	struct lg_error err;

	if (!m) {
		log_error("out of memory");
		return;
	}
	if (!json_equal(m, o->written)) {
		if (write_map(o->map_path, m, &err) < 0) {
			log_error("omni: %s", err.text);
			json_decref(m);
			return;
		}
		json_decref(o->written);
		o->written = m;
	} else {
		json_decref(m);
	}
	if (!running) {
		/* HAProxy starts (or restarts) on the file as it is now. */
		json_decref(o->sent);
		o->sent = json_incref(o->written);
	}
	o->running = running;
	push(o);
}

int amb_omni_render(const struct amb_spec *spec, struct amb_omni *o, struct amb_config *cfg,
		    struct buf *out, struct lg_error *err)
{
	const struct amb_forward *lf = &spec->fwd[0];
	const struct amb_creds_cfg *cc = amb_config_creds(cfg, 0);
	const struct amb_list **none = calloc(1, sizeof *none);
	char map[4200];
	int rc;

	if (!none)
		return lg_error_set(err, NULL, 0, 0, "out of memory");
	/* The global and defaults sections: the template with no forward. */
	rc = amb_config_render(cfg, none, out, err);
	free(none);
	if (rc < 0)
		return -1;
	amb_omni_map_path(spec, map, sizeof map);
	buf_puts(out, "\n# omni mode: the backend is the connecting container's BACKEND_<PORT>\n"
		      "frontend omni\n");
	if (lf->bind_addr[0])
		buf_printf(out, "    bind %s%s:%d\n", amb_host_is_v6(lf->bind_addr) ? "ipv6@" : "",
			   lf->bind_addr, lf->bind_port);
	else
		buf_printf(out, "    bind :%d\n", lf->bind_port);
	/* The route of a connection: its source address and the port it asked
	 * for, looked up in the map the runtime API keeps current. */
	buf_printf(out, "    tcp-request connection set-var(sess.dport) dst_port\n"
			"    tcp-request connection set-var(sess.be) src,concat(:,sess.dport),map(%s)\n"
			"    tcp-request connection reject unless { var(sess.be) -m found }\n"
			"    use_backend %%[var(sess.be)]\n"
			"    default_backend none\n"
			"\n# a route whose backend is not loaded yet (a reload under way): closed at once\n"
			"backend none\n", map);
	for (const struct ob *b = o ? o->obs : NULL; b; b = b->next) {
		const struct amb_list *l;
		char addr[AMB_HOST_MAX + 24];

		if (b->bad)
			continue;
		buf_printf(out, "\n# BACKEND ");
		for (const char *p = b->f.arg; *p; p++)
			buf_putc(out, (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p);
		buf_printf(out, "\nbackend b%d\n", b->id);
		for (char **ln = cc->lines; ln && *ln; ln++)
			buf_printf(out, "    %s\n", *ln);
		l = amb_source_list(b->src);
		for (size_t k = 0; l && k < l->n; k++) {
			haproxy_addr(l->v[k], addr, sizeof addr);
			buf_printf(out, "    server s%zu %s%s\n", k + 1, addr, cc->server_opts ? cc->server_opts : "");
		}
	}
	return 0;
}
