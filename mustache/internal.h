/* mustache/internal: the compiled form of a template, shared by the
 * compiler, the renderer and the partial cache; nothing outside mustache/
 * includes it. */
#ifndef LEGATE_MUSTACHE_INT_H
#define LEGATE_MUSTACHE_INT_H

#include <stdarg.h>
#include <stdint.h>

#include "mustache/mustache.h"
#include "common/error.h"

enum mu_op {
	MU_TEXT,      /* text: pool[a .. a+b) */
	MU_VAR,       /* {{name}}: escaped */
	MU_RAW,       /* {{{name}}} {{&name}} */
	MU_SECTION,   /* {{#name}} children {{/name}} */
	MU_INVERTED,  /* {{^name}} */
	MU_PARTIAL,   /* {{>name}} {{>*name}} */
	MU_PARENT,    /* {{<name}} blocks {{/name}} */
	MU_BLOCK      /* {{$name}} default {{/name}} */
};

struct mu_node {
	uint8_t op;
	uint8_t dynamic;     /* PARTIAL/PARENT: name is looked up for the real name */
	uint8_t standalone;  /* the tag stood alone on its line */
	uint32_t a, b;       /* TEXT: pool offset, length; tags: a = name index */
	uint32_t next;       /* index of the node after this one's children */
	uint32_t line, col;
	uint32_t ind, ind_len;   /* PARTIAL/PARENT: indentation (pool);
				  * BLOCK: indentation where it expands */
	uint32_t strip;      /* BLOCK: indentation its content drops as an argument */
};

/* The extensions a name may carry (see the README, "Template extensions"):
 * NAME[|filter[:arg]...][OP[!]VALUE], NAME.* and names with [ref] parts. */
enum mu_test { MT_NONE, MT_EQ, MT_LT, MT_LE, MT_GT, MT_GE };
enum mu_special { MS_NONE, MS_KEY, MS_INDEX, MS_FIRST, MS_LAST };
enum mu_fn { MF_LOWER, MF_UPPER, MF_REPLACE, MF_TRIMPREFIX, MF_TRIMSUFFIX, MF_SPLIT,
	     MF_JOIN, MF_FORMAT, MF_DEFAULT };

struct mu_filter {
	uint8_t fn;          /* enum mu_fn */
	uint32_t a, alen;    /* arguments (pool, NUL-terminated) */
	uint32_t b, blen;
};

struct mu_name {
	uint32_t full;       /* pool offset of the NUL-terminated name (the path
			      * only: no filters, test or trailing ".*") */
	uint32_t len;
	uint32_t seg;        /* first entry in segs */
	uint32_t nseg;       /* 0 for "." */
	uint8_t ext;         /* any of the fields below is set: the slow path */
	uint8_t test;        /* enum mu_test */
	uint8_t neg;         /* OP! : the test's result inverted */
	uint8_t iter;        /* NAME.* : a section iterates the object's members */
	uint8_t special;     /* enum mu_special: {{*}} {{@index}} {{@first}} {{@last}} */
	uint8_t length;      /* the last segment is "length": a list's size */
	uint8_t dyn;         /* the path has [ref] parts: refs names follow this one */
	uint8_t nref;
	uint32_t val, vlen;  /* the test's value (pool) */
	uint32_t filt, nfilt;  /* entries in filters */
};

struct mustache_tpl {
	char *name;
	struct mu_node *nodes;
	uint32_t nnodes;
	struct mu_name *names;
	uint32_t nnames;
	struct mustache_seg *segs;   /* point into pool */
	uint32_t nsegs;
	struct mu_filter *filters;
	uint32_t nfilters;
	char *pool;                  /* text, indentation, names */
	size_t pool_len;
};

/* Sets err (template name, place, printf-style text); always returns -1. */
int mu_err(struct lg_error *err, const char *tpl, unsigned line, unsigned col,
	   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The partial named name (len bytes) from env: 0 with *out set (NULL when
 * missing; a warning is logged once unless strict, where it is an error), or
 * -1 with err filled (bad name, unreadable file, compile error).  The
 * caller's place (tpl, line, col) goes into messages. */
int mu_env_partial(struct mustache_env *env, const char *name, size_t len, int strict,
		   const char *tpl, unsigned line, unsigned col,
		   const struct mustache_tpl **out, struct lg_error *err);

#endif
