/* iptables: adds and removes omni mode's REDIRECT rule by running the
 * iptables program (-C to look, -A to add, -D to remove), marked with a
 * comment so that only legate's rule is ever touched. */
#include "ambassador/iptables.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"

extern char **environ;

#define RULE_COMMENT "legate-ambassador-omni"

/* Runs "iptables -w -t nat OP PREROUTING <rule>"; returns its exit status
 * (-1: could not run it), its first line of output in out. */
static int run(const char *op, int port, char *out, size_t n)
{
	char ports[8];
	char *argv[] = { "iptables", "-w", "-t", "nat", (char *)op, "PREROUTING", "-p", "tcp",
			 "-m", "comment", "--comment", RULE_COMMENT, "-j", "REDIRECT",
			 "--to-ports", ports, NULL };
	posix_spawn_file_actions_t fa;
	int pipefd[2], status, rc;
	pid_t pid;
	ssize_t got;

	snprintf(ports, sizeof ports, "%d", port);
	out[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	rc = posix_spawnp(&pid, "iptables", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (rc != 0) {
		close(pipefd[0]);
		snprintf(out, n, "cannot run iptables: %s", strerror(rc));
		return -1;
	}
	got = read(pipefd[0], out, n - 1);
	out[got > 0 ? got : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int amb_iptables_setup(int port, struct lg_error *err)
{
	char out[512];
	int rc = run("-C", port, out, sizeof out);

	if (rc == 0) {
		log_info("iptables: the REDIRECT to port %d is in place already", port);
		return 0;
	}
	if (rc < 0)
		return lg_error_set(err, NULL, 0, 0, "--setup-iptables: %s", out[0] ? out : "cannot run iptables");
	if ((rc = run("-A", port, out, sizeof out)) != 0)
		return lg_error_set(err, NULL, 0, 0, "--setup-iptables: iptables -t nat -A PREROUTING ... exit %d: %s",
				    rc, out);
	log_info("iptables: every incoming TCP port redirected to port %d", port);
	return 0;
}

void amb_iptables_teardown(int port)
{
	char out[512];
	int removed = 0, rc;

	while ((rc = run("-D", port, out, sizeof out)) == 0 && removed < 100)
		removed++;
	if (removed == 0)
		log_warn("iptables: the REDIRECT to port %d was not there to remove: %s", port, out);
	else
		log_info("iptables: the REDIRECT to port %d removed", port);
}
