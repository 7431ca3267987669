/* args: the ambassador's command line (crewjam/ambassador's flags,
 * progrium/ambassadord's backend forms and legate's own options) turned
 * into a spec: one forward per listening port, each with the source of its
 * backends. */
#ifndef LEGATE_AMB_ARGS_H
#define LEGATE_AMB_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ambassador/backend.h"
#include "ambassador/creds.h"
#include "common/error.h"

enum amb_kind {
	AMB_STATIC,     /* HOST:PORT[,HOST:PORT...], or a --links port */
	AMB_SRV,        /* NAME: DNS SRV records */
	AMB_KV,         /* etcd://HOST:PORT/PATH, consul://HOST:PORT/PATH */
	AMB_CREWJAM,    /* --etcd-prefix PREFIX --port N [--master-only] [--public] */
};

enum amb_store { AMB_ETCD, AMB_CONSUL };

struct amb_forward {
	enum amb_kind kind;
	char *arg;                  /* as written, for logs */
	char bind_addr[AMB_HOST_MAX + 1]; /* "" : every address */
	int bind_port;
	struct amb_list hosts;      /* AMB_STATIC */
	char *srv_name;             /* AMB_SRV */
	enum amb_store store;       /* AMB_KV, AMB_CREWJAM */
	char *store_addr;           /* "host:port" of etcd or Consul */
	char *path;                 /* no leading or trailing '/' */
	int port;                   /* AMB_CREWJAM: the instances' port */
	bool master_only, public_ip;
	struct amb_creds creds;     /* the defaults merged with its own */
};

#define AMB_DEFAULT_PORT 10000

struct amb_spec {
	struct amb_forward *fwd;
	size_t nfwd;
	char *dns_server;           /* --dns HOST:PORT; NULL: /etc/resolv.conf */
	char *run_dir;              /* where haproxy.cfg and the master socket live */
	char *haproxy;              /* the HAProxy program */
	bool etcd_v2;               /* --etcd-v2: the v2 API instead of v3 */
	bool print_config;          /* --print-config: render once to stdout, exit */
	double srv_min_interval;    /* seconds between SRV queries at least */
	bool omni;                  /* --omnimode: fwd[0] is the listener and the defaults */
	bool setup_iptables;
	char *docker;               /* omni: "unix:///PATH" of the Docker engine */
	char *log_level;
};

/* Parses argv (argv[0] is the subcommand's name) into spec (zeroed by the
 * call, freed by amb_spec_free).  Reads the environment for --links and
 * for the etcd and Consul defaults.  Returns 0; 1 when --help was asked
 * (usage printed); -1 with err filled (caller-owned) on a usage error. */
int amb_args_parse(int argc, char **argv, struct amb_spec *spec, struct lg_error *err);

void amb_spec_free(struct amb_spec *spec);

/* Fills f (kind, hosts, srv_name, store, path, bind_port; the rest left as
 * it is) from a BACKEND in progrium/ambassadord's standard forms.  Returns
 * 0, or -1 with err filled; f is then freed with amb_forward_free either
 * way. */
int amb_forward_parse(struct amb_forward *f, const char *arg, struct lg_error *err);

void amb_forward_free(struct amb_forward *f);

/* Prints the usage text to f. */
void amb_usage(FILE *f);

#endif
