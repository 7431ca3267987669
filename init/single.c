/* single: the one-program form.  One signalfd, one blocking read per
 * signal batch: SIGCHLD reaps, anything else is forwarded. */
#include "init/single.h"

#include "common/log.h"
#include "init/sigs.h"

#include <errno.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

/* Reaps every child that has exited; returns true when main_pid was one of
 * them, its status in *status. */
static bool reap_all(pid_t main_pid, int *status)
{
	bool main_done = false;
	for (;;) {
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);
		if (pid <= 0) {
			if (pid < 0 && errno == EINTR)
				continue;
			break;
		}
		if (pid == main_pid) {
			*status = st;
			main_done = true;
		}
	}
	return main_done;
}

int single_run(char **argv, const sigset_t *set, const sigset_t *old, bool group)
{
	int sfd, status = 0;
	pid_t pid;

	sfd = signalfd(-1, set, SFD_CLOEXEC);
	if (sfd < 0) {
		log_error("signalfd: %s", strerror(errno));
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		log_error("fork: %s", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		setpgid(0, 0);
		/* In the foreground of a terminal, the command owns it, as it
		 * would under a shell (SIGTTOU is still blocked here). */
		if (isatty(STDIN_FILENO))
			(void)tcsetpgrp(STDIN_FILENO, getpid());
		sig_child_reset(old);
		execvp(argv[0], argv);
		log_error("cannot run %s: %s", argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	setpgid(pid, pid);   /* both sides, so no signal finds it ungrouped */
	log_debug("started %s, pid %d", argv[0], (int)pid);

	for (;;) {
		struct signalfd_siginfo si;
		ssize_t n = read(sfd, &si, sizeof si);
		if (n != (ssize_t)sizeof si) {
			if (n < 0 && errno != EINTR && errno != EAGAIN)
				log_error("signalfd read: %s", strerror(errno));
			continue;
		}
		if (si.ssi_signo == SIGCHLD) {
			if (reap_all(pid, &status))
				break;
			continue;
		}
		log_debug("forwarding SIG%s to %d", sig_name((int)si.ssi_signo), (int)pid);
		if (kill(group ? -pid : pid, (int)si.ssi_signo) < 0 && errno != ESRCH)
			log_warn("cannot forward SIG%s: %s", sig_name((int)si.ssi_signo), strerror(errno));
	}
	/* Orphans that died at the same moment go too; the rest are the
	 * kernel's business once PID 1 is gone. */
	reap_all(0, &status);
	close(sfd);
	return status_code(status);
}
