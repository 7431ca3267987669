/* config: legate's settings, from consul-template's flag names, its HCL
 * configuration blocks (consul {}, wait {}, template {}) and the
 * environment (the CONSUL_* variables Consul's own client reads,
 * ETCDCTL_ENDPOINTS and etcdctl's other ETCDCTL_* settings).
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
	char *consul_ca_cert, *consul_ca_path, *consul_cert, *consul_key;
	char *consul_server_name;  /* the name Consul's certificate is checked against */
	char *consul_token_file;   /* read at load; its content replaces the token */
	char *consul_auth;         /* "user:password" for HTTP basic auth; NULL: none */
	char *consul_auth_user, *consul_auth_pass;  /* consul { auth {} }, into consul_auth */
	int consul_auth_enabled;   /* auth { enabled }: -1 unset, 0, 1 */
	/* Where each path came from ("CONSUL_CACERT", "-consul-ssl-ca-cert",
	 * "FILE:LINE: ca_cert"), for the error when it cannot be read. */
	char ca_cert_from[300], ca_path_from[300], cert_from[300], key_from[300], token_file_from[300];
	bool consul_retry;         /* retry failed calls (default true) */
	int consul_retry_attempts; /* retries before giving up; 0: no limit; -2: not set
				    * (-once: 12, the daemon: no limit) */
	long consul_retry_backoff_ms, consul_retry_max_backoff_ms;  /* 250 ms, 1 m */
	long block_query_wait_ms;  /* blocking query wait; 0: 60 s */
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
