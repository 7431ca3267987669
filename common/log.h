/* log: one shape for every line legate and legate-init print about
 * themselves: "PROG: LEVEL: message".  libc only, no allocation, so PID 1
 * can use it in its steady state. */
#ifndef LEGATE_LOG_H
#define LEGATE_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG, LOG_LVL_TRACE };

/* Sets the program name printed first on each line (borrowed, not copied)
 * and the file descriptor lines go to (default 2). */
void log_init(const char *prog, int fd);

/* Lines above this level are dropped.  Default LOG_LVL_INFO. */
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);

/* Parses "error", "warn", "info", "debug", "trace" (also consul-template's
 * "err", "warning").  Returns 0 and fills *out, or -1 for an unknown name. */
int log_level_parse(const char *name, enum log_level *out);

/* Writes one line.  errno is preserved across the call, so callers may log
 * before they return -1 with errno still meaningful. */
void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level lvl, const char *fmt, va_list ap);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  do { if (log_get_level() >= LOG_LVL_INFO) log_msg(LOG_LVL_INFO, __VA_ARGS__); } while (0)
#define log_debug(...) do { if (log_get_level() >= LOG_LVL_DEBUG) log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)
#define log_trace(...) do { if (log_get_level() >= LOG_LVL_TRACE) log_msg(LOG_LVL_TRACE, __VA_ARGS__); } while (0)

#endif
