/* hapctl: haproxy/master from the command line, for the scripted tests:
 *   hapctl reload SOCKET [TIMEOUT]   a reload confirmed by the master's
 *                                    reload counter; prints "ok RELOADS" or
 *                                    "failed: WHY" (exit 0 or 1)
 *   hapctl proc SOCKET               "show proc" as parsed: master pid,
 *                                    reloads, failed, current worker */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/loop.h"
#include "haproxy/master.h"

static int rc = 1;

static void on_reload(int ok, const struct hap_proc *p, const char *why, void *arg)
{
	struct loop *l = arg;
	if (ok)
		printf("ok %ld\n", p ? p->reloads : -1L);
	else
		printf("failed: %s\n", why);
	rc = ok ? 0 : 1;
	loop_stop(l);
}

static void on_proc(int ok, const struct hap_proc *p, const char *why, void *arg)
{
	struct loop *l = arg;
	if (ok)
		printf("master %d reloads %ld failed %ld worker %d workers %d old %d\n", (int)p->master,
		       p->reloads, p->failed, (int)p->worker, p->workers, p->old_workers);
	else
		printf("failed: %s\n", why);
	rc = ok ? 0 : 1;
	loop_stop(l);
}

int main(int argc, char **argv)
{
	struct loop *l;
	struct hap_master *m;
	double timeout = argc > 3 ? atof(argv[3]) : 10;

	if (argc < 3 || (strcmp(argv[1], "reload") && strcmp(argv[1], "proc"))) {
		fprintf(stderr, "usage: hapctl reload|proc SOCKET [TIMEOUT]\n");
		return 2;
	}
	if (!(l = loop_new(0)) || !(m = hap_master_new(l, argv[2]))) {
		perror("hapctl");
		return 1;
	}
	if (strcmp(argv[1], "reload") == 0)
		hap_master_reload(m, timeout, on_reload, l);
	else
		hap_master_probe(m, timeout, on_proc, l);
	loop_run(l);
	hap_master_free(m);
	loop_free(l);
	return rc;
}
