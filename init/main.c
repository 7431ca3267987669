/* main: legate-init's entry point: reads the command line (legate-init's,
 * tini's or dumb-init's flags, or supervisorctl's and supervisord's when
 * run under those names), becomes PID 1 or a child subreaper, blocks
 * signals, and hands over to the one-program form, the supervisor, or the
 * ctl client.  It drives the supervisor's loop, in which sup and ctl never
 * call each other's loop steps: main runs one, then the other. */
#include "common/log.h"
#include "init/conf.h"
#include "init/ctl.h"
#include "init/logio.h"
#include "init/loop.h"
#include "init/sigs.h"
#include "init/single.h"
#include "init/sup.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

enum personality { AS_LEGATE_INIT, AS_TINI, AS_DUMB_INIT, AS_SUPERVISORD };

struct opts {
	enum personality as;
	const char *conf_path, *sock;
	bool prefix, test_only, subreaper, quiet;
	int verbose;
	int pdeathsig;
	bool single_child;
	struct single_opts single;
	bool rewrite_set[32];
};

static void usage(FILE *f, const char *name)
{
	fprintf(f,
		"usage: %s [-v|-q] [-P] [-S SOCKET] -c FILE     supervise the programs in FILE\n"
		"       %s -t -c FILE                           check FILE and exit\n"
		"       %s [OPTIONS] [--] CMD [ARGS...]         run one command (tini, dumb-init)\n"
		"       %s ctl [-c FILE] [-s SOCKET] [COMMAND [ARGS]]   supervisorctl's commands\n"
		"\n"
		"supervisor:\n"
		"  -c FILE      supervisord.conf-style configuration\n"
		"  -S SOCKET    control socket (default: [unix_http_server] file=, $LEGATE_INIT_SOCKET,\n"
		"               /run/legate-init.sock)\n"
		"  -P           prefix each line of program output with \"NAME | \"\n"
		"  -t           check the configuration and what a run needs, then exit\n"
		"  -n           stay in the foreground (always so; accepted for supervisord -n)\n"
		"one command (tini's and dumb-init's flags):\n"
		"  -s           become a child subreaper (also TINI_SUBREAPER)\n"
		"  -p SIG       signal to get, and pass on, when the parent dies\n"
		"  -g           signals go to the command's process group (also TINI_KILL_PROCESS_GROUP)\n"
		"  -e CODE      report exit code CODE as 0 (repeatable)\n"
		"  -w           warn about each zombie reaped\n"
		"  -r S:R, --rewrite S:R   pass signal S on as R; R=0 drops it (repeatable)\n"
		"  --single-child          signals go to the command only (dumb-init's -c)\n"
		"  DUMB_INIT_SETSID=1      dumb-init's setsid mode (the default when run as dumb-init)\n"
		"both:\n"
		"  -v, --verbose           more output (repeatable; also TINI_VERBOSITY=N)\n"
		"  -q           errors only\n"
		"  --log-format text|json  legate-init's own lines: text (the default) or one JSON\n"
		"               object per line (also LEGATE_LOG_FORMAT)\n"
		"  -V, --version           print the version\n"
		"  -h, --help              this help\n",
		name, name, name, name);
}

/* dumb-init's -r: "S:R", both 1..31, R may be 0. */
static int parse_rewrite(const char *arg, struct opts *o)
{
	char *end;
	long from = strtol(arg, &end, 10), to;
	if (end == arg || *end != ':')
		return -1;
	arg = end + 1;
	to = strtol(arg, &end, 10);
	if (end == arg || *end || from < 1 || from > 31 || to < 0 || to > 31)
		return -1;
	o->single.rewrite[from] = (int)to;
	o->rewrite_set[from] = true;
	return 0;
}

/* Returns -1 to go on, or the exit code. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "rewrite", required_argument, NULL, 'r' },
		{ "single-child", no_argument, NULL, 'C' },
		{ "log-format", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	/* '+': stop at the first non-option; the command's own arguments follow. */
	const char *shorts = o->as == AS_DUMB_INIT ? "+hvVcr:q" : "+c:S:PtnqvhVsp:e:gwr:";
	int opt, bad = 1;
	long code;
	char *end;

	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "-t") == 0)
			bad = 2;    /* a usage error of the supervisor form */
	while ((opt = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		switch (opt) {
		case 'c':
			if (o->as == AS_DUMB_INIT)
				o->single_child = true;
			else
				o->conf_path = optarg;
			break;
		case 'C': o->single_child = true; break;
		case 'L': {
			enum log_format fmt;
			if (log_format_parse(optarg, &fmt) < 0) {
				log_error("--log-format: \"%s\": want text or json", optarg);
				return bad;
			}
			log_set_format(fmt);
			break;
		}
		case 'S': o->sock = optarg; break;
		case 'P': o->prefix = true; break;
		case 't': o->test_only = true; break;
		case 'n': break;
		case 'q': o->quiet = true; break;
		case 'v': o->verbose++; break;
		case 's': o->subreaper = true; break;
		case 'g': o->single.group = true; break;
		case 'w': o->single.warn_reap = true; break;
		case 'p':
			o->pdeathsig = sig_parse(optarg);
			if (o->pdeathsig < 0) {
				log_error("-p: \"%s\" is not a signal name", optarg);
				return bad;
			}
			break;
		case 'e':
			code = strtol(optarg, &end, 10);
			if (end == optarg || *end || code < 0 || code > 255) {
				log_error("-e: \"%s\" is not an exit code from 0 to 255", optarg);
				return bad;
			}
			o->single.expect[code / 8] |= (unsigned char)(1u << (code % 8));
			break;
		case 'r':
			if (parse_rewrite(optarg, o) < 0) {
				log_error("-r: \"%s\" is not S:R with S from 1 to 31 and R from 0 to 31", optarg);
				return bad;
			}
			break;
		case 'V':
			printf("legate-init %s\n", LEGATE_INIT_VERSION);
			return 0;
		case 'h':
			usage(stdout, o->as == AS_LEGATE_INIT ? "legate-init" : argv[0]);
			return 0;
		default:
			/* getopt has said what is wrong; as dumb-init, that is all. */
			if (o->as != AS_DUMB_INIT)
				fprintf(stderr, "Try %s --help for the options.\n", argv[0]);
			return bad;
		}
	}
	return -1;
}

/* The environment tini and dumb-init read, for the one-command form. */
static void single_env(struct opts *o)
{
	const char *v;

	if (getenv("TINI_SUBREAPER"))
		o->subreaper = true;
	if (getenv("TINI_KILL_PROCESS_GROUP"))
		o->single.group = true;
	if ((v = getenv("TINI_VERBOSITY")) && *v)
		o->verbose += atoi(v) - 1;
	if ((v = getenv("DUMB_INIT_DEBUG")) && strcmp(v, "1") == 0 && o->verbose < 2)
		o->verbose = 2;
	o->single.setsid = o->as == AS_DUMB_INIT;
	if ((v = getenv("DUMB_INIT_SETSID")) && strcmp(v, "0") == 0)
		o->single.setsid = false;
	else if (v && strcmp(v, "1") == 0)
		o->single.setsid = true;
	if (o->single_child)
		o->single.setsid = false;
	if (o->single.setsid) {
		/* The command's group stops as a job would; legate-init follows. */
		int stops[] = { SIGTSTP, SIGTTIN, SIGTTOU };
		for (int i = 0; i < 3; i++)
			if (!o->rewrite_set[stops[i]])
				o->single.rewrite[stops[i]] = SIGSTOP;
	}
}

static void set_level(const struct opts *o, bool single)
{
	/* The one-command form is quiet like tini: warnings and errors. */
	int lvl = (single ? LOG_LVL_WARN : LOG_LVL_INFO) + o->verbose;
	if (o->quiet)
		lvl = LOG_LVL_ERROR;
	if (lvl < LOG_LVL_ERROR)
		lvl = LOG_LVL_ERROR;
	if (lvl > LOG_LVL_TRACE)
		lvl = LOG_LVL_TRACE;
	log_set_level((enum log_level)lvl);
}

/* supervisord's places for its file when -c is not given. */
static const char *default_conf(const char *argv0, char *buf, size_t len)
{
	const char *slash = strrchr(argv0, '/');
	const char *rel[] = { "supervisord.conf", "etc/supervisord.conf", "/etc/supervisord.conf",
			      "/etc/supervisor/supervisord.conf" };
	for (int i = 0; i < 2 && slash; i++) {
		snprintf(buf, len, "%.*s/../%s", (int)(slash - argv0), argv0,
			 i ? "supervisord.conf" : "etc/supervisord.conf");
		if (access(buf, F_OK) == 0)
			return buf;
	}
	for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++)
		if (access(rel[i], F_OK) == 0)
			return rel[i];
	return NULL;
}

/* The supervisor's loop: every descriptor in one epoll set, signals and
 * timers included.  The steady state allocates nothing; errors are logged
 * and the loop goes on, because PID 1 must not exit before its programs
 * are stopped. */
static int supervise(struct conf *conf, const sigset_t *set, const sigset_t *old)
{
	struct init_loop loop;
	struct sup sup;
	struct ctl ctl;
	bool have_ctl = false;
	char sock[sizeof ctl.path];
	int rc;

	if (init_loop_open(&loop, set, old) < 0) {
		log_error("cannot set up the event loop: %s", strerror(errno));
		conf_free(conf);
		free(conf);
		return 1;
	}
	snprintf(sock, sizeof sock, "%s", conf->ctl_socket);
	log_info("supervising %d program%s from %s; control socket %s", conf->nprogs,
		 conf->nprogs == 1 ? "" : "s", conf->path, sock);
	if (ctl_listen(&ctl, conf, &loop) < 0)
		log_error("no control socket at %s: %s", sock, strerror(errno));
	else
		have_ctl = true;
	if (sup_init(&sup, conf, &loop) < 0) {
		log_error("out of memory");
		sup_free(&sup);
		if (have_ctl)
			ctl_close(&ctl, &loop);
		init_loop_close(&loop);
		return 1;
	}
	for (;;) {
		struct epoll_event evs[16];
		int64_t deadline, cd;
		int n;

		sup_step(&sup);
		if (have_ctl)
			ctl_step(&ctl, &sup);
		if (sup.finished)
			break;
		deadline = sup_deadline(&sup);
		cd = have_ctl ? ctl_deadline(&ctl) : 0;
		if (cd && (!deadline || cd < deadline))
			deadline = cd;
		n = init_loop_wait(&loop, deadline, evs, 16);
		if (n < 0) {
			log_error("epoll_wait: %s", strerror(errno));
			continue;
		}
		for (int i = 0; i < n; i++) {
			struct init_watch *w = evs[i].data.ptr;
			int sig, from;
			switch (w->tag) {
			case INIT_TAG_SIGNAL:
				while ((sig = init_loop_next_signal(&loop, &from)) > 0)
					if (sig != SIGPIPE || from != getpid())
						sup_signal(&sup, sig);
				break;
			case INIT_TAG_TIMER:
				init_loop_timer_ack(&loop);
				break;
			case INIT_TAG_CTL_LISTEN:
				ctl_accept(&ctl, &loop);
				break;
			case INIT_TAG_CTL_CLIENT:
				ctl_input(&ctl, w->owner, &sup);
				break;
			default:
				program_io(w->owner, w->tag, &loop);
				break;
			}
		}
	}
	rc = sup.exit_code;
	log_info("all programs stopped; exit code %d", rc);
	if (have_ctl)
		ctl_close(&ctl, &loop);
	sup_free(&sup);
	init_loop_close(&loop);
	return rc;
}

static int run_conf(const struct opts *o, const char *path, const sigset_t *set, const sigset_t *old)
{
	struct conf_opts copts = { .log_prefix = o->prefix, .ctl_socket = o->sock };
	struct conf_error err;
	struct conf *conf = calloc(1, sizeof *conf);
	int rc;

	if (!conf) {
		log_error("out of memory");
		return 1;
	}
	if (conf_load(path, &copts, conf, &err) < 0) {
		if (err.line)
			log_error("%s:%d: %s", err.file, err.line, err.msg);
		else
			log_error("%s: %s", err.file, err.msg);
		free(conf);
		return 2;
	}
	if (o->test_only) {
		int problems = conf_check(conf);
		if (problems == 0)
			printf("%s: %d program%s, configuration ok\n", conf->path, conf->nprogs,
			       conf->nprogs == 1 ? "" : "s");
		else
			log_error("%s: %d problem%s", conf->path, problems, problems == 1 ? "" : "s");
		conf_free(conf);
		free(conf);
		return problems ? 2 : 0;
	}
	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		log_warn("cannot become a child subreaper: %s", strerror(errno));
	(void)set;
	relay_outputs_open();
	log_init("legate-init", relay_output_fd(2));
	rc = supervise(conf, set, old);
	if (relay_dropped())
		log_warn("%lu output line(s) lost to a full stdout or stderr", relay_dropped());
	return rc;
}

static int run_single(struct opts *o, char **cmd, const sigset_t *set, const sigset_t *old)
{
	int bit = 0;

	if (o->pdeathsig > 0 && prctl(PR_SET_PDEATHSIG, o->pdeathsig, 0, 0, 0) < 0) {
		log_error("cannot set the parent death signal: %s", strerror(errno));
		return 1;
	}
	if (o->subreaper && getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		log_error("cannot become a child subreaper: %s", strerror(errno));
		return 1;
	}
	if (getpid() != 1 && o->as != AS_DUMB_INIT &&
	    (prctl(PR_GET_CHILD_SUBREAPER, &bit, 0, 0, 0) < 0 || bit != 1))
		log_warn("not PID 1 and not a child subreaper: orphans go elsewhere, so zombie reaping "
			 "won't work here; use -s or TINI_SUBREAPER, or run as PID 1");
	return single_run(cmd, &o->single, set, old);
}

static enum personality personality(const char *argv0, bool *ctl)
{
	const char *base = strrchr(argv0, '/');
	base = base ? base + 1 : argv0;
	*ctl = strcmp(base, "supervisorctl") == 0;
	if (strcmp(base, "dumb-init") == 0)
		return AS_DUMB_INIT;
	if (strncmp(base, "tini", 4) == 0)
		return AS_TINI;
	if (strcmp(base, "supervisord") == 0)
		return AS_SUPERVISORD;
	return AS_LEGATE_INIT;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	sigset_t set, old;
	bool as_ctl;
	char buf[4096];
	const char *path;
	int rc;

	log_init("legate-init", 2);
	o.as = personality(argv[0], &as_ctl);
	if (as_ctl)
		return ctl_client_main(argc, argv, NULL, true);
	single_opts_init(&o.single);
	rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;

	/* "ctl" is the client, unless after "--": then it is a command to run. */
	if (optind < argc && strcmp(argv[optind], "ctl") == 0 && !o.conf_path &&
	    strcmp(argv[optind - 1], "--") != 0)
		return ctl_client_main(argc - optind, argv + optind, o.sock, false);
	path = o.conf_path;
	if (!path && optind >= argc && o.as == AS_SUPERVISORD && !(path = default_conf(argv[0], buf, sizeof buf))) {
		log_error("no configuration file: give one with -c");
		return 2;
	}
	if (path && optind < argc) {
		log_error("-c FILE and a command exclude each other");
		return 2;
	}
	if (!path && o.test_only) {
		log_error("-t needs -c FILE");
		return 2;
	}
	if (!path && optind >= argc) {
		usage(stderr, o.as == AS_LEGATE_INIT ? "legate-init" : argv[0]);
		return 1;
	}
	if (!path)
		single_env(&o);
	set_level(&o, !path);
	if (sig_setup(&set, &old) < 0) {
		log_error("cannot block signals: %s", strerror(errno));
		return 1;
	}
	if (path)
		return run_conf(&o, path, &set, &old);
	return run_single(&o, argv + optind, &set, &old);
}
