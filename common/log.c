/* log: formats every diagnostic line as "PROG: LEVEL: message" into a stack
 * buffer and writes it with one write(2), so lines from several processes
 * sharing a pipe do not interleave. */
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *log_prog = "legate";
static int log_fd = 2;
static enum log_level log_level = LOG_LVL_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug", "trace" };

void log_init(const char *prog, int fd)
{
	if (prog)
		log_prog = prog;
	log_fd = fd;
}

void log_set_level(enum log_level lvl) { log_level = lvl; }
enum log_level log_get_level(void) { return log_level; }

int log_level_parse(const char *name, enum log_level *out)
{
	static const struct { const char *name; enum log_level lvl; } names[] = {
		{ "error", LOG_LVL_ERROR }, { "err", LOG_LVL_ERROR },
		{ "warn", LOG_LVL_WARN }, { "warning", LOG_LVL_WARN },
		{ "info", LOG_LVL_INFO }, { "debug", LOG_LVL_DEBUG },
		{ "trace", LOG_LVL_TRACE },
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcasecmp(name, names[i].name) == 0) {
			*out = names[i].lvl;
			return 0;
		}
	}
	return -1;
}

void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	char line[2048];
	int saved = errno;
	int n, m;

	if (lvl > log_level)
		goto out;
	n = snprintf(line, sizeof line, "%s: %s: ", log_prog, level_names[lvl]);
	if (n < 0)
		goto out;
	m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	if (m < 0)
		goto out;
	n += m;
	if ((size_t)n >= sizeof line - 1) {
		/* Too long: keep what fits and say so, still one line. */
		n = (int)sizeof line - 5;
		memcpy(line + n, "...", 3);
		n += 3;
	}
	line[n++] = '\n';
	/* One write per line; a short write on a pipe is not retried on purpose:
	 * a full pipe must never block PID 1. */
	(void)!write(log_fd, line, (size_t)n);
out:
	errno = saved;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}
