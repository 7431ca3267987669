/* single: the one-program form.  One signalfd, one blocking read per
 * signal: SIGCHLD reaps, anything else is forwarded (through the -r
 * rewrites).
 *
 * Two modes.  tini's (the default): the command runs in a process group of
 * its own, in the terminal's foreground, and signals go to it (to its
 * group with -g).  dumb-init's setsid mode (as dumb-init, or with
 * DUMB_INIT_SETSID=1): the command runs in a session of its own that takes
 * over the terminal, signals go to its whole group, TSTP, TTIN and TTOU
 * reach it as STOP, and when it exits the rest of its group gets TERM.  In
 * both, TSTP, TTIN and TTOU then stop legate-init itself, as a shell's job
 * would stop. */
#include "init/single.h"

#include "common/log.h"
#include "init/sigs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

void single_opts_init(struct single_opts *o)
{
	memset(o, 0, sizeof *o);
	for (int i = 0; i < 32; i++)
		o->rewrite[i] = -1;
}

/* Reaps every child that has exited; returns true when main_pid was one of
 * them, its status in *status. */
static bool reap_all(pid_t main_pid, int *status, bool warn)
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
		} else if (warn) {
			log_warn("Reaped zombie process with pid=%d", (int)pid);
		} else {
			log_trace("reaped orphan %d", (int)pid);
		}
	}
	return main_done;
}

static int translate(const struct single_opts *o, int sig)
{
	return sig > 0 && sig < 32 && o->rewrite[sig] >= 0 ? o->rewrite[sig] : sig;
}

static void forward(const struct single_opts *o, pid_t pid, int sig)
{
	int to = translate(o, sig);
	if (to == 0) {
		log_debug("SIG%s not forwarded (rewritten to 0)", sig_name(sig));
		return;
	}
	log_debug("forwarding SIG%s%s%s to %d", sig_name(sig), to != sig ? " as SIG" : "",
		  to != sig ? sig_name(to) : "", (int)pid);
	if (kill(o->group || o->setsid ? -pid : pid, to) < 0 && errno != ESRCH)
		log_warn("cannot forward SIG%s: %s", sig_name(to), strerror(errno));
}

static void __attribute__((noreturn))
child(char **argv, const struct single_opts *o, const sigset_t *old, int cwd)
{
	if (cwd >= 0 && fchdir(cwd) < 0)
		log_warn("cannot return to the working directory: %s", strerror(errno));
	if (o->setsid) {
		if (setsid() < 0) {
			log_error("setsid: %s", strerror(errno));
			_exit(1);
		}
		/* Take the terminal legate-init let go of, when there is one. */
		(void)ioctl(STDIN_FILENO, TIOCSCTTY, 0);
	} else {
		setpgid(0, 0);
		/* In the foreground of a terminal, the command owns it, as it
		 * would under a shell (SIGTTOU is still blocked here). */
		if (isatty(STDIN_FILENO))
			(void)tcsetpgrp(STDIN_FILENO, getpid());
	}
	sig_child_reset(old);
	execvp(argv[0], argv);
	log_error("cannot run %s: %s", argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

int single_run(char **argv, const struct single_opts *o, const sigset_t *set, const sigset_t *old)
{
	bool skip_hup = false, skip_cont = false;
	int sfd, status = 0, code, cwd;
	pid_t pid;

	sfd = signalfd(-1, set, SFD_CLOEXEC);
	if (sfd < 0) {
		log_error("signalfd: %s", strerror(errno));
		return 1;
	}
	/* Let go of the terminal so the command's session can take it.  A
	 * session leader that does so gets HUP and CONT from the kernel;
	 * they are not meant for the command. */
	if (o->setsid && ioctl(STDIN_FILENO, TIOCNOTTY) == 0 && getsid(0) == getpid())
		skip_hup = skip_cont = true;
	/* The command keeps the working directory; legate-init holds none
	 * (it moves to / before the fork, so the command never sees it
	 * anywhere else, and the command moves back). */
	cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cwd >= 0 && chdir("/") < 0)
		log_debug("chdir /: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		log_error("fork: %s", strerror(errno));
		return 1;
	}
	if (pid == 0)
		child(argv, o, old, cwd);
	if (cwd >= 0)
		close(cwd);
	if (!o->setsid)
		setpgid(pid, pid);   /* both sides, so no signal finds it ungrouped */
	log_debug("started %s, pid %d", argv[0], (int)pid);

	for (;;) {
		struct signalfd_siginfo si;
		ssize_t n = read(sfd, &si, sizeof si);
		int sig;
		if (n != (ssize_t)sizeof si) {
			if (n < 0 && errno != EINTR && errno != EAGAIN)
				log_error("signalfd read: %s", strerror(errno));
			continue;
		}
		sig = (int)si.ssi_signo;
		if (sig == SIGCHLD) {
			if (reap_all(pid, &status, o->warn_reap))
				break;
			continue;
		}
		/* A write of ours to a closed pipe, not a signal to pass on. */
		if (sig == SIGPIPE && si.ssi_pid == (uint32_t)getpid())
			continue;
		if ((sig == SIGHUP && skip_hup) || (sig == SIGCONT && skip_cont)) {
			log_debug("SIG%s from letting go of the terminal, not forwarded", sig_name(sig));
			*(sig == SIGHUP ? &skip_hup : &skip_cont) = false;
			continue;
		}
		forward(o, pid, sig);
		if (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
			log_debug("SIG%s: stopping until SIGCONT", sig_name(sig));
			kill(getpid(), SIGSTOP);
		}
	}
	if (o->setsid)
		forward(o, pid, SIGTERM);   /* the rest of its group goes with it */
	/* Orphans that died at the same moment go too; the rest are the
	 * kernel's business once PID 1 is gone. */
	reap_all(0, &status, o->warn_reap);
	close(sfd);
	code = sig_exit_code(status) & 255;
	if (o->expect[code / 8] & (1u << (code % 8)))
		code = 0;
	return code;
}
