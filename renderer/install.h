/* install: puts a rendered file in place so that readers only ever see the
 * old file or the new one: stage next to the destination, fsync, check,
 * rename over it, fsync the directory. */
#ifndef LEGATE_INSTALL_H
#define LEGATE_INSTALL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

struct install_opts {
	const char *dest;
	int perms;          /* -1: the destination's mode, or 0644 for a new file */
	uid_t uid;          /* (uid_t)-1: the destination's owner, or the caller */
	gid_t gid;          /* (gid_t)-1: likewise */
	bool backup;        /* keep the replaced file as DEST.bak */
	bool create_dirs;   /* create missing parent directories (0755) */
};

/* A staged file: written, fsynced, with its final mode and owner, waiting
 * in the destination's directory under a hidden temporary name. */
struct install_staged {
	char path[4096];
	bool active;
};

/* Errors name the path and the failing call in their text. */

/* Returns 1 when dest holds exactly data[0..len), 0 when it differs or does
 * not exist, -1 (err filled) when it cannot be read. */
int install_same(const char *dest, const char *data, size_t len, struct lg_error *err);

/* Writes data to a new temporary file beside o->dest.  Returns 0 with *st
 * active, or -1 with err filled and nothing left behind. */
int install_stage(const struct install_opts *o, const char *data, size_t len,
		  struct install_staged *st, struct lg_error *err);

/* Renames the staged file over o->dest (after linking the old one to
 * DEST.bak when o->backup) and fsyncs the directory.  Returns 0, or -1 with
 * err filled; the staged file is removed either way. */
int install_commit(const struct install_opts *o, struct install_staged *st,
		   struct lg_error *err);

/* Removes a staged file that will not be installed; a no-op when inactive. */
void install_abort(struct install_staged *st);

#endif
