/* cfg: what legate knows of an HAProxy configuration file: the server lines
 * of each backend (and listen) section, with the options HAProxy's runtime
 * API can reproduce, and everything else as one normalized text.  Two
 * configurations are compared to decide between runtime changes (only
 * server lines differ) and a reload (anything else). */
#ifndef LEGATE_HAP_CFG_H
#define LEGATE_HAP_CFG_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

struct hap_server {
	char *name;
	char *host;          /* the address without port or ipv4@/ipv6@ prefix */
	char *port;          /* digits, or "" when the line gives none */
	char **args;         /* the tokens after the address, as written */
	size_t nargs;
	char *opts;          /* args minus weight/disabled/enabled, space-joined: what must match */
	int weight;          /* from "weight" (last wins), else 1 */
	bool disabled;       /* "disabled" (last of disabled/enabled wins) */
	bool ip;             /* host is an IPv4 or IPv6 literal */
	const char *no_runtime;   /* NULL, or why "add server" cannot reproduce it */
	int line;
};

struct hap_backend {
	char *name;
	bool listen;               /* a listen section (frontend and backend) */
	struct hap_server *srv;
	size_t nsrv;
	char **dflt;               /* default-server tokens in effect: defaults', then its own */
	size_t ndflt;
	const char *no_runtime;    /* NULL, or why servers cannot be added at run time */
	struct hap_server **by_name;   /* srv sorted by name, for lookups */
};

#define HAP_CFG_MAX ((size_t)64 << 20)

struct hap_cfg {
	struct buf skeleton;       /* every other line, comments dropped, spaces collapsed */
	struct hap_backend *be;
	size_t nbe;
	struct hap_backend **be_by_name;   /* be sorted by name, for lookups */
};

/* Parses an HAProxy configuration.  Never fails on content (what it does
 * not understand stays in the skeleton, where any change to it means a
 * reload); returns NULL only when memory runs out. */
struct hap_cfg *hap_cfg_parse(const char *text, size_t len);

void hap_cfg_free(struct hap_cfg *c);

/* The backend named name, or NULL (a binary search). */
const struct hap_backend *hap_cfg_backend(const struct hap_cfg *c, const char *name);

/* The server name in b, or NULL (a binary search). */
const struct hap_server *hap_backend_server(const struct hap_backend *b, const char *name);

enum hap_op_type {
	HAP_OP_ADD,          /* add server, enable health/agent, then ready unless disabled */
	HAP_OP_DEL,          /* maintenance (no new connection), drain, then del server */
	HAP_OP_ADDR,         /* set server addr/port */
	HAP_OP_WEIGHT,
	HAP_OP_STATE,        /* ready or maint, from "disabled" */
};

struct hap_op {
	enum hap_op_type type;
	const struct hap_backend *be;   /* in the new configuration (the old one for DEL) */
	const struct hap_server *srv;   /* likewise */
};

enum hap_plan_kind { HAP_SAME, HAP_RUNTIME, HAP_RELOAD };

/* What it takes to go from one configuration to the next.  ops point into
 * both configurations, which must outlive the plan. */
struct hap_plan {
	enum hap_plan_kind kind;
	char why[256];       /* HAP_RELOAD: the first difference the runtime API cannot apply */
	struct hap_op *ops;
	size_t nops;
	size_t added, removed, changed;
};

/* Compares the configuration HAProxy runs (from; NULL when unknown) with
 * the next one.  Returns 0 with *plan filled (free with hap_plan_free), or
 * -1 when memory runs out. */
int hap_cfg_diff(const struct hap_cfg *from, const struct hap_cfg *to, struct hap_plan *plan);

void hap_plan_free(struct hap_plan *plan);

/* The "add server" command line for s in b (default-server options first,
 * as HAProxy does not apply them to servers added at run time), appended
 * to out.  Returns 0 or -1 (out of memory). */
int hap_add_command(const struct hap_backend *b, const struct hap_server *s, struct buf *out);

/* True when the effective options of s in b hold the keyword kw
 * ("check", "agent-check"). */
bool hap_server_has(const struct hap_backend *b, const struct hap_server *s, const char *kw);

/* The address as "host:port" (IPv6 in brackets), for logs. */
void hap_server_addr(const struct hap_server *s, char *dst, size_t n);

#endif
