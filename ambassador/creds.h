/* creds: the credentials one forward presents to its backends on the
 * application's behalf (TLS with a CA, a client certificate and a server
 * name; Redis AUTH and SELECT), read from files or the environment, and
 * what they become in the HAProxy config. */
#ifndef LEGATE_AMB_CREDS_H
#define LEGATE_AMB_CREDS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/error.h"

/* As given on the command line; NULL or -1 is "not given", so that a
 * forward's own options can be merged over the defaults. */
struct amb_creds {
	int tls;                 /* -1, 0, 1: TLS to the backends */
	char *ca, *cert, *key;   /* PATH or env:NAME (PEM) */
	char *server_name;       /* SNI, and the name the certificate must carry */
	int verify;              /* -1, 0 (none), 1 (required) */
	char *auth;              /* the protocol credentials are added for: "redis" */
	char *user, *password;   /* password: SECRET, env:NAME or file:PATH */
	int db;                  /* -1, or the Redis database to SELECT */
};

/* The credentials' part of a forward's HAProxy config, made by
 * amb_creds_prepare: options for each server line, lines for the listen
 * section, and the Lua file the global section loads (or NULL). */
struct amb_creds_cfg {
	char *server_opts;       /* "" when there are none */
	char **lines;            /* NULL-terminated */
	const char *lua;         /* borrowed from the caller of prepare */
	bool secret;             /* the config holds a secret: mode 0600 */
};

/* Marks c as all "not given". */
void amb_creds_init(struct amb_creds *c);

void amb_creds_free(struct amb_creds *c);

/* True when name (nlen bytes, without dashes) is a credentials option;
 * *takes_value says whether it takes a value. */
bool amb_creds_is_option(const char *name, size_t nlen, bool *takes_value);

/* Sets option name (a credentials option) to val (NULL for a flag given
 * bare) in c.  Returns 0, or -1 with err filled (caller-owned). */
int amb_creds_set(struct amb_creds *c, const char *name, const char *val, struct lg_error *err);

/* Fills what c leaves unset from dflt.  Returns 0 or -1 (out of memory). */
int amb_creds_merge(struct amb_creds *c, const struct amb_creds *dflt);

/* Checks that c makes sense on its own (a password needs --auth redis, a
 * protocol legate cannot add credentials for is refused, a key needs a
 * certificate).  what names the forward in the message.  Returns 0 or -1
 * with err filled. */
int amb_creds_check(const struct amb_creds *c, const char *what, struct lg_error *err);

/* Reads c's files and variables and writes what HAProxy must read from
 * files (CA, certificate with its key) into dir as TAG-ca.pem and
 * TAG-crt.pem, mode 0600, unless dry; lua is the path of the Lua file
 * (amb_creds_lua_source) the config is to load.  Fills out
 * (amb_creds_cfg_free frees it).  Returns 0, or -1 with err filled
 * naming the file or variable at fault. */
int amb_creds_prepare(const struct amb_creds *c, const char *dir, const char *tag,
		      const char *lua, bool dry, struct amb_creds_cfg *out, struct lg_error *err);

void amb_creds_cfg_free(struct amb_creds_cfg *cfg);

/* The Lua actions the Redis lines call (legate_redis_auth,
 * legate_redis_reply). */
const char *amb_creds_lua_source(void);

#endif
