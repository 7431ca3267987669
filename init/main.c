/* main: legate-init's entry point: reads the command line, becomes PID 1
 * or a child subreaper, blocks signals, and hands over to the one-program
 * form, the supervisor, or the ctl client. */
#include "common/log.h"
#include "init/sigs.h"
#include "init/single.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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
	(void)sock; (void)prefix; (void)test_only; (void)conf_path;
	if (verbose < 0)
		log_set_level(LOG_LVL_ERROR);
	else if (verbose > 0)
		log_set_level(verbose > 1 ? LOG_LVL_TRACE : LOG_LVL_DEBUG);

	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		log_warn("cannot become a child subreaper: %s", strerror(errno));
	if (sig_setup(&set, &old) < 0) {
		log_error("cannot block signals: %s", strerror(errno));
		return 1;
	}
	return single_run(argv + optind, &set, &old, group);
}
