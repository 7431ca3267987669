/* omni: turns the containers' BACKEND_<PORT> variables into routes
 * (container address and port -> backend), follows each distinct backend
 * with the standard mode's sources, and renders a frontend that picks the
 * backend from the connection's source address and original destination
 * port (the REDIRECT keeps it: HAProxy's dst_port reads SO_ORIGINAL_DST).
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
};

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
	if (!(o->docker = amb_docker_new(l, spec->docker + 7, on_docker, o, err))) {
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

/* The routes of backend b (or, b NULL, of every backend) as
 * " IP:PORT IP:PORT"; returns how many. */
static size_t routes(struct amb_omni *o, const struct ob *b, struct buf *out)
{
	const json_t *all = amb_docker_containers(o->docker), *c, *v, *ip;
	const char *id, *port;
	size_t n = 0, i;

	json_object_foreach((json_t *)all, id, c)
		json_object_foreach(json_object_get(c, "backends"), port, v) {
			struct ob *vb = ob_find(o, json_string_value(v));
			if (!vb || vb->bad || (b && vb != b))
				continue;
			json_array_foreach(json_object_get(c, "ips"), i, ip) {
				buf_printf(out, " %s:%d", json_string_value(ip), amb_port_parse(port));
				n++;
			}
		}
	return n;
}

int amb_omni_render(const struct amb_spec *spec, struct amb_omni *o, struct amb_config *cfg,
		    struct buf *out, struct lg_error *err)
{
	const struct amb_forward *lf = &spec->fwd[0];
	const struct amb_creds_cfg *cc = amb_config_creds(cfg, 0);
	const struct amb_list **none = calloc(1, sizeof *none);
	struct buf all = BUF_INIT, one = BUF_INIT;
	int rc;

	if (!none)
		return lg_error_set(err, NULL, 0, 0, "out of memory");
	/* The global and defaults sections: the template with no forward. */
	rc = amb_config_render(cfg, none, out, err);
	free(none);
	if (rc < 0)
		return -1;
	buf_puts(out, "\n# omni mode: the backend is the connecting container's BACKEND_<PORT>\n"
		      "frontend omni\n");
	if (lf->bind_addr[0])
		buf_printf(out, "    bind %s%s:%d\n", amb_host_is_v6(lf->bind_addr) ? "ipv6@" : "",
			   lf->bind_addr, lf->bind_port);
	else
		buf_printf(out, "    bind :%d\n", lf->bind_port);
	buf_puts(out, "    tcp-request connection set-var(sess.dport) dst_port\n"
		      "    tcp-request connection set-var(sess.route) src,concat(:,sess.dport)\n");
	if (o && routes(o, NULL, &all) > 0) {
		buf_printf(out, "    acl known var(sess.route) -m str%s\n", buf_cstr(&all));
		/* A container with no BACKEND for the port: closed at once. */
		buf_puts(out, "    tcp-request connection reject unless known\n");
	} else {
		buf_puts(out, "    tcp-request connection reject\n");
	}
	for (const struct ob *b = o ? o->obs : NULL; b; b = b->next) {
		buf_reset(&one);
		if (b->bad || routes(o, b, &one) == 0)
			continue;
		buf_printf(out, "    use_backend b%d if { var(sess.route) -m str%s }\n", b->id, buf_cstr(&one));
	}
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
	buf_free(&all);
	buf_free(&one);
	return 0;
}
