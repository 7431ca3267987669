/* log: formats every diagnostic line, text ("TIME PROG: LEVEL: message") or
 * one JSON object, into a stack buffer and writes it with one write(2), so
 * lines from several processes sharing a pipe do not interleave. */
#include "common/log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "legate";
static int log_fd = 2;
static enum log_level log_level = LOG_LVL_INFO;
static enum log_format log_format = LOG_FMT_TEXT;
static bool log_journal;    /* log_fd is the journal: no time, a "<N>" priority */

static const char *const level_names[] = { "error", "warn", "info", "debug", "trace" };
/* syslog priorities, as sd-daemon(3) prefixes read by journald. */
static const char level_prio[] = { '3', '4', '6', '7', '7' };

/* $JOURNAL_STREAM is "DEVICE:INODE" of the stream systemd connected to
 * stdout/stderr; a descriptor with the same pair is the journal. */
static bool is_journal(int fd)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	if (!v || !*v || fstat(fd, &st) < 0)
		return false;
	dev = strtoull(v, &end, 10);
	if (*end != ':')
		return false;
	ino = strtoull(end + 1, &end, 10);
	return *end == '\0' && dev == (unsigned long long)st.st_dev && ino == (unsigned long long)st.st_ino;
}

void log_init(const char *prog, int fd)
{
	const char *v = getenv("LEGATE_LOG_FORMAT");
	enum log_format f;

	if (prog)
		log_prog = prog;
	log_fd = fd;
	log_journal = is_journal(fd);
	if (v && log_format_parse(v, &f) == 0)
		log_format = f;
}

void log_set_level(enum log_level lvl) { log_level = lvl; }
enum log_level log_get_level(void) { return log_level; }
void log_set_format(enum log_format fmt) { log_format = fmt; }

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

int log_format_parse(const char *name, enum log_format *out)
{
	if (strcasecmp(name, "text") == 0)
		*out = LOG_FMT_TEXT;
	else if (strcasecmp(name, "json") == 0)
		*out = LOG_FMT_JSON;
	else
		return -1;
	return 0;
}

/* The line under construction: appends stop at the end of the buffer and
 * set `full`, keeping room for the closing characters. */
struct line {
	char b[4096];
	size_t n, cap;
	bool full;
};

static void put(struct line *l, const char *s, size_t len)
{
	if (len > l->cap - l->n) {
		len = l->cap - l->n;
		l->full = true;
	}
	memcpy(l->b + l->n, s, len);
	l->n += len;
}

static void puts_(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

/* A JSON string body; an escape that does not fit is left out whole. */
static void put_json(struct line *l, const char *s)
{
	for (; *s && !l->full; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		size_t len;

		if (c == '"' || c == '\\')
			len = (size_t)snprintf(esc, sizeof esc, "\\%c", c);
		else if (c == '\n')
			len = (size_t)snprintf(esc, sizeof esc, "\\n");
		else if (c == '\t')
			len = (size_t)snprintf(esc, sizeof esc, "\\t");
		else if (c < 0x20 || c == 0x7f)
			len = (size_t)snprintf(esc, sizeof esc, "\\u%04x", c);
		else
			esc[0] = (char)c, len = 1;
		if (len > l->cap - l->n)
			l->full = true;
		else
			put(l, esc, len);
	}
}

/* RFC 3339, UTC, milliseconds: 2026-11-27T15:04:05.123Z.  Formatted by
 * hand: gmtime_r neither allocates nor reads the time zone. */
static void put_time(struct line *l)
{
	struct timespec ts;
	struct tm tm;
	char t[40];
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (!gmtime_r(&ts.tv_sec, &tm))
		return;
	n = snprintf(t, sizeof t, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000));
	if (n > 0)
		put(l, t, (size_t)n < sizeof t ? (size_t)n : sizeof t - 1);
}

static void emit(enum log_level lvl, const char *key, const char *value, const char *fmt, va_list ap)
{
	struct line l = { .n = 0, .cap = sizeof l.b - 8, .full = false };
	char msg[2048];
	int m;

	m = vsnprintf(msg, sizeof msg, fmt, ap);
	if (m < 0)
		return;
	if ((size_t)m >= sizeof msg)
		memcpy(msg + sizeof msg - 4, "...", 4);
	if (log_format == LOG_FMT_JSON) {
		puts_(&l, "{\"time\":\"");
		put_time(&l);
		puts_(&l, "\",\"level\":\"");
		puts_(&l, level_names[lvl]);
		puts_(&l, "\",\"program\":\"");
		put_json(&l, log_prog);
		puts_(&l, "\",\"message\":\"");
		put_json(&l, msg);
		if (key && value) {
			puts_(&l, "\",\"");
			put_json(&l, key);
			puts_(&l, "\":\"");
			put_json(&l, value);
		}
		/* The room kept back holds the close even when the text was cut. */
		l.cap = sizeof l.b;
		put(&l, "\"}\n", 3);
	} else {
		if (log_journal) {
			char p[3] = { '<', level_prio[lvl], '>' };
			put(&l, p, 3);
		} else {
			put_time(&l);
			put(&l, " ", 1);
		}
		puts_(&l, log_prog);
		puts_(&l, ": ");
		puts_(&l, level_names[lvl]);
		puts_(&l, ": ");
		if (key && value) {
			puts_(&l, value);
			puts_(&l, ": ");
		}
		puts_(&l, msg);
		/* A message cut short says so, still one line. */
		l.cap = sizeof l.b;
		if (l.full)
			put(&l, "...", 3);
		/* A message's own newlines would start lines of another shape. */
		for (size_t i = 0; i < l.n; i++)
			if (l.b[i] == '\n')
				l.b[i] = ' ';
		put(&l, "\n", 1);
	}
	/* One write per line; a short write on a pipe is not retried on purpose:
	 * a full pipe must never block PID 1. */
	(void)!write(log_fd, l.b, l.n);
}

void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	int saved = errno;
	if (lvl <= log_level)
		emit(lvl, NULL, NULL, fmt, ap);
	errno = saved;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}

void log_kmsg(enum log_level lvl, const char *key, const char *value, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (lvl <= log_level) {
		va_start(ap, fmt);
		emit(lvl, key, value, fmt, ap);
		va_end(ap);
	}
	errno = saved;
}
