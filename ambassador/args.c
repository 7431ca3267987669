/* args: reads the ambassador's command line, in crewjam/ambassador's and
 * progrium/ambassadord's words, into a spec of forwards. */
#include "ambassador/args.h"

#include <stdlib.h>
#include <string.h>

extern char **environ;

void amb_usage(FILE *f)
{
	fputs("usage: legate ambassador [options] [BACKEND...]\n"
	      "\n"
	      "BACKEND (progrium/ambassadord's standard mode):\n"
	      "  HOST:PORT[,HOST:PORT...]      a fixed list; listens on the first PORT\n"
	      "  NAME                          DNS SRV records of NAME (redis.service.consul); port 10000\n"
	      "  etcd://HOST:PORT/PATH         the values under PATH, or PATH's own value; port 10000\n"
	      "  consul://HOST:PORT/PATH       the same in Consul KV; port 10000\n"
	      "  --links                       Docker link variables NAME_PORT_N_TCP_ADDR/_PORT; port N\n"
	      "\n"
	      "crewjam/ambassador's flags:\n"
	      "  --etcd-prefix PREFIX          instances under PREFIX/instances/ID/private_ip\n"
	      "  --port N                      the instances' port, and the port to listen on\n"
	      "  --master-only                 only the instance named by PREFIX/master\n"
	      "  --public                      public_ip instead of private_ip\n"
	      "  --etcd HOST[:PORT]            etcd (default $ETCDCTL_ENDPOINTS, else 127.0.0.1:2379)\n"
	      "\n"
	      "Credentials to the backends (before any BACKEND: for every forward; after\n"
	      "one: for that BACKEND's forward):\n"
	      "  --tls                         TLS to the backends, certificate verified (system CAs)\n"
	      "  --tls-ca FILE|env:VAR         the CA the backends' certificates must chain to (PEM)\n"
	      "  --tls-cert FILE|env:VAR       client certificate (PEM, with its key unless --tls-key)\n"
	      "  --tls-key FILE|env:VAR        its private key (PEM)\n"
	      "  --tls-server-name NAME        SNI, and the name the certificate must carry\n"
	      "  --tls-verify required|none    check the backends' certificates (default required)\n"
	      "  --auth redis                  AUTH (and SELECT) sent at connect time; other protocols\n"
	      "                                are refused\n"
	      "  --password SECRET|env:VAR|file:PATH   the password for --auth\n"
	      "  --user NAME                   AUTH NAME PASSWORD (Redis 6 ACL users)\n"
	      "  --db N                        SELECT N after AUTH\n"
	      "\n"
	      "progrium/ambassadord's omni mode:\n"
	      "  --omnimode                    every container's BACKEND_<PORT>=<BACKEND> variables: a\n"
	      "                                connection from it to port PORT goes to its BACKEND;\n"
	      "                                listens on port 10000 (--listen to change)\n"
	      "  --setup-iptables              REDIRECT every incoming TCP port to it (this network\n"
	      "                                namespace; removed on exit)\n"
	      "  --docker unix:///PATH         the Docker engine (default $DOCKER_HOST, else\n"
	      "                                unix:///var/run/docker.sock)\n"
	      "\n"
	      "legate's options:\n"
	      "  --listen [ADDR:]PORT          listen here instead (one forward only)\n"
	      "  --etcd-v2                     read etcd through the v2 API (default: v3)\n"
	      "  --dns HOST:PORT               DNS server for SRV names (default: /etc/resolv.conf)\n"
	      "  --srv-interval SECONDS        SRV re-query floor (default 0.25; the TTL when longer)\n"
	      "  --run-dir DIR                 haproxy.cfg and the master socket (default /run/legate-ambassador)\n"
	      "  --haproxy PROGRAM             the HAProxy binary (default haproxy)\n"
	      "  --print-config                print the HAProxy config once the backends are known, exit\n"
	      "  --log-level LEVEL             error, warn, info (default), debug, trace\n"
	      "\n"
	      "Flags take --name=value, --name value, -name=value or -name value.\n", f);
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d) {
		fputs("legate: error: out of memory\n", stderr);
		exit(1);
	}
	return d;
}

static struct amb_forward *new_forward(struct amb_spec *s, enum amb_kind kind, const char *arg)
{
	struct amb_forward *nf = realloc(s->fwd, (s->nfwd + 1) * sizeof *nf), *f;
	if (!nf) {
		fputs("legate: error: out of memory\n", stderr);
		exit(1);
	}
	s->fwd = nf;
	f = &s->fwd[s->nfwd++];
	memset(f, 0, sizeof *f);
	f->kind = kind;
	f->arg = xstrdup(arg);
	amb_creds_init(&f->creds);
	return f;
}

/* "HOST:PORT/PATH" after the scheme of etcd:// or consul://. */
static int parse_kv(struct amb_forward *f, const char *arg, enum amb_store store,
		    const char *rest, struct lg_error *err)
{
	const char *slash = strchr(rest, '/');
	char host[AMB_HOST_MAX + 1], addr[AMB_HOST_MAX + 16];
	struct lg_error e2;
	size_t plen;
	int port;

	if (!slash || slash == rest) {
		lg_error_set(err, NULL, 0, 0, "%s: expected %s://HOST:PORT/PATH", arg, store == AMB_ETCD ? "etcd" : "consul");
		return -1;
	}
	snprintf(addr, sizeof addr, "%.*s", (int)(slash - rest), rest);
	if (amb_addr_parse(addr, store == AMB_ETCD ? 2379 : 8500, host, &port, &e2) < 0) {
		lg_error_set(err, NULL, 0, 0, "%s: %s", arg, e2.text);
		return -1;
	}
	while (*slash == '/')
		slash++;
	plen = strlen(slash);
	while (plen > 0 && slash[plen - 1] == '/')
		plen--;
	if (plen == 0) {
		lg_error_set(err, NULL, 0, 0, "%s: no path", arg);
		return -1;
	}
	f->kind = AMB_KV;
	f->store = store;
	snprintf(addr, sizeof addr, amb_host_is_v6(host) ? "[%s]:%d" : "%s:%d", host, port);
	f->store_addr = xstrdup(addr);
	f->path = strndup(slash, plen);
	f->bind_port = AMB_DEFAULT_PORT;
	return f->path ? 0 : -1;
}

int amb_forward_parse(struct amb_forward *f, const char *arg, struct lg_error *err)
{
	char host[AMB_HOST_MAX + 1];
	struct lg_error e2;
	int port;

	if (strncmp(arg, "etcd://", 7) == 0)
		return parse_kv(f, arg, AMB_ETCD, arg + 7, err);
	if (strncmp(arg, "consul://", 9) == 0)
		return parse_kv(f, arg, AMB_CONSUL, arg + 9, err);
	if (strstr(arg, "://")) {
		lg_error_set(err, NULL, 0, 0, "%s: unknown scheme (etcd:// or consul://)", arg);
		return -1;
	}
	if (!strchr(arg, ':')) {
		/* No port: a name whose SRV records give hosts and ports. */
		if (amb_addr_parse(arg, 1, host, &port, &e2) < 0 || amb_host_is_v6(host)) {
			lg_error_set(err, NULL, 0, 0, "%s: not a DNS name", arg);
			return -1;
		}
		f->kind = AMB_SRV;
		f->srv_name = xstrdup(host);
		f->bind_port = AMB_DEFAULT_PORT;
		return 0;
	}
	f->kind = AMB_STATIC;
	for (const char *p = arg; *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char one[AMB_HOST_MAX + 16];
		if (len >= sizeof one) {
			lg_error_set(err, NULL, 0, 0, "%s: address too long", arg);
			return -1;
		}
		memcpy(one, p, len);
		one[len] = '\0';
		if (amb_addr_parse(one, 0, host, &port, &e2) < 0) {
			lg_error_set(err, NULL, 0, 0, "%s: %s", arg, e2.text);
			return -1;
		}
		if (f->bind_port == 0)
			f->bind_port = port;   /* listens on the destination's port */
		if (amb_list_add(&f->hosts, host, port) < 0) {
			lg_error_set(err, NULL, 0, 0, "out of memory");
			return -1;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	amb_list_sort(&f->hosts);
	return 0;
}

void amb_forward_free(struct amb_forward *f)
{
	free(f->arg);
	amb_list_free(&f->hosts);
	free(f->srv_name);
	free(f->store_addr);
	free(f->path);
	amb_creds_free(&f->creds);
	memset(f, 0, sizeof *f);
}

/* A positional BACKEND argument. */
static int parse_backend(struct amb_spec *s, const char *arg, struct lg_error *err)
{
	return amb_forward_parse(new_forward(s, AMB_STATIC, arg), arg, err);
}

/* Docker links: NAME_PORT_N_TCP_ADDR and NAME_PORT_N_TCP_PORT; one forward
 * per N, listening on N, with every linked container that exposes N. */
static int parse_links(struct amb_spec *s, struct lg_error *err)
{
	size_t first = s->nfwd, found = 0;

	for (char **e = environ; *e; e++) {
		const char *eq = strchr(*e, '='), *tag, *num;
		char name[256], portvar[300], host[AMB_HOST_MAX + 1], portstr[8];
		struct lg_error e2;
		const char *pv;
		size_t nlen, numlen;
		int lport, port;
		struct amb_forward *f = NULL;

		if (!eq || (nlen = (size_t)(eq - *e)) >= sizeof name || nlen < 14)
			continue;
		memcpy(name, *e, nlen);
		name[nlen] = '\0';
		if (strcmp(name + nlen - 9, "_TCP_ADDR") != 0)
			continue;
		name[nlen - 9] = '\0';
		/* name is now NAME_PORT_N */
		num = strrchr(name, '_');
		if (!num || num - name < 6 || strncmp(num - 5, "_PORT", 5) != 0)
			continue;
		num++;
		numlen = strlen(num);
		if (numlen == 0 || numlen >= sizeof portstr)
			continue;
		memcpy(portstr, num, numlen + 1);
		if ((lport = amb_port_parse(portstr)) < 0)
			continue;
		tag = name;
		snprintf(portvar, sizeof portvar, "%s_TCP_PORT", tag);
		pv = getenv(portvar);
		port = pv ? amb_port_parse(pv) : lport;
		if (port < 0 || amb_addr_parse(eq + 1, port, host, &port, &e2) < 0) {
			lg_error_set(err, NULL, 0, 0, "--links: %s: bad address or port", name);
			return -1;
		}
		for (size_t i = first; i < s->nfwd; i++)
			if (s->fwd[i].bind_port == lport)
				f = &s->fwd[i];
		if (!f) {
			char arg[64];
			snprintf(arg, sizeof arg, "--links port %d", lport);
			f = new_forward(s, AMB_STATIC, arg);
			f->bind_port = lport;
		}
		if (amb_list_add(&f->hosts, host, port) < 0) {
			lg_error_set(err, NULL, 0, 0, "out of memory");
			return -1;
		}
		found++;
	}
	if (found == 0) {
		lg_error_set(err, NULL, 0, 0, "--links: no NAME_PORT_N_TCP_ADDR variables (no linked container exposes a TCP port)");
		return -1;
	}
	for (size_t i = first; i < s->nfwd; i++)
		amb_list_sort(&s->fwd[i].hosts);
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!v || strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "t") == 0)
		*out = true;
	else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcmp(v, "f") == 0)
		*out = false;
	else
		return -1;
	return 0;
}

/* What the options set before the forwards are made: crewjam's layout
 * needs --etcd-prefix, --port and its companions together. */
struct pending {
	const char *prefix, *etcd, *listen;
	int port;
	bool master_only, public_ip, links;
	struct amb_creds creds;     /* credentials before the first BACKEND */
	bool backend_seen;          /* credentials now go to the latest BACKEND's forward */
};

/* How an option's value is taken: into a field of the spec (S) or of the
 * pending options (P), at an offset. */
enum otype {
	OT_VAL_P,      /* the value as given, borrowed from argv, into pending */
	OT_BOOL_P,     /* a boolean (optional =true|false) into pending */
	OT_BOOL_S,     /* a boolean into the spec */
	OT_DUP_S,      /* a copy of the value into the spec (replacing) */
	OT_PORT_P,     /* a port number into pending */
	OT_INTERVAL_S, /* seconds from 0.05 to 3600 into the spec */
	OT_HELP,
};

static const struct opt {
	const char *name;
	enum otype type;
	size_t off;
} opts[] = {
	{ "etcd-prefix", OT_VAL_P, offsetof(struct pending, prefix) },
	{ "port", OT_PORT_P, offsetof(struct pending, port) },
	{ "master-only", OT_BOOL_P, offsetof(struct pending, master_only) },
	{ "public", OT_BOOL_P, offsetof(struct pending, public_ip) },
	{ "etcd", OT_VAL_P, offsetof(struct pending, etcd) },
	{ "links", OT_BOOL_P, offsetof(struct pending, links) },
	{ "listen", OT_VAL_P, offsetof(struct pending, listen) },
	{ "omnimode", OT_BOOL_S, offsetof(struct amb_spec, omni) },
	{ "setup-iptables", OT_BOOL_S, offsetof(struct amb_spec, setup_iptables) },
	{ "docker", OT_DUP_S, offsetof(struct amb_spec, docker) },
	{ "etcd-v2", OT_BOOL_S, offsetof(struct amb_spec, etcd_v2) },
	{ "dns", OT_DUP_S, offsetof(struct amb_spec, dns_server) },
	{ "srv-interval", OT_INTERVAL_S, offsetof(struct amb_spec, srv_min_interval) },
	{ "run-dir", OT_DUP_S, offsetof(struct amb_spec, run_dir) },
	{ "haproxy", OT_DUP_S, offsetof(struct amb_spec, haproxy) },
	{ "print-config", OT_BOOL_S, offsetof(struct amb_spec, print_config) },
	{ "log-level", OT_DUP_S, offsetof(struct amb_spec, log_level) },
	{ "help", OT_HELP, 0 },
	{ "h", OT_HELP, 0 },
};

static bool takes_value(enum otype t)
{
	return t == OT_VAL_P || t == OT_DUP_S || t == OT_PORT_P || t == OT_INTERVAL_S;
}

/* Applies option o (written a, with its value val, or NULL) to the spec or
 * the pending options.  Returns 0, 1 for --help, or -1 with err. */
static int apply_opt(const struct opt *o, const char *a, const char *val, struct amb_spec *s,
		     struct pending *p, struct lg_error *err)
{
	void *sf = (char *)s + o->off, *pf = (char *)p + o->off;
	char *end;
	double d;
	bool b;

	switch (o->type) {
	case OT_VAL_P:
		*(const char **)pf = val;
		return 0;
	case OT_BOOL_P:
	case OT_BOOL_S:
		if (parse_bool(val, &b) < 0)
			return lg_error_set(err, NULL, 0, 0, "%s: expected true or false", a);
		*(bool *)(o->type == OT_BOOL_P ? pf : sf) = b;
		return 0;
	case OT_DUP_S:
		free(*(char **)sf);
		*(char **)sf = xstrdup(val);
		return 0;
	case OT_PORT_P:
		if ((*(int *)pf = amb_port_parse(val)) < 0)
			return lg_error_set(err, NULL, 0, 0, "--%s %s: not a port", o->name, val);
		return 0;
	case OT_INTERVAL_S:
		d = strtod(val, &end);
		if (*end || !(d >= 0.05 && d <= 3600))
			return lg_error_set(err, NULL, 0, 0, "--%s %s: seconds between 0.05 and 3600", o->name, val);
		*(double *)sf = d;
		return 0;
	case OT_HELP:
		amb_usage(stdout);
		return 1;
	}
	return -1;
}

/* The etcd address when --etcd is not given: the first of
 * ETCDCTL_ENDPOINTS, else the local default. */
static char *default_etcd(void)
{
	const char *e = getenv("ETCDCTL_ENDPOINTS");
	if (e && *e) {
		size_t n = strcspn(e, ",");
		return strndup(e, n);
	}
	return xstrdup("127.0.0.1:2379");
}

int amb_args_parse(int argc, char **argv, struct amb_spec *s, struct lg_error *err)
{
	struct pending p = { 0 };
	bool positional_only = false, cred_val;
	struct lg_error e2;
	int rc;

	amb_creds_init(&p.creds);
	memset(s, 0, sizeof *s);
	s->srv_min_interval = 0.25;
	/* Unit files of the originals name their program first
	 * ("crewjam/ambassador /bin/ambassador --etcd-prefix=..."); with the
	 * image's entrypoint it arrives here as an argument: skip it. */
	if (argc > 1) {
		const char *base = strrchr(argv[1], '/');
		base = base ? base + 1 : argv[1];
		if (strcmp(base, "ambassador") == 0 || strcmp(base, "ambassadord") == 0) {
			argc--;
			argv++;
		}
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *name, *val = NULL, *eq;
		const struct opt *o = NULL;
		size_t nlen;

		if (positional_only || a[0] != '-' || a[1] == '\0') {
			if (parse_backend(s, a, err) < 0)
				goto fail;
			p.backend_seen = true;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			positional_only = true;
			continue;
		}
		name = a + (a[1] == '-' ? 2 : 1);
		eq = strchr(name, '=');
		nlen = eq ? (size_t)(eq - name) : strlen(name);
		for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++)
			if (strlen(opts[k].name) == nlen && strncmp(opts[k].name, name, nlen) == 0)
				o = &opts[k];
		if (!o && amb_creds_is_option(name, nlen, &cred_val)) {
			char cname[32];
			struct amb_creds *c = p.backend_seen ? &s->fwd[s->nfwd - 1].creds : &p.creds;
			if (eq)
				val = eq + 1;
			else if (cred_val) {
				if (i + 1 >= argc) {
					lg_error_set(err, NULL, 0, 0, "%s needs a value", a);
					goto fail;
				}
				val = argv[++i];
			}
			snprintf(cname, sizeof cname, "%.*s", (int)nlen, name);
			if (amb_creds_set(c, cname, val, err) < 0)
				goto fail;
			continue;
		}
		if (!o) {
			lg_error_set(err, NULL, 0, 0, "unknown option %s", a);
			goto fail;
		}
		if (eq)
			val = eq + 1;
		else if (takes_value(o->type)) {
			if (i + 1 >= argc) {
				lg_error_set(err, NULL, 0, 0, "%s needs a value", a);
				goto fail;
			}
			val = argv[++i];
		}
		if ((rc = apply_opt(o, a, val, s, &p, err)) != 0) {
			amb_creds_free(&p.creds);
			return rc;
		}
	}
	if (p.prefix) {
		struct amb_forward *f;
		size_t plen;
		char host[AMB_HOST_MAX + 1], addr[AMB_HOST_MAX + 16];
		int eport;
		char *ea = p.etcd ? xstrdup(p.etcd) : default_etcd();
		const char *bare = ea;

		if (p.port == 0) {
			free(ea);
			lg_error_set(err, NULL, 0, 0, "--etcd-prefix needs --port");
			goto fail;
		}
		if (strncmp(bare, "http://", 7) == 0)
			bare += 7;
		if (amb_addr_parse(bare, 2379, host, &eport, &e2) < 0) {
			lg_error_set(err, NULL, 0, 0, "--etcd %s: %s", ea, e2.text);
			free(ea);
			goto fail;
		}
		free(ea);
		while (*p.prefix == '/')
			p.prefix++;
		plen = strlen(p.prefix);
		while (plen > 0 && p.prefix[plen - 1] == '/')
			plen--;
		if (plen == 0) {
			lg_error_set(err, NULL, 0, 0, "--etcd-prefix: empty");
			goto fail;
		}
		f = new_forward(s, AMB_CREWJAM, "--etcd-prefix");
		f->store = AMB_ETCD;
		snprintf(addr, sizeof addr, amb_host_is_v6(host) ? "[%s]:%d" : "%s:%d", host, eport);
		f->store_addr = xstrdup(addr);
		f->path = strndup(p.prefix, plen);
		f->port = p.port;
		f->bind_port = p.port;
		f->master_only = p.master_only;
		f->public_ip = p.public_ip;
	} else if (p.port || p.master_only || p.public_ip || p.etcd) {
		lg_error_set(err, NULL, 0, 0, "--port, --master-only, --public and --etcd go with --etcd-prefix");
		goto fail;
	}
	if (p.links && parse_links(s, err) < 0)
		goto fail;
	if (s->omni) {
		if (s->nfwd > 0) {
			lg_error_set(err, NULL, 0, 0, "--omnimode: the backends come from the containers' "
				     "BACKEND_<PORT> variables, not from %s", s->fwd[0].arg);
			goto fail;
		}
		/* The one listener, with the defaults every container's
		 * backends get (their credentials included). */
		new_forward(s, AMB_STATIC, "--omnimode");
		s->fwd[0].bind_port = AMB_DEFAULT_PORT;
		if (!s->docker) {
			const char *dh = getenv("DOCKER_HOST");
			s->docker = xstrdup(dh && *dh ? dh : "unix:///var/run/docker.sock");
		}
		if (strncmp(s->docker, "unix://", 7) != 0 || !s->docker[7]) {
			lg_error_set(err, NULL, 0, 0, "--docker %s: expected unix:///PATH (the engine's socket)", s->docker);
			goto fail;
		}
	} else if (s->setup_iptables || s->docker) {
		lg_error_set(err, NULL, 0, 0, "--setup-iptables and --docker go with --omnimode");
		goto fail;
	}
	if (s->nfwd == 0) {
		lg_error_set(err, NULL, 0, 0, "nothing to proxy: give a BACKEND, --etcd-prefix or --links");
		goto fail;
	}
	if (p.listen) {
		char host[AMB_HOST_MAX + 1];
		int lp;
		if (s->nfwd > 1) {
			lg_error_set(err, NULL, 0, 0, "--listen: there are %zu forwards; it takes one", s->nfwd);
			goto fail;
		}
		if (amb_port_parse(p.listen) > 0) {
			host[0] = '\0';
			lp = amb_port_parse(p.listen);
		} else if (p.listen[strspn(p.listen, "0123456789")] == '\0') {
			/* Only digits: a port, but not one that exists. */
			lg_error_set(err, NULL, 0, 0, "--listen \"%.20s\": not a port (1 to 65535)", p.listen);
			return -1;
		} else if (amb_addr_parse(p.listen, 0, host, &lp, &e2) < 0) {
			lg_error_set(err, NULL, 0, 0, "--listen: %s", e2.text);
			goto fail;
		}
		snprintf(s->fwd[0].bind_addr, sizeof s->fwd[0].bind_addr, "%s", host);
		s->fwd[0].bind_port = lp;
	}
	for (size_t i = 0; i < s->nfwd; i++)
		for (size_t k = i + 1; k < s->nfwd; k++)
			if (s->fwd[i].bind_port == s->fwd[k].bind_port) {
				lg_error_set(err, NULL, 0, 0, "%s and %s would both listen on port %d",
					 s->fwd[i].arg, s->fwd[k].arg, s->fwd[i].bind_port);
				goto fail;
			}
	if (!s->run_dir)
		s->run_dir = xstrdup("/run/legate-ambassador");
	if (!s->haproxy)
		s->haproxy = xstrdup("haproxy");
	for (size_t i = 0; i < s->nfwd; i++) {
		if (amb_creds_merge(&s->fwd[i].creds, &p.creds) < 0) {
			lg_error_set(err, NULL, 0, 0, "out of memory");
			goto fail;
		}
		if (amb_creds_check(&s->fwd[i].creds, s->fwd[i].arg, err) < 0)
			goto fail;
	}
	amb_creds_free(&p.creds);
	return 0;
fail:
	amb_creds_free(&p.creds);
	return -1;
}

void amb_spec_free(struct amb_spec *s)
{
	for (size_t i = 0; i < s->nfwd; i++)
		amb_forward_free(&s->fwd[i]);
	free(s->fwd);
	free(s->docker);
	free(s->dns_server);
	free(s->run_dir);
	free(s->haproxy);
	free(s->log_level);
	memset(s, 0, sizeof *s);
}
