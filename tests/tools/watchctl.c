/* watchctl: runs the watcher on the given watch names and prints one line
 * per change, "NAME JSON", to stdout (logs go to stderr).  The scripted
 * tests and the benchmark drive the watcher through it.
 *
 *   watchctl [-consul-addr A] [-consul-token T] [-stale] [-etcd-addr A]
 *            [-etcd-v2] [-max-conns N] [-wait S] [-min-interval S]
 *            [-backoff-min S] [-backoff-max S] [-timeout S]
 *            [-log-level L] [-ca-file F] [-cert-file F] [-key-file F]
 *            [-insecure] [-names-file F] [-ts] NAME...
 *
 * -names-file reads more names, one per line; -ts starts each change line
 * with the wall clock in microseconds.
 * SIGUSR1 prints "status JSON" (every watch's status) to stdout; SIGINT
 * and SIGTERM stop it cleanly (exit 0). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/loop.h"
#include "watcher/watch.h"

static int timestamps;

static void changed(struct watch *w, void *arg)
{
	struct timespec ts;

	(void)arg;
	if (timestamps) {
		clock_gettime(CLOCK_REALTIME, &ts);
		printf("%lld%06ld ", (long long)ts.tv_sec, ts.tv_nsec / 1000);
	}
	char *text = watch_text(w);

	printf("%s %s\n", watch_name(w), text ? text : "null");
	free(text);
	fflush(stdout);
}

static void on_signal(struct loop *l, int signo, void *arg)
{
	struct watcher *wr = arg;

	if (signo == SIGUSR1) {
		json_t *s = watcher_status(wr);
		char *t = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS);

		printf("status %s\n", t ? t : "null");
		fflush(stdout);
		free(t);
		json_decref(s);
		return;
	}
	loop_stop(l);
}

static int usage(void)
{
	fprintf(stderr, "usage: watchctl [-consul-addr A] [-etcd-addr A] [-etcd-v2] "
		"[-max-conns N] [-wait S] ... NAME...\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct watcher_opts o;
	struct loop *l;
	struct watcher *wr;
	enum log_level lvl;
	struct lg_error err;
	const char *names_file = NULL;
	int i, n = 0;

	log_init("watchctl", 2);
	memset(&o, 0, sizeof o);
	o.consul_addr = getenv("CONSUL_HTTP_ADDR");
	o.consul_token = getenv("CONSUL_HTTP_TOKEN");
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

#define VAL(name) (strcmp(a, name) == 0 && v && ++i)
		if (VAL("-consul-addr"))
			o.consul_addr = v;
		else if (VAL("-consul-token"))
			o.consul_token = v;
		else if (strcmp(a, "-stale") == 0)
			o.consul_stale = 1;
		else if (VAL("-etcd-addr"))
			o.etcd_addr = v;
		else if (strcmp(a, "-etcd-v2") == 0)
			o.etcd_v2 = 1;
		else if (VAL("-max-conns"))
			o.max_conns = atoi(v);
		else if (VAL("-wait"))
			o.wait = atof(v);
		else if (VAL("-min-interval"))
			o.min_interval = atof(v);
		else if (VAL("-backoff-min"))
			o.backoff_min = atof(v);
		else if (VAL("-backoff-max"))
			o.backoff_max = atof(v);
		else if (VAL("-timeout"))
			o.timeout = atof(v);
		else if (VAL("-ca-file"))
			o.ca_file = v;
		else if (VAL("-cert-file"))
			o.cert_file = v;
		else if (VAL("-key-file"))
			o.key_file = v;
		else if (strcmp(a, "-insecure") == 0)
			o.insecure = 1;
		else if (strcmp(a, "-ts") == 0)
			timestamps = 1;
		else if (VAL("-names-file"))
			names_file = v;
		else if (VAL("-log-level")) {
			if (log_level_parse(v, &lvl) < 0)
				return usage();
			log_set_level(lvl);
		} else
			return usage();
#undef VAL
	}
	l = loop_new(0);
	if (!l) {
		log_error("cannot make the event loop");
		return 1;
	}
	wr = watcher_new(l, &o, &err);
	if (!wr) {
		log_error("%s", err.text);
		loop_free(l);
		return 2;
	}
	for (; i < argc; i++, n++)
		if (!watcher_add(wr, argv[i], changed, NULL, &err)) {
			log_error("%s", err.text);
			return 2;
		}
	if (names_file) {
		FILE *f = fopen(names_file, "r");
		char line[1024];

		if (!f) {
			log_error("cannot open %s", names_file);
			return 2;
		}
		while (fgets(line, sizeof line, f)) {
			line[strcspn(line, "\r\n")] = '\0';
			if (!line[0])
				continue;
			if (!watcher_add(wr, line, changed, NULL, &err)) {
				log_error("%s", err.text);
				fclose(f);
				return 2;
			}
			n++;
		}
		fclose(f);
	}
	if (n == 0)
		return usage();
	signal(SIGPIPE, SIG_IGN);
	loop_add_signal(l, SIGINT, on_signal, wr);
	loop_add_signal(l, SIGTERM, on_signal, wr);
	loop_add_signal(l, SIGUSR1, on_signal, wr);
	loop_run(l);
	watcher_free(wr);
	loop_free(l);
	return 0;
}
