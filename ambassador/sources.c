/* sources: turns each forward's source (fixed list, SRV, KV path, crewjam
 * layout) into a backend list, following changes through the watcher's
 * long-polls and watch streams or the SRV resolver. */
#include "ambassador/sources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ambassador/srv.h"
#include "common/log.h"
#include "watcher/watch.h"

struct amb_source {
	const struct amb_spec *spec;
	const struct amb_forward *f;
	struct loop *loop;
	struct watcher *wr;
	struct watch *tree, *master;
	struct amb_srv *srv;
	struct amb_list cur;
	bool ready;
	amb_source_cb cb;
	void *arg;
};

static const char *strip_slash(const char *k)
{
	while (*k == '/')
		k++;
	return k;
}

/* The full key of a tree item: "path" (the item's "key" is relative to
 * the watched prefix). */
static const char *item_path(const json_t *item)
{
	const char *p = json_string_value(json_object_get(item, "path"));
	return p ? p : json_string_value(json_object_get(item, "key"));
}

/* Adds each address of a value ("a:1" or "a:1,b:2"); default_port 0
 * means the value must carry its port. */
static void add_value(struct amb_list *out, const char *what, const char *v, int default_port)
{
	char one[AMB_HOST_MAX + 32], host[AMB_HOST_MAX + 1];
	struct lg_error err;
	int port;

	while (v && *v) {
		size_t len = strcspn(v, ",");
		if (len >= sizeof one) {
			log_warn("%s: value too long; skipped", what);
		} else {
			memcpy(one, v, len);
			one[len] = '\0';
			if (strspn(one, " \t\r\n") == len)
				;   /* empty item */
			else if (amb_addr_parse(one, default_port, host, &port, &err) < 0)
				log_warn("%s: %s; skipped", what, err.text);
			else if (amb_list_add(out, host, port) < 0)
				log_error("out of memory");
		}
		v += len;
		if (*v == ',')
			v++;
	}
}

void amb_kv_backends(const char *path, const void *tree_, struct amb_list *out)
{
	const json_t *tree = tree_, *item;
	const char *own = NULL;
	size_t plen = strlen(path), i, children = 0;

	json_array_foreach(tree, i, item) {
		const char *k = item_path(item);
		const char *v = json_string_value(json_object_get(item, "value"));
		if (!k || !v)
			continue;
		k = strip_slash(k);
		if (strncmp(k, path, plen) != 0)
			continue;
		if (k[plen] == '\0')
			own = v;
		else if (k[plen] == '/' && k[plen + 1]) {
			children++;
			add_value(out, k, v, 0);
		}
	}
	if (children == 0 && own)
		add_value(out, path, own, 0);
	amb_list_sort(out);
}

void amb_crewjam_backends(const struct amb_forward *f, const void *tree_,
			  const char *master, struct amb_list *out)
{
	const json_t *tree = tree_, *item;
	const char *field = f->public_ip ? "public_ip" : "private_ip";
	char base[1024];
	size_t blen, i, mlen = 0;

	if (f->master_only) {
		if (!master)
			return;   /* no master named: nowhere to send traffic */
		while (*master == ' ' || *master == '\t')
			master++;
		mlen = strcspn(master, " \t\r\n");
		if (mlen == 0)
			return;
	}
	blen = (size_t)snprintf(base, sizeof base, "%s/instances/", f->path);
	json_array_foreach(tree, i, item) {
		const char *k = item_path(item);
		const char *v = json_string_value(json_object_get(item, "value"));
		const char *id, *slash;
		if (!k || !v)
			continue;
		k = strip_slash(k);
		if (strncmp(k, base, blen) != 0)
			continue;
		id = k + blen;
		slash = strchr(id, '/');
		if (!slash || slash == id || strcmp(slash + 1, field) != 0)
			continue;
		if (f->master_only && ((size_t)(slash - id) != mlen || strncmp(id, master, mlen) != 0))
			continue;
		add_value(out, k, v, f->port);
	}
	amb_list_sort(out);
}

static void update(struct amb_source *s, struct amb_list *next)
{
	char a[512], b[512];
	bool first = !s->ready;

	s->ready = true;
	if (!first && amb_list_equal(&s->cur, next)) {
		amb_list_free(next);
		return;
	}
	log_info("%s: backends %s -> %s", s->f->arg, amb_list_str(&s->cur, a, sizeof a),
		 amb_list_str(next, b, sizeof b));
	amb_list_move(&s->cur, next);
	s->cb(s, s->arg);
}

static void on_watch(struct watch *w, void *arg)
{
	struct amb_source *s = arg;
	const json_t *tree = watch_data(s->tree);
	struct amb_list next = { 0 };

	(void)w;
	if (!tree || (s->master && !watch_data(s->master)))
		return;   /* wait until every watch had its first answer */
	if (s->f->kind == AMB_KV)
		amb_kv_backends(s->f->path, tree, &next);
	else
		amb_crewjam_backends(s->f, tree, s->master ? json_string_value(watch_data(s->master)) : NULL,
				     &next);
	update(s, &next);
}

static void on_srv(void *arg, const struct amb_list *l)
{
	struct amb_source *s = arg;
	struct amb_list next = { 0 };

	for (size_t i = 0; i < l->n; i++) {
		char host[AMB_HOST_MAX + 1];
		struct lg_error err;
		int port;
		if (amb_addr_parse(l->v[i], 0, host, &port, &err) == 0 &&
		    amb_list_add(&next, host, port) < 0)
			log_error("out of memory");
	}
	amb_list_sort(&next);
	update(s, &next);
}

static int start_watches(struct amb_source *s, struct lg_error *err)
{
	const struct amb_forward *f = s->f;
	struct watcher_opts o = { 0 };
	char name[1200];

	/* One or two watches per forward: calls may follow each other closely
	 * (the watcher still spaces a watch whose index does not move). */
	o.min_interval = 0.05;
	if (f->store == AMB_ETCD) {
		o.etcd_addr = f->store_addr;
		o.etcd_v2 = s->spec->etcd_v2;
	} else {
		o.consul_addr = f->store_addr;
		o.consul_token = getenv("CONSUL_HTTP_TOKEN");   /* ACLs, as consul's own tools read it */
	}
	if (!(s->wr = watcher_new(s->loop, &o, err)))
		return -1;
	if (f->kind == AMB_KV)
		snprintf(name, sizeof name, "tree.%s", f->path);
	else
		snprintf(name, sizeof name, "tree.%s/instances/", f->path);
	if (!(s->tree = watcher_add(s->wr, name, on_watch, s, err)))
		return -1;
	if (f->kind == AMB_CREWJAM && f->master_only) {
		snprintf(name, sizeof name, "key.%s/master", f->path);
		if (!(s->master = watcher_add(s->wr, name, on_watch, s, err)))
			return -1;
	}
	return 0;
}

struct amb_source *amb_source_new(struct loop *l, const struct amb_spec *spec,
				  const struct amb_forward *f, amb_source_cb cb, void *arg,
				  struct lg_error *err)
{
	struct amb_source *s = calloc(1, sizeof *s);

	if (!s) {
		lg_error_set(err, NULL, 0, 0, "out of memory");
		return NULL;
	}
	s->spec = spec;
	s->f = f;
	s->loop = l;
	s->cb = cb;
	s->arg = arg;
	switch (f->kind) {
	case AMB_STATIC:
		for (size_t i = 0; i < f->hosts.n; i++) {
			char host[AMB_HOST_MAX + 1];
			int port;
			if (amb_addr_parse(f->hosts.v[i], 0, host, &port, err) < 0 ||
			    amb_list_add(&s->cur, host, port) < 0)
				goto err;
		}
		amb_list_sort(&s->cur);
		s->ready = true;
		break;
	case AMB_SRV:
		s->srv = amb_srv_new(l, f->srv_name, spec->dns_server, spec->srv_min_interval,
				     on_srv, s, err);
		if (!s->srv)
			goto err;
		break;
	case AMB_KV:
	case AMB_CREWJAM:
		if (start_watches(s, err) < 0)
			goto err;
		break;
	}
	return s;
err:
	amb_source_free(s);
	return NULL;
}

void amb_source_free(struct amb_source *s)
{
	if (!s)
		return;
	amb_srv_free(s->srv);
	watcher_free(s->wr);
	amb_list_free(&s->cur);
	free(s);
}

const struct amb_list *amb_source_list(const struct amb_source *s)
{
	return &s->cur;
}

bool amb_source_ready(const struct amb_source *s)
{
	return s->ready;
}
