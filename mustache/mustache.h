/* mustache: legate's Mustache engine.  A template is compiled once into a
 * flat node array and rendered many times into a struct buf, with data from
 * jansson values and, for names not found in the data, a lookup hook. */
#ifndef LEGATE_MUSTACHE_H
#define LEGATE_MUSTACHE_H

#include <stddef.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/error.h"

/* Every failing call fills a struct lg_error (caller-owned): the template
 * (or partial) name as its source, the 1-based line and column of the tag
 * at fault (0 when the error is not about a place), and the text;
 * lg_error_str() prints it as "template:line:col: text". */

/* How {{name}} is written out.  {{{name}}} and {{&name}} are always raw. */
enum mustache_escape {
	MUSTACHE_ESCAPE_HTML,   /* & < > " ' become entities (the spec's default) */
	MUSTACHE_ESCAPE_NONE,   /* written as is */
	MUSTACHE_ESCAPE_CONFIG  /* written as is; a control character is a render error */
};

/* One '.'-separated segment of a name, NUL-terminated. */
struct mustache_seg {
	const char *s;
	size_t len;
};

/* What the lookup hook is asked.  Everything is borrowed for the call. */
struct mustache_lookup {
	const char *name;                 /* the name as written: "key.config/maxconn" */
	size_t nseg;                      /* its segments: "key", "config/maxconn" */
	const struct mustache_seg *seg;
	json_t *const *stack;             /* context stack, [0] the root data (may be */
	size_t depth;                     /* absent: depth 0), [depth-1] innermost */
	const char *template;             /* where the tag is, for messages */
	unsigned line, col;
	int interpolation;                /* 1: {{name}} or {{{name}}} (and the [ref]
					   * parts of its name); 0: a section, an
					   * inverted section, a partial's name or a
					   * name with a |default filter */
};

/* What the hook answers.  value NULL: the name is missing (renders empty,
 * falsy).  consumed: how many segments value stands for, 1..nseg (0 means
 * all); the engine resolves the rest inside value.  owned: 1 if the engine
 * must json_decref(value) when done with it, 0 if value is borrowed and
 * stays valid until the render returns. */
struct mustache_found {
	json_t *value;
	size_t consumed;
	int owned;
};

/* The hook is called when the first segment of a name is found in no
 * context on the stack, so it sees exactly the names a template uses at the
 * root, each time one is resolved.  It must not change values already on
 * the stack or returned earlier in the same render (the renderer keeps
 * positions in them).  Returns 0 (out filled, value may be
 * NULL), or -1 to fail the render with errtext (NUL-terminated, errlen
 * bytes available) as the message. */
typedef int (*mustache_lookup_fn)(void *ud, const struct mustache_lookup *q,
				  struct mustache_found *out, char *errtext, size_t errlen);

/* Render options.  mustache_opts_init() fills the defaults noted here. */
struct mustache_opts {
	enum mustache_escape escape;   /* MUSTACHE_ESCAPE_HTML */
	int strict;                    /* 0: a missing partial renders empty, with a warning */
	unsigned max_depth;            /* 100: sections + partials nested at render (1000 at most) */
	size_t max_output;             /* 64 MiB */
	unsigned long max_steps;       /* 100000000 nodes visited per render */
	mustache_lookup_fn lookup;     /* NULL */
	void *lookup_ud;
	int missing_error;             /* 0: an interpolated name with no value renders
					* empty; 1: it fails the render (sections
					* still test presence, and |default gives a
					* value).  A name the hook answers with no
					* value is the hook's call. */
};

#define MUSTACHE_MAX_NESTING 100        /* sections nested in one template */
#define MUSTACHE_MAX_SOURCE ((size_t)16 << 20)

void mustache_opts_init(struct mustache_opts *o);

struct mustache_tpl;

/* Compiles src (len bytes, NUL not needed) under the given name (copied,
 * used in messages).  Returns a template the caller frees with
 * mustache_free(), or NULL with err filled (unclosed or mismatched
 * sections, bad delimiters, nesting deeper than MUSTACHE_MAX_NESTING...). */
struct mustache_tpl *mustache_compile(const char *name, const char *src, size_t len,
				      struct lg_error *err);
void mustache_free(struct mustache_tpl *t);

/* The template's name as given to mustache_compile (borrowed). */
const char *mustache_name(const struct mustache_tpl *t);

/* Calls fn once per tag name in the template (interpolations, sections,
 * partials, dynamic names), in source order, duplicates included: what a
 * template could use, without rendering it.  A name is given as it is
 * looked up (no filters, test or ".*"); a name with [ref] parts is
 * followed by its refs.  kind is the tag's sigil ('#', '^', '>', '<',
 * '$', '&' or 0 for {{name}}). */
void mustache_foreach_name(const struct mustache_tpl *t,
			   void (*fn)(void *ud, const char *name, int kind), void *ud);

/* One tag as mustache_foreach_tag() reports it (borrowed for the call). */
struct mustache_tag {
	const char *name;    /* the name it looks up: no filters, test or ".*" */
	int kind;            /* as for mustache_foreach_name */
	unsigned line, col;
	unsigned depth;      /* sections around it (0: at the template's root) */
	unsigned contexts;   /* of those, the ones that may give it a context at
			      * render ({{#name}}, and {{<parent}} whose
			      * blocks a partial places); 0: it is looked up
			      * with no context */
	int ref;             /* 1: a [ref] part of the name reported just before */
	int built;           /* 1: the name has [ref] parts, resolved at render */
};

/* Like mustache_foreach_name, with each tag's place and nesting, and the
 * [ref] parts of names built at render reported after their name. */
void mustache_foreach_tag(const struct mustache_tpl *t,
			  void (*fn)(void *ud, const struct mustache_tag *tag), void *ud);

/* Where partials come from: templates added from memory, then files in a
 * directory (NAME.mustache, then NAME).  Partials are compiled on first use
 * and cached in the env, so the env is not safe to share between threads. */
struct mustache_env;

struct mustache_env *mustache_env_new(void);
void mustache_env_free(struct mustache_env *env);

/* Adds (or replaces) an in-memory partial; src is copied.  0 or -1 (err). */
int mustache_env_add_partial(struct mustache_env *env, const char *name,
			     const char *src, size_t len, struct lg_error *err);

/* Looks up partials not added from memory in dir (copied; NULL: none). */
int mustache_env_set_dir(struct mustache_env *env, const char *dir);

/* Renders t with data (borrowed; may be NULL when a hook supplies every
 * name) and appends the result to out.  env may be NULL (no partials).
 * Returns 0, or -1 with err filled; on -1, out holds a partial result the
 * caller should discard. */
int mustache_render(struct mustache_env *env, const struct mustache_tpl *t, json_t *data,
		    const struct mustache_opts *opts, struct buf *out,
		    struct lg_error *err);

/* Parses "html", "none" or "config"; 0 or -1. */
int mustache_escape_parse(const char *s, enum mustache_escape *out);

#endif
