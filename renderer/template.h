/* template: what the runner needs to know of each template and of the
 * whole run, filled by legate's configuration (flags and HCL files) and
 * borrowed by the runner for as long as it runs. */
#ifndef LEGATE_TEMPLATE_H
#define LEGATE_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "renderer/command.h"

/* A template whose destination is an HAProxy configuration: legate drives
 * that HAProxy (runtime changes, confirmed reloads) instead of a command. */
struct template_haproxy {
	bool enabled;            /* a haproxy {} block was given */
	char *master_socket;     /* required: haproxy -W -S SOCKET */
	char *runtime_socket;    /* a stats socket at level admin; NULL: through the master CLI */
	long drain_timeout_ms;   /* default 30 s */
	long reload_timeout_ms;  /* default 10 s */
	long audit_interval_ms;  /* default 5 s */
	bool runtime;            /* default true; false: every change is a reload */
	char *origin;            /* "FILE:LINE" of the block */
};

struct template_config {
	char *source;            /* template file; NULL when contents is set */
	char *contents;          /* inline template */
	char *destination;       /* NULL with -dry: printed to stdout */
	struct command command;  /* after a successful install */
	long command_timeout_ms; /* default 30 s */
	struct command check;    /* on the staged file; {{.src}} is its path */
	long check_timeout_ms;   /* default 30 s */
	int perms;               /* -1: keep the destination's mode (0644 if new) */
	char *user, *group;      /* owner of the installed file; NULL: unchanged */
	bool backup;             /* keep the previous file as DEST.bak */
	bool create_dest_dirs;   /* default true */
	long wait_min_ms, wait_max_ms;
	bool wait_set;           /* else the global wait applies */
	char *escape;            /* "config" (default), "html" or "none" */
	char *partials_dir;      /* default: the template's directory */
	bool strict;             /* a missing partial is an error (default true) */
	bool error_on_missing_key; /* an interpolated name with no value is a render error */
	struct template_haproxy haproxy;
	char *origin;            /* "FILE:LINE" or "-template flag", for messages */
};

/* The whole run's settings, beside its templates. */
struct runner_settings {
	const struct template_config *templates;
	size_t ntemplates;
	long wait_min_ms, wait_max_ms;   /* quiescence for templates without their own */
	bool once;                       /* -once: report when every template was handled */
	bool dry;                        /* -dry: print renders, install nothing */
};

#endif
