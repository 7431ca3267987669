/* sigs: signal names, the signal set read through signalfd, and the
 * child's reset before exec. */
#include "init/sigs.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

static const struct { int sig; const char *name; } sig_table[] = {
	{ SIGHUP, "HUP" }, { SIGINT, "INT" }, { SIGQUIT, "QUIT" }, { SIGILL, "ILL" },
	{ SIGTRAP, "TRAP" }, { SIGABRT, "ABRT" }, { SIGBUS, "BUS" }, { SIGFPE, "FPE" },
	{ SIGKILL, "KILL" }, { SIGUSR1, "USR1" }, { SIGSEGV, "SEGV" }, { SIGUSR2, "USR2" },
	{ SIGPIPE, "PIPE" }, { SIGALRM, "ALRM" }, { SIGTERM, "TERM" }, { SIGCHLD, "CHLD" },
	{ SIGCONT, "CONT" }, { SIGSTOP, "STOP" }, { SIGTSTP, "TSTP" }, { SIGTTIN, "TTIN" },
	{ SIGTTOU, "TTOU" }, { SIGURG, "URG" }, { SIGXCPU, "XCPU" }, { SIGXFSZ, "XFSZ" },
	{ SIGVTALRM, "VTALRM" }, { SIGPROF, "PROF" }, { SIGWINCH, "WINCH" }, { SIGIO, "IO" },
	{ SIGPWR, "PWR" }, { SIGSYS, "SYS" },
};

#define NSIG_TABLE (sizeof sig_table / sizeof sig_table[0])

int sig_parse(const char *s)
{
	if (!s || !*s)
		return -1;
	if (isdigit((unsigned char)*s)) {
		char *end;
		long n = strtol(s, &end, 10);
		if (*end || n < 1 || n >= NSIG)
			return -1;
		return (int)n;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < NSIG_TABLE; i++)
		if (strcasecmp(s, sig_table[i].name) == 0)
			return sig_table[i].sig;
	return -1;
}

const char *sig_name(int sig)
{
	for (size_t i = 0; i < NSIG_TABLE; i++)
		if (sig_table[i].sig == sig)
			return sig_table[i].name;
	return "?";
}

int sig_setup(sigset_t *set, sigset_t *old)
{
	sigfillset(set);
	return sigprocmask(SIG_SETMASK, set, old);
}

void sig_child_reset(const sigset_t *old)
{
	sigprocmask(SIG_SETMASK, old, NULL);
}

int sig_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}
