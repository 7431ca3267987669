/* conf: reads a supervisord.conf-style file into a struct conf that the
 * other legate-init modules borrow; every allocation of the supervisor
 * happens here, at load. */
#ifndef LEGATE_INIT_CONF_H
#define LEGATE_INIT_CONF_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

enum autorestart { AR_FALSE, AR_TRUE, AR_UNEXPECTED };
enum on_fatal { FATAL_EXIT, FATAL_KEEP };
/* Where a program's stdout or stderr goes. */
enum out_kind { OUT_STDOUT, OUT_STDERR, OUT_FILE, OUT_NULL };

/* Filled by conf_load on failure; owned by the caller. */
struct conf_error {
	char file[256];
	int line;          /* 0: not about one line */
	char msg[512];
};

struct prog_conf {
	char *name;
	int line;                 /* of the [program:NAME] header */
	char **argv;              /* the command, split like a shell would */
	char **envp;              /* the whole environment for the child */
	int priority;
	bool autostart;
	enum autorestart autorestart;
	unsigned char exitcodes[32];   /* bitmap of expected exit codes */
	int startsecs, startretries;
	int ready_timeout;             /* seconds a probe may take; 0: no limit */
	int stopsignal, stopwaitsecs;
	bool stopasgroup, killasgroup;
	char *directory;
	bool has_user;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int ngroups;
	bool redirect_stderr;
	enum out_kind out, err;
	char *out_file, *err_file;
	bool log_prefix;
	int *deps;                /* indexes into conf.progs */
	int ndeps;
	int ready_fd;             /* -1: none */
	char *ready_file;
	bool has_ready_tcp;
	struct sockaddr_storage ready_addr;
	socklen_t ready_addrlen;
	bool oneshot;
	int reload_signal;
	enum on_fatal on_fatal;
};

struct conf {
	void *arena;              /* every allocation below */
	char *path;
	char *ctl_socket;         /* NULL: the default */
	struct prog_conf *progs;
	int nprogs;
};

/* What the command line adds to the file. */
struct conf_opts {
	bool log_prefix;          /* default of the log_prefix key (-p) */
	const char *ctl_socket;   /* -s: wins over ctl_socket= and $LEGATE_INIT_SOCKET */
};

/* Reads path into *out.  Returns 0, or -1 with *err filled and nothing
 * allocated.  Warnings (unknown keys, ignored sections) are logged with
 * file:line. */
int conf_load(const char *path, const struct conf_opts *opts, struct conf *out,
	      struct conf_error *err);

/* Frees everything conf_load allocated. */
void conf_free(struct conf *c);

/* Returns true when code is one of the program's expected exit codes. */
bool conf_expected(const struct prog_conf *p, int code);

#endif
