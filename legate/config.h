/* config: legate's settings, from consul-template's flag names, its HCL
 * configuration blocks (consul {}, wait {}, template {}) and the
 * environment (CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN, ETCDCTL_ENDPOINTS).
 * Precedence, lowest first: built-in defaults, environment, -config files
 * in order, flags.  -template flags add to the templates of the files. */
#ifndef LEGATE_CONFIG_H
#define LEGATE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/error.h"
#include "renderer/command.h"

/* A template whose destination is an HAProxy configuration: legate drives
 * that HAProxy (runtime changes, confirmed reloads) instead of a command. */
struct template_haproxy {
	bool enabled;            /* a haproxy {} block was given */
	char *master_socket;     /* required: haproxy -W -S SOCKET */
	char *runtime_socket;    /* a stats socket at level admin; NULL: through the master CLI */
	long drain_timeout_ms;   /* default 30 s */
	long reload_timeout_ms;  /* default 10 s */
	long audit_interval_ms;  /* default 5 s */
	bool runtime;            /* default true; false: every change is a reload */
	char *origin;            /* "FILE:LINE" of the block */
};

struct template_config {
	char *source;            /* template file; NULL when contents is set */
	char *contents;          /* inline template */
	char *destination;       /* NULL with -dry: printed to stdout */
	struct command command;  /* after a successful install */
	long command_timeout_ms; /* default 30 s */
	struct command check;    /* on the staged file; {{.src}} is its path */
	long check_timeout_ms;   /* default 30 s */
	int perms;               /* -1: keep the destination's mode (0644 if new) */
	char *user, *group;      /* owner of the installed file; NULL: unchanged */
	bool backup;             /* keep the previous file as DEST.bak */
	bool create_dest_dirs;   /* default true */
	long wait_min_ms, wait_max_ms;
	bool wait_set;           /* else the global wait applies */
	char *escape;            /* "config" (default), "html" or "none" */
	char *partials_dir;      /* default: the template's directory */
	bool strict;             /* a missing partial is an error (default true) */
	struct template_haproxy haproxy;
	char *origin;            /* "FILE:LINE" or "-template flag", for messages */
};

struct config {
	char *consul_addr;       /* host:port or a URL; default 127.0.0.1:8500 */
	char *consul_token;
	bool consul_ssl;
	bool consul_ssl_verify;  /* default true; false is the explicit insecure switch */
	char *consul_ca_cert, *consul_cert, *consul_key;
	char *consul_server_name;  /* accepted, not applied yet (a warning says so) */
	long max_stale_ms;       /* > 0: stale reads allowed */
	int max_connections;     /* cap on connections to the agent; default 32 */
	char *etcd_addr;         /* host:port or a URL; NULL: not used */
	bool etcd_v2;            /* read etcd through its v2 API (the classic layouts) */
	long wait_min_ms, wait_max_ms;
	bool once, dry;
	char *log_level;
	char *status_addr;       /* host:port for /health, /status, /metrics */
	char *pid_file;
	char *ready_file;        /* touched after the first complete render */
	int ready_fd;            /* a line written there then; -1: none */
	struct template_config *templates;
	size_t ntemplates;
	char **config_files;
	size_t nconfig_files;
};

/* Fills *cfg from the environment, every -config file and the flags in
 * argv (argv[0] is the program name).  Returns 0, 1 when -h or -version was
 * handled (the caller exits 0), or -1 with err naming the flag, or the
 * file, line and key at fault.  The config is owned by the caller:
 * config_free() it in every case. */
int config_load(struct config *cfg, int argc, char **argv, struct lg_error *err);

void config_free(struct config *cfg);

/* Parses Go-style durations ("500ms", "5s", "1m30s", "2h"); a bare number
 * is seconds.  Returns 0 and fills *ms, or -1. */
int config_parse_duration(const char *s, long *ms);

/* Parses "min[:max]" as consul-template's -wait does; max defaults to 4*min.
 * Returns 0 or -1. */
int config_parse_wait(const char *s, long *min_ms, long *max_ms);

/* Prints the flag summary. */
void config_usage(FILE *f);

#endif
