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
	return f;
}

/* "HOST:PORT/PATH" after the scheme of etcd:// or consul://. */
static int parse_kv(struct amb_spec *s, const char *arg, enum amb_store store,
		    const char *rest, struct lg_error *err)
{
	const char *slash = strchr(rest, '/');
	char host[AMB_HOST_MAX + 1], addr[AMB_HOST_MAX + 16];
	struct lg_error e2;
	struct amb_forward *f;
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
	f = new_forward(s, AMB_KV, arg);
	f->store = store;
	snprintf(addr, sizeof addr, amb_host_is_v6(host) ? "[%s]:%d" : "%s:%d", host, port);
	f->store_addr = xstrdup(addr);
	f->path = strndup(slash, plen);
	f->bind_port = AMB_DEFAULT_PORT;
	return f->path ? 0 : -1;
}

/* A positional BACKEND argument. */
static int parse_backend(struct amb_spec *s, const char *arg, struct lg_error *err)
{
	char host[AMB_HOST_MAX + 1];
	struct lg_error e2;
	struct amb_forward *f;
	int port;

	if (strncmp(arg, "etcd://", 7) == 0)
		return parse_kv(s, arg, AMB_ETCD, arg + 7, err);
	if (strncmp(arg, "consul://", 9) == 0)
		return parse_kv(s, arg, AMB_CONSUL, arg + 9, err);
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
		f = new_forward(s, AMB_SRV, arg);
		f->srv_name = xstrdup(host);
		f->bind_port = AMB_DEFAULT_PORT;
		return 0;
	}
	f = new_forward(s, AMB_STATIC, arg);
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

enum opt_id {
	O_ETCD_PREFIX, O_PORT, O_MASTER_ONLY, O_PUBLIC, O_ETCD, O_LINKS, O_OMNI, O_IPTABLES,
	O_LISTEN, O_ETCD_V2, O_DNS, O_SRV_INTERVAL, O_RUN_DIR, O_HAPROXY, O_PRINT, O_LOG_LEVEL, O_HELP,
};

static const struct opt {
	const char *name;
	enum opt_id id;
	bool value;      /* takes a value (booleans take an optional "=true|false") */
} opts[] = {
	{ "etcd-prefix", O_ETCD_PREFIX, true }, { "port", O_PORT, true },
	{ "master-only", O_MASTER_ONLY, false }, { "public", O_PUBLIC, false },
	{ "etcd", O_ETCD, true }, { "links", O_LINKS, false },
	{ "omnimode", O_OMNI, false }, { "setup-iptables", O_IPTABLES, false },
	{ "listen", O_LISTEN, true }, { "etcd-v2", O_ETCD_V2, false }, { "dns", O_DNS, true },
	{ "srv-interval", O_SRV_INTERVAL, true }, { "run-dir", O_RUN_DIR, true },
	{ "haproxy", O_HAPROXY, true }, { "print-config", O_PRINT, false },
	{ "log-level", O_LOG_LEVEL, true }, { "help", O_HELP, false }, { "h", O_HELP, false },
};

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
	const char *prefix = NULL, *etcd = NULL, *listen = NULL;
	int port = 0;
	bool master_only = false, public_ip = false, links = false, positional_only = false;
	struct lg_error e2;

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
		bool b = false;

		if (positional_only || a[0] != '-' || a[1] == '\0') {
			if (parse_backend(s, a, err) < 0)
				return -1;
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
		if (!o) {
			lg_error_set(err, NULL, 0, 0, "unknown option %s", a);
			return -1;
		}
		if (eq)
			val = eq + 1;
		else if (o->value) {
			if (i + 1 >= argc) {
				lg_error_set(err, NULL, 0, 0, "%s needs a value", a);
				return -1;
			}
			val = argv[++i];
		}
		if (!o->value && parse_bool(val, &b) < 0) {
			lg_error_set(err, NULL, 0, 0, "%s: expected true or false", a);
			return -1;
		}
		switch (o->id) {
		case O_ETCD_PREFIX: prefix = val; break;
		case O_PORT:
			if ((port = amb_port_parse(val)) < 0) {
				lg_error_set(err, NULL, 0, 0, "--port %s: not a port", val);
				return -1;
			}
			break;
		case O_MASTER_ONLY: master_only = b; break;
		case O_PUBLIC: public_ip = b; break;
		case O_ETCD: etcd = val; break;
		case O_LINKS: links = b; break;
		case O_OMNI:
		case O_IPTABLES:
			lg_error_set(err, NULL, 0, 0, "%s: omni mode (iptables) is not supported", a);
			return -1;
		case O_LISTEN: listen = val; break;
		case O_ETCD_V2: s->etcd_v2 = b; break;
		case O_DNS:
			free(s->dns_server);
			s->dns_server = xstrdup(val);
			break;
		case O_SRV_INTERVAL: {
			char *end;
			double d = strtod(val, &end);
			if (*end || !(d >= 0.05 && d <= 3600)) {
				lg_error_set(err, NULL, 0, 0, "--srv-interval %s: seconds between 0.05 and 3600", val);
				return -1;
			}
			s->srv_min_interval = d;
			break;
		}
		case O_RUN_DIR:
			free(s->run_dir);
			s->run_dir = xstrdup(val);
			break;
		case O_HAPROXY:
			free(s->haproxy);
			s->haproxy = xstrdup(val);
			break;
		case O_PRINT: s->print_config = b; break;
		case O_LOG_LEVEL:
			free(s->log_level);
			s->log_level = xstrdup(val);
			break;
		case O_HELP:
			amb_usage(stdout);
			return 1;
		}
	}
	if (prefix) {
		struct amb_forward *f;
		size_t plen;
		char host[AMB_HOST_MAX + 1], addr[AMB_HOST_MAX + 16];
		int eport;
		char *ea = etcd ? xstrdup(etcd) : default_etcd();
		const char *bare = ea;

		if (port == 0) {
			free(ea);
			lg_error_set(err, NULL, 0, 0, "--etcd-prefix needs --port");
			return -1;
		}
		if (strncmp(bare, "http://", 7) == 0)
			bare += 7;
		if (amb_addr_parse(bare, 2379, host, &eport, &e2) < 0) {
			lg_error_set(err, NULL, 0, 0, "--etcd %s: %s", ea, e2.text);
			free(ea);
			return -1;
		}
		free(ea);
		while (*prefix == '/')
			prefix++;
		plen = strlen(prefix);
		while (plen > 0 && prefix[plen - 1] == '/')
			plen--;
		if (plen == 0) {
			lg_error_set(err, NULL, 0, 0, "--etcd-prefix: empty");
			return -1;
		}
		f = new_forward(s, AMB_CREWJAM, "--etcd-prefix");
		f->store = AMB_ETCD;
		snprintf(addr, sizeof addr, amb_host_is_v6(host) ? "[%s]:%d" : "%s:%d", host, eport);
		f->store_addr = xstrdup(addr);
		f->path = strndup(prefix, plen);
		f->port = port;
		f->bind_port = port;
		f->master_only = master_only;
		f->public_ip = public_ip;
	} else if (port || master_only || public_ip || etcd) {
		lg_error_set(err, NULL, 0, 0, "--port, --master-only, --public and --etcd go with --etcd-prefix");
		return -1;
	}
	if (links && parse_links(s, err) < 0)
		return -1;
	if (s->nfwd == 0) {
		lg_error_set(err, NULL, 0, 0, "nothing to proxy: give a BACKEND, --etcd-prefix or --links");
		return -1;
	}
	if (listen) {
		char host[AMB_HOST_MAX + 1];
		int lp;
		if (s->nfwd > 1) {
			lg_error_set(err, NULL, 0, 0, "--listen: there are %zu forwards; it takes one", s->nfwd);
			return -1;
		}
		if (amb_port_parse(listen) > 0) {
			host[0] = '\0';
			lp = amb_port_parse(listen);
		} else if (amb_addr_parse(listen, 0, host, &lp, &e2) < 0) {
			lg_error_set(err, NULL, 0, 0, "--listen: %s", e2.text);
			return -1;
		}
		snprintf(s->fwd[0].bind_addr, sizeof s->fwd[0].bind_addr, "%s", host);
		s->fwd[0].bind_port = lp;
	}
	for (size_t i = 0; i < s->nfwd; i++)
		for (size_t k = i + 1; k < s->nfwd; k++)
			if (s->fwd[i].bind_port == s->fwd[k].bind_port) {
				lg_error_set(err, NULL, 0, 0, "%s and %s would both listen on port %d",
					 s->fwd[i].arg, s->fwd[k].arg, s->fwd[i].bind_port);
				return -1;
			}
	if (!s->run_dir)
		s->run_dir = xstrdup("/run/legate-ambassador");
	if (!s->haproxy)
		s->haproxy = xstrdup("haproxy");
	return 0;
}

void amb_spec_free(struct amb_spec *s)
{
	for (size_t i = 0; i < s->nfwd; i++) {
		struct amb_forward *f = &s->fwd[i];
		free(f->arg);
		amb_list_free(&f->hosts);
		free(f->srv_name);
		free(f->store_addr);
		free(f->path);
	}
	free(s->fwd);
	free(s->dns_server);
	free(s->run_dir);
	free(s->haproxy);
	free(s->log_level);
	memset(s, 0, sizeof *s);
}
