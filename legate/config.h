/* config: legate's settings, from consul-template's flag names, its HCL
 * configuration blocks (consul {}, wait {}, template {}) and the
 * environment (CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN, ETCDCTL_ENDPOINTS and
 * etcdctl's other ETCDCTL_* settings).
 * Precedence, lowest first: built-in defaults, environment, -config files
 * in order, flags.  -template flags add to the templates of the files. */
#ifndef LEGATE_CONFIG_H
#define LEGATE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/error.h"
#include "renderer/template.h"

struct config {
	char *consul_addr;       /* host:port or a URL; default 127.0.0.1:8500 */
	char *consul_token;
	bool consul_ssl;
	bool consul_ssl_verify;  /* default true; false is the explicit insecure switch */
	char *consul_ca_cert, *consul_cert, *consul_key;
	char *consul_server_name;  /* accepted, not applied yet (a warning says so) */
	long max_stale_ms;       /* > 0: stale reads allowed */
	int max_connections;     /* cap on connections to the agent; default 32 */
	char *etcd_addr;         /* host:port or a URL, or a comma-separated list
				  * of members; NULL: not used */
	bool etcd_v2;            /* read etcd through its v2 API (the classic layouts) */
	char *etcd_ca_cert, *etcd_cert, *etcd_key; /* TLS to etcd */
	char *etcd_server_name;  /* the name etcd's certificate must carry */
	char *etcd_user;         /* "user" or "user:password" */
	char *etcd_password;
	long wait_min_ms, wait_max_ms;
	bool once, dry;
	char *log_level;
	char *log_format;        /* "text" or "json"; NULL: text */
	char *status_addr;       /* host:port for /health, /status, /metrics */
	char *pid_file;
	char *ready_file;        /* touched after the first complete render */
	int ready_fd;            /* a line written there then; -1: none */
	struct template_config *templates;
	size_t ntemplates;
	char **config_files;
	size_t nconfig_files;
	struct runner_settings run;   /* the above, as the runner reads it */
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
