/* conf: reads a supervisord.conf-style file into a struct conf that the
 * other legate-init modules borrow; every allocation of the supervisor's
 * configuration happens here, at load (or when a reread asks for it). */
#ifndef LEGATE_INIT_CONF_H
#define LEGATE_INIT_CONF_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

enum conf_autorestart { CONF_AR_FALSE, CONF_AR_TRUE, CONF_AR_UNEXPECTED };
enum conf_on_fatal { CONF_FATAL_KEEP, CONF_FATAL_EXIT };
/* Where a program's stdout or stderr goes. */
enum conf_out { CONF_OUT_STDOUT, CONF_OUT_STDERR, CONF_OUT_FILE, CONF_OUT_NULL };

/* Filled by the loaders on failure; owned by the caller. */
struct conf_error {
	char file[256];
	int line;          /* 0: not about one line */
	char msg[512];
};

/* One output stream of a program. */
struct conf_log {
	enum conf_out kind;
	char *file;                /* CONF_OUT_FILE */
	long long maxbytes;        /* rotate past this size; 0: never */
	int backups;               /* rotated files kept: FILE.1 .. FILE.N */
	int line;                  /* of the *_logfile key; 0: the default */
};

/* Event types an [eventlistener:NAME] subscribes to (a bit set). */
enum conf_event {
	CONF_EV_STATE_STOPPED = 1u << 0, CONF_EV_STATE_STARTING = 1u << 1,
	CONF_EV_STATE_RUNNING = 1u << 2, CONF_EV_STATE_BACKOFF = 1u << 3,
	CONF_EV_STATE_STOPPING = 1u << 4, CONF_EV_STATE_EXITED = 1u << 5,
	CONF_EV_STATE_FATAL = 1u << 6,
	CONF_EV_TICK_5 = 1u << 7, CONF_EV_TICK_60 = 1u << 8, CONF_EV_TICK_3600 = 1u << 9,
	CONF_EV_SUP_RUNNING = 1u << 10, CONF_EV_SUP_STOPPING = 1u << 11,
	CONF_EV_GROUP_ADDED = 1u << 12, CONF_EV_GROUP_REMOVED = 1u << 13,
};

struct prog_conf {
	void *arena;              /* everything this program owns */
	char *name;
	const char *file;         /* where its section starts (in the conf's arena) */
	int line;
	char *sig;                /* its settings as text: tells a changed program */
	char **argv;              /* the command, split like a shell would */
	int line_command;
	char **envp;              /* the whole environment for the child */
	int priority;
	bool autostart;
	enum conf_autorestart autorestart;
	unsigned char exitcodes[32];   /* bitmap of expected exit codes */
	int startsecs, startretries;
	int ready_timeout;             /* seconds a probe may take; 0: no limit */
	int stopsignal, stopwaitsecs;
	bool stopasgroup, killasgroup;
	char *directory;
	int line_directory;
	int umask;                /* -1: legate-init's own */
	bool has_user;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int ngroups;
	bool redirect_stderr;
	struct conf_log out, err;
	bool log_prefix;
	char **dep_names;         /* depends_on, NULL-terminated */
	int *deps;                /* the same as indexes into conf.progs */
	int ndeps;
	int dep_line;
	int ready_fd;             /* -1: none */
	char *ready_file;
	bool has_ready_tcp;
	struct sockaddr_storage ready_addr;
	socklen_t ready_addrlen;
	bool oneshot;
	int reload_signal;
	enum conf_on_fatal on_fatal;
	bool listener;            /* an [eventlistener:NAME] */
	unsigned events;          /* enum conf_event bits */
	int buffer_size;          /* events a listener may have waiting */
};

struct conf {
	void *arena;              /* the file names, paths and the sections' text */
	char *path;
	char *ctl_socket;         /* where the control socket goes */
	int ctl_mode;             /* its permissions ([unix_http_server] chmod) */
	bool ctl_chown;
	uid_t ctl_uid;
	gid_t ctl_gid;
	char *identifier;         /* [supervisord] identifier, for event headers */
	struct prog_conf **progs; /* in file order; a NULL entry was taken */
	int nprogs;
};

/* What the command line adds to the file. */
struct conf_opts {
	bool log_prefix;          /* default of the log_prefix key (-P) */
	const char *ctl_socket;   /* -S: wins over the file and $LEGATE_INIT_SOCKET */
};

/* Reads path into *out.  Returns 0, or -1 with *err filled and nothing
 * allocated.  Warnings (unknown keys, ignored sections) are logged with
 * file:line. */
int conf_load(const char *path, const struct conf_opts *opts, struct conf *out,
	      struct conf_error *err);

/* Frees everything conf_load allocated, programs not taken included. */
void conf_free(struct conf *c);

/* Room in c's arena for a table of n programs (for an update that mixes
 * programs of two configurations); NULL when out of memory. */
struct prog_conf **conf_progs_reserve(struct conf *c, int n);

/* Makes progs (from conf_progs_reserve; n entries, owned from now on) c's
 * programs, and links each one's depends_on to the new positions (-1 for a
 * program no longer there).  Programs c had and progs does not list must
 * have been taken out (set to NULL) before. */
void conf_progs_set(struct conf *c, struct prog_conf **progs, int n);

/* Points each program's deps at the positions of its depends_on names in
 * c's table (-1 for a name not there). */
void conf_link_deps(struct conf *c);

/* Frees one program taken out of a conf. */
void conf_prog_free(struct prog_conf *p);

/* Checks what a run would fail on that the syntax cannot tell (confcheck.c): commands
 * that are not found or not executable, log files in missing or read-only
 * directories, working directories that do not exist.  Logs each problem
 * as an error with file:line; returns how many there were. */
int conf_check(const struct conf *c);

/* Looks p's command up as execvp will (in p's PATH, or from p's
 * directory).  Returns 0 with the file in path, or -1 with *why saying
 * what is wrong ("not found in PATH", "not executable", ...). */
int conf_find_command(const struct prog_conf *p, char *path, size_t len, const char **why);

/* Returns true when code is one of the program's expected exit codes. */
bool conf_expected(const struct prog_conf *p, int code);

/* Finds the control socket a client should use from the file at path:
 * [supervisorctl] serverurl=unix://..., then [unix_http_server] file=,
 * then [supervisord] ctl_socket=.  Fills out (outlen bytes).  Returns 0,
 * 1 when the file names none, or -1 with *err filled. */
int conf_client_socket(const char *path, char *out, size_t outlen, struct conf_error *err);

#endif
