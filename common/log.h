/* log: one shape for every line legate and legate-init print about
 * themselves.  Text: "TIME PROG: LEVEL: message", TIME in RFC 3339 (UTC,
 * milliseconds), left out when stderr is systemd's journal, which stamps
 * lines itself and gets the level as a "<N>" prefix instead.  JSON: one
 * object per line with time, level, program, message and the call site's
 * field (template, watch, program) when it has one.  libc only, no
 * allocation, so PID 1 can use it in its steady state. */
#ifndef LEGATE_LOG_H
#define LEGATE_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG, LOG_LVL_TRACE };

enum log_format { LOG_FMT_TEXT, LOG_FMT_JSON };

/* Sets the program name printed first on each line (borrowed, not copied)
 * and the file descriptor lines go to (default 2).  Looks at that
 * descriptor once: when it is the stream named by $JOURNAL_STREAM, text
 * lines carry no time.  $LEGATE_LOG_FORMAT ("text" or "json") sets the
 * format for programs that have no flag for it. */
void log_init(const char *prog, int fd);

/* Lines above this level are dropped.  Default LOG_LVL_INFO. */
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);

/* Parses "error", "warn", "info", "debug", "trace" (also consul-template's
 * "err", "warning").  Returns 0 and fills *out, or -1 for an unknown name. */
int log_level_parse(const char *name, enum log_level *out);

/* Default LOG_FMT_TEXT.  log_format_parse takes "text" or "json" and
 * returns 0, or -1 for anything else. */
void log_set_format(enum log_format fmt);
int log_format_parse(const char *name, enum log_format *out);

/* Writes one line.  errno is preserved across the call, so callers may log
 * before they return -1 with errno still meaningful. */
void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level lvl, const char *fmt, va_list ap);

/* The same with one field: what the line is about (key "template", "watch"
 * or "program"; value borrowed).  Text lines show it as "VALUE: message",
 * JSON lines as a member of its own. */
void log_kmsg(enum log_level lvl, const char *key, const char *value, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  do { if (log_get_level() >= LOG_LVL_INFO) log_msg(LOG_LVL_INFO, __VA_ARGS__); } while (0)
#define log_debug(...) do { if (log_get_level() >= LOG_LVL_DEBUG) log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)
#define log_trace(...) do { if (log_get_level() >= LOG_LVL_TRACE) log_msg(LOG_LVL_TRACE, __VA_ARGS__); } while (0)

#define log_error_at(k, v, ...) log_kmsg(LOG_LVL_ERROR, k, v, __VA_ARGS__)
#define log_warn_at(k, v, ...)  log_kmsg(LOG_LVL_WARN, k, v, __VA_ARGS__)
#define log_info_at(k, v, ...)  do { if (log_get_level() >= LOG_LVL_INFO) log_kmsg(LOG_LVL_INFO, k, v, __VA_ARGS__); } while (0)
#define log_debug_at(k, v, ...) do { if (log_get_level() >= LOG_LVL_DEBUG) log_kmsg(LOG_LVL_DEBUG, k, v, __VA_ARGS__); } while (0)
#define log_trace_at(k, v, ...) do { if (log_get_level() >= LOG_LVL_TRACE) log_kmsg(LOG_LVL_TRACE, k, v, __VA_ARGS__); } while (0)

#endif
