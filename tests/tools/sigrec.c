/* sigrec: a test program that writes each signal it receives to a file.
 *
 *   sigrec FILE NAME [-i SIG]... [-x SIG]... [-r FD]
 *
 * Appends "NAME start" to FILE, then "NAME SIG" for every signal it gets;
 * exits 0 after TERM, INT or QUIT (or the -x signals instead).  -i SIG
 * ignores SIG entirely (not recorded); -r FD writes "ready" to FD at start. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct { int sig; const char *name; } names[] = {
	{ SIGHUP, "HUP" }, { SIGINT, "INT" }, { SIGQUIT, "QUIT" }, { SIGUSR1, "USR1" },
	{ SIGUSR2, "USR2" }, { SIGTERM, "TERM" }, { SIGALRM, "ALRM" }, { SIGWINCH, "WINCH" },
	{ SIGCONT, "CONT" }, { SIGPIPE, "PIPE" }, { SIGSEGV, "SEGV" }, { SIGABRT, "ABRT" },
	{ SIGBUS, "BUS" }, { SIGFPE, "FPE" }, { SIGILL, "ILL" }, { SIGTRAP, "TRAP" },
	{ SIGSYS, "SYS" }, { SIGTSTP, "TSTP" }, { SIGTTIN, "TTIN" }, { SIGTTOU, "TTOU" },
	{ SIGURG, "URG" }, { SIGXCPU, "XCPU" }, { SIGPROF, "PROF" },
};

static int parse(const char *s)
{
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].sig;
	return atoi(s);
}

static const char *name_of(int sig)
{
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].sig == sig)
			return names[i].name;
	return "?";
}

static void record(const char *file, const char *who, const char *what)
{
	char line[256];
	int fd = open(file, O_WRONLY | O_APPEND | O_CREAT, 0644);
	int n = snprintf(line, sizeof line, "%s %s\n", who, what);
	if (fd >= 0 && n > 0) {
		(void)!write(fd, line, (size_t)n);
		close(fd);
	}
}

int main(int argc, char **argv)
{
	sigset_t wait, exits;
	int ready = -1;

	if (argc < 3) {
		fprintf(stderr, "usage: sigrec FILE NAME [-i SIG]... [-x SIG]... [-r FD]\n");
		return 2;
	}
	sigemptyset(&exits);
	sigfillset(&wait);
	sigdelset(&wait, SIGCHLD);
	for (int i = 3; i + 1 < argc; i += 2) {
		int sig = parse(argv[i + 1]);
		if (strcmp(argv[i], "-i") == 0) {
			signal(sig, SIG_IGN);
			sigdelset(&wait, sig);
		} else if (strcmp(argv[i], "-x") == 0) {
			sigaddset(&exits, sig);
		} else if (strcmp(argv[i], "-r") == 0) {
			ready = atoi(argv[i + 1]);
		}
	}
	if (sigisemptyset(&exits)) {
		sigaddset(&exits, SIGTERM);
		sigaddset(&exits, SIGINT);
		sigaddset(&exits, SIGQUIT);
	}
	sigprocmask(SIG_BLOCK, &wait, NULL);
	record(argv[1], argv[2], "start");
	if (ready >= 0)
		(void)!write(ready, "ready\n", 6);
	for (;;) {
		int sig = sigwaitinfo(&wait, NULL);
		if (sig < 0)
			continue;
		record(argv[1], argv[2], name_of(sig));
		if (sigismember(&exits, sig))
			return 0;
	}
}
