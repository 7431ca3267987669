/* test_watch: which watch names the watcher accepts, what they mean,
 * and where the connection budget puts each watch. */
#include "tests/unit/check.h"

#include "watcher/watch_int.h"

static struct watch *add(struct watcher *wr, const char *name)
{
	struct lg_error err = { .text = "" };
	struct watch *w = watcher_add(wr, name, NULL, NULL, &err);

	if (!w && !err.text[0])
		fail("%s: refused without a reason", name);
	return w;
}

int main(void)
{
	struct loop *l = loop_new(0);
	struct watcher_opts o;
	struct watcher *wr;
	struct watch *w;
	struct lg_error err;
	int i, triggered = 0;

	memset(&o, 0, sizeof o);
	o.consul_addr = "127.0.0.1:1";
	o.max_conns = 8;
	wr = watcher_new(l, &o, &err);
	check(wr != NULL);

	w = add(wr, "service.web~any~tag=primary@dc2");
	check(w && w->n.kind == WK_SERVICE);
	check_str(w->n.arg, "web");
	check_str(w->n.tag, "primary");
	check_str(w->n.dc, "dc2");
	check(w && w->n.any == 1);
	check(add(wr, "service.web~any~tag=primary@dc2") == w);   /* same name, same watch */
	w = add(wr, "service.web");
	check(w && w->n.any == 0 && !w->n.tag && !w->n.dc);
	check(add(wr, "services") && add(wr, "nodes"));
	w = add(wr, "services~tag=haproxy@dc2");
	check(w && w->n.kind == WK_SERVICES);
	check_str(w->n.tag, "haproxy");
	check_str(w->n.dc, "dc2");
	check(w && !w->n.arg);
	check(add(wr, "services~any") == NULL);      /* health filters are for instances */
	check(add(wr, "services~tag=") == NULL);
	check(add(wr, "servicesx") == NULL);
	w = add(wr, "node.n1");
	check(w && w->n.kind == WK_NODE);
	w = add(wr, "key.config/maxconn");
	check(w && w->n.kind == WK_KEY && w->backend == WB_CONSUL && w->tclass == TC_KV);
	w = add(wr, "tree.");
	check(w && w->n.kind == WK_TREE);

	check(add(wr, "service.") == NULL);
	check(add(wr, "service.web~bogus") == NULL);
	check(add(wr, "service.web@") == NULL);
	check(add(wr, "key.") == NULL);
	check(add(wr, "node.") == NULL);
	check(add(wr, "env.HOME") == NULL);
	check(add(wr, "service.a\nb") == NULL);

	/* max_conns 8: 3 triggers, 1 read slot, 4 long-polls, three of them
	 * kept for the sweep's node polls once `services` (the third added)
	 * is there; the rest wait for the triggers. */
	check_int(wr->dedicated, 3);
	check_int(wr->node_reserve, 3);
	for (i = 0; i < 10; i++) {
		char name[32];

		snprintf(name, sizeof name, "service.s%d", i);
		w = add(wr, name);
		check(w != NULL);
		triggered += w && w->triggered;
	}
	check_int(wr->dedicated, 3);
	check_int(triggered, 10);
	check(wr->triggers[0] && wr->triggers[1] && wr->triggers[2]);
	/* The services long-poll serves as the catalog trigger ... */
	w = add(wr, "services");
	check(w && wr->triggers[0] == w && w->fires && !w->triggered);
	/* ... until it goes: then the watcher makes one of its own; and
	 * removing a long-poll frees its place (the node polls' too: no
	 * `services` is left). */
	watcher_remove(wr, w);
	check(wr->triggers[0] && wr->triggers[0]->n.kind == WK_TRIGGER && wr->triggers[0]->fires);
	check_int(wr->dedicated, 2);
	check_int(wr->node_reserve, 0);
	w = add(wr, "service.late");
	check(w && !w->triggered);
	watcher_free(wr);

	/* etcd takes key. and tree.; Consul names need a Consul address. */
	memset(&o, 0, sizeof o);
	o.etcd_addr = "127.0.0.1:2";
	o.max_conns = 5;
	wr = watcher_new(l, &o, &err);
	check(wr != NULL);
	w = add(wr, "key.config/maxconn");
	check(w && w->backend == WB_ETCD3);
	check(add(wr, "service.web") == NULL);
	/* They share a few calls: any number fits in 5 connections. */
	for (i = 0; i < 200; i++) {
		char name[32];

		snprintf(name, sizeof name, i % 2 ? "tree.t%d" : "key.k/%d", i);
		check(add(wr, name) != NULL);
	}
	check(watcher_requests(wr) == 0);
	watcher_free(wr);

	/* Several members, TLS options and a user; and what is refused. */
	o.etcd_addr = "http://127.0.0.1:2, https://[::1]:2379,localhost";
	o.etcd_user = "root:secret";
	wr = watcher_new(l, &o, &err);
	check(wr != NULL);
	watcher_free(wr);
	o.etcd_user = "root";
	check(watcher_new(l, &o, &err) == NULL);
	o.etcd_user = NULL;
	o.etcd_addr = "127.0.0.1:2,,127.0.0.1:3";
	check(watcher_new(l, &o, &err) == NULL);
	o.etcd_addr = "unix:///run/etcd.sock";
	check(watcher_new(l, &o, &err) == NULL);
	o.etcd_addr = "127.0.0.1:2";
	o.etcd_cert_file = "/c.pem";
	check(watcher_new(l, &o, &err) == NULL);
	o.etcd_cert_file = NULL;

	o.max_conns = 4;
	check(watcher_new(l, &o, &err) == NULL);
	memset(&o, 0, sizeof o);
	check(watcher_new(l, &o, &err) == NULL);
	loop_free(l);
	return check_done();
}
