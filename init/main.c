/* main: legate-init's entry point: reads the command line, becomes PID 1
 * or a child subreaper, blocks signals, and hands over to the one-program
 * form, the supervisor, or the ctl client. */
#include "common/log.h"
#include "init/conf.h"
#include "init/ctl.h"
#include "init/logio.h"
#include "init/sigs.h"
#include "init/single.h"
#include "init/sup.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define LEGATE_INIT_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: legate-init [-v|-q] [-p] [-s SOCKET] -c FILE    supervise the programs in FILE\n"
		"       legate-init [-v|-q] [-g] [--] CMD [ARGS...]       run one command, like tini\n"
		"       legate-init -t -c FILE                            check FILE and exit\n"
		"       legate-init ctl [-s SOCKET] status [NAME] | start NAME | stop NAME |\n"
		"                   restart NAME | reload NAME | signal NAME SIG\n"
		"\n"
		"  -c FILE    supervisord.conf-style configuration\n"
		"  -s SOCKET  control socket (default $LEGATE_INIT_SOCKET or /run/legate-init.sock)\n"
		"  -p         prefix each line of program output with \"NAME | \"\n"
		"  -g         one-program form: forward signals to the command's process group\n"
		"  -t         check the configuration only\n"
		"  -v, -q     more output (repeatable), errors only\n"
		"  -V         print the version\n");
}

static void arm_timer(int tfd, int64_t deadline)
{
	struct itimerspec its = { 0 };
	if (deadline > 0) {
		its.it_value.tv_sec = deadline / 1000;
		its.it_value.tv_nsec = (long)(deadline % 1000) * 1000000;
	}
	timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* The supervisor's loop: every descriptor in one epoll set, signals and
 * timers included.  Nothing here allocates; errors are logged and the loop
 * goes on, because PID 1 must not exit before its programs are stopped. */
static int supervise(const struct conf *conf, const sigset_t *set, const sigset_t *old)
{
	struct loop loop = { .child_mask = old };
	struct sup sup;
	struct ctl ctl;
	int sfd, tfd;

	loop.epfd = epoll_create1(EPOLL_CLOEXEC);
	sfd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (loop.epfd < 0 || sfd < 0 || tfd < 0 ||
	    loop_add(&loop, sfd, LOOP_KEY(TAG_SIGNAL, 0), false) < 0 ||
	    loop_add(&loop, tfd, LOOP_KEY(TAG_TIMER, 0), false) < 0) {
		log_error("cannot set up the event loop: %s", strerror(errno));
		return 1;
	}
	if (sup_init(&sup, conf, &loop) < 0) {
		log_error("out of memory");
		return 1;
	}
	if (ctl_listen(&ctl, conf->ctl_socket, conf->nprogs, &loop) < 0)
		log_error("no control socket at %s: %s", conf->ctl_socket, strerror(errno));
	else
		sup.ctl = &ctl;
	log_info("supervising %d program%s from %s; control socket %s", conf->nprogs,
		conf->nprogs == 1 ? "" : "s", conf->path, conf->ctl_socket);

	for (;;) {
		struct epoll_event evs[16];
		int n;

		sup_step(&sup);
		if (sup.finished)
			break;
		arm_timer(tfd, sup_deadline(&sup));
		n = epoll_wait(loop.epfd, evs, 16, -1);
		if (n < 0 && errno != EINTR) {
			log_error("epoll_wait: %s", strerror(errno));
			continue;
		}
		for (int i = 0; i < n; i++) {
			uint64_t key = evs[i].data.u64;
			enum tag tag = LOOP_TAG(key);
			int idx = LOOP_IDX(key);
			switch (tag) {
			case TAG_SIGNAL: {
				struct signalfd_siginfo si;
				while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
					sup_signal(&sup, (int)si.ssi_signo);
				break;
			}
			case TAG_TIMER: {
				uint64_t ticks;
				(void)!read(tfd, &ticks, sizeof ticks);
				break;
			}
			case TAG_CTL_LISTEN:
				ctl_accept(&ctl, &loop);
				break;
			case TAG_CTL_CLIENT:
				ctl_input(&ctl, idx, &sup);
				break;
			default:
				if (idx >= 0 && idx < sup.n)
					program_io(&sup.progs[idx], tag, &loop);
				break;
			}
		}
	}
	log_info("all programs stopped; exit code %d", sup.exit_code);
	if (sup.ctl)
		ctl_close(&ctl, &loop);
	sup_free(&sup);
	close(sfd);
	close(tfd);
	close(loop.epfd);
	return sup.exit_code;
}

int main(int argc, char **argv)
{
	const char *conf_path = NULL, *sock = NULL;
	bool group = false, prefix = false, test_only = false;
	int verbose = 0, opt;
	sigset_t set, old;

	log_init("legate-init", 2);
	/* '+': stop at the first non-option, the command's own arguments follow. */
	while ((opt = getopt(argc, argv, "+c:s:pgtvqVh")) != -1) {
		switch (opt) {
		case 'c': conf_path = optarg; break;
		case 's': sock = optarg; break;
		case 'p': prefix = true; break;
		case 'g': group = true; break;
		case 't': test_only = true; break;
		case 'v': verbose++; break;
		case 'q': verbose = -1; break;
		case 'V': printf("legate-init %s\n", LEGATE_INIT_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (verbose < 0)
		log_set_level(LOG_LVL_ERROR);
	else if (verbose > 0)
		log_set_level(verbose > 1 ? LOG_LVL_TRACE : LOG_LVL_DEBUG);

	/* "ctl" is the client, unless after "--": then it is a command to run. */
	if (optind < argc && strcmp(argv[optind], "ctl") == 0 && !conf_path &&
	    strcmp(argv[optind - 1], "--") != 0) {
		/* The client: its own options follow "ctl". */
		int cargc = argc - optind;
		char **cargv = argv + optind;
		if (cargc >= 3 && strcmp(cargv[1], "-s") == 0) {
			sock = cargv[2];
			cargv[2] = cargv[0];
			cargv += 2;
			cargc -= 2;
		}
		return ctl_client_main(cargc, cargv, sock);
	}
	if (conf_path && optind < argc) {
		log_error("-c FILE and a command exclude each other");
		return 2;
	}
	if (!conf_path && optind >= argc) {
		usage(stderr);
		return 2;
	}

	struct conf conf;
	if (conf_path) {
		struct conf_opts opts = { .log_prefix = prefix, .ctl_socket = sock };
		struct conf_error err;
		if (conf_load(conf_path, &opts, &conf, &err) < 0) {
			if (err.line)
				log_error("%s:%d: %s", err.file, err.line, err.msg);
			else
				log_error("%s: %s", err.file, err.msg);
			return 2;
		}
		if (test_only) {
			printf("%s: %d program%s, configuration ok\n", conf.path, conf.nprogs,
			       conf.nprogs == 1 ? "" : "s");
			conf_free(&conf);
			return 0;
		}
	}
	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		log_warn("cannot become a child subreaper: %s", strerror(errno));
	if (sig_setup(&set, &old) < 0) {
		log_error("cannot block signals: %s", strerror(errno));
		return 1;
	}
	if (!conf_path)
		return single_run(argv + optind, &set, &old, group);
	relay_outputs_open();
	log_init("legate-init", relay_output_fd(2));
	int rc = supervise(&conf, &set, &old);
	if (relay_dropped())
		log_warn("%lu output line(s) lost to a full stdout or stderr", relay_dropped());
	conf_free(&conf);
	return rc;
}
