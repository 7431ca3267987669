/* conf_int: the supervisord.conf reader's internals shared by its files:
 * the arenas, the sections and entries the lexer cuts a file into, and the
 * program loader the key table (confkeys.c) fills. */
#ifndef LEGATE_INIT_CONF_INT_H
#define LEGATE_INIT_CONF_INT_H

#include "init/conf.h"

#include <limits.h>
#include <stddef.h>

/* One allocation of an arena; an arena is a list of them, newest first. */
struct conf_blk {
	struct conf_blk *next;
	max_align_t data[];
};

struct conf_section {
	char *name;
	const char *file;
	int line;
};

struct conf_entry {
	int sec;                  /* index into the parser's sections */
	const char *file;
	char *key;                /* lower case */
	char *val;                /* as written; expanded when its section loads */
	int line;
	bool dead;                /* set again later in the same section */
};

struct conf_parser {
	const char *path;         /* the file being read or checked now */
	char here[PATH_MAX];      /* %(here)s: the main file's directory */
	struct conf_error *err;
	struct conf_blk *arena;   /* the conf's own arena */
	struct conf_blk **cur;    /* where allocations go now: &arena or a program's */
	struct conf_section *secs;
	int nsecs, capsecs;
	struct conf_entry *ents;
	int nents, capents;
	const char *sock;         /* the control socket, for LEGATE_INIT_SOCKET */
	char **global_env;        /* [supervisord] environment=, or NULL */
	const char *global_env_text;
};

/* What loading one program collects besides the prog_conf itself. */
struct conf_prog_load {
	struct prog_conf *p;
	char **env_add;           /* environment= */
	bool has_command;
	bool has_events;
};

/* What the global sections say about the control socket. */
struct conf_globals {
	const char *ctl_socket;   /* [supervisord] ctl_socket= */
	const char *http_file;    /* [unix_http_server] file= */
};

/* Memory from the current arena, zeroed; NULL when out of memory. */
void *conf_alloc(struct conf_parser *ps, size_t n);
char *conf_strdup(struct conf_parser *ps, const char *s);

/* Frees an arena (a list of blocks). */
void conf_arena_free(struct conf_blk *b);

/* Fills ps->err with the current file, line and message; returns -1. */
int conf_fail(struct conf_parser *ps, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Applies one [program:] or [eventlistener:] entry e (already expanded)
 * through the key table.  Returns 0, or -1 with ps->err filled. */
int conf_program_key(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e);

/* Expands %(...)s in in (see cv_expand) into the current arena; prog
 * names the program for %(program_name)s, NULL outside one.  Returns NULL
 * with ps->err filled on failure. */
char *conf_expand(struct conf_parser *ps, const char *in, const char *prog, int line);

/* The live entries of section sec, expanded for program prog (NULL
 * outside one), one after another: *i starts at -1.  NULL at the end, or
 * with ps->err filled when an expansion fails. */
struct conf_entry *conf_next_entry(struct conf_parser *ps, int sec, int *i, const char *prog);

#define CONF_FOREACH_ENTRY(ps, sec, e, prog, i) \
	for (int i = -1; ((e) = conf_next_entry(ps, sec, &i, prog)) != NULL;)

/* True for [program:NAME] and [eventlistener:NAME]. */
bool conf_is_program_section(const char *name);

/* Reads the global sections (confglobal.c) into c and g, warns about the
 * sections it does not use, counts the programs into *np; inc is the
 * [include] section or -1.  Returns 0 or -1. */
int conf_load_globals(struct conf_parser *ps, struct conf *c, struct conf_globals *g, int inc, int *np);

/* Cuts one file's text (modified in place) into sections and entries;
 * ps->path names it.  Returns 0 or -1. */
int conf_lex(struct conf_parser *ps, char *text);

/* Reads a whole file (at most 1 MiB); returns malloc'd text, or NULL with
 * *err filled. */
char *conf_read_file(const char *path, struct conf_error *err);

/* Reads the main file path (as conf_read_file) and sets ps->here to its
 * directory, for %(here)s. */
char *conf_read_main(struct conf_parser *ps, const char *path, struct conf_error *err);

/* Reads the files named by the [include] section sec (confinc.c). */
int conf_load_includes(struct conf_parser *ps, int sec);

/* The defaults supervisord gives a program. */
void conf_program_defaults(struct prog_conf *p, bool log_prefix);

/* Parses a comma- or blank-separated list into a NULL-terminated array of
 * strings in the current arena; returns NULL when out of memory. */
char **conf_split_list(struct conf_parser *ps, const char *v, int *n);

#endif
