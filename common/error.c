/* error: filling and printing struct lg_error. */
#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int lg_error_set(struct lg_error *e, const char *source, int line, int column, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	snprintf(e->source, sizeof e->source, "%s", source ? source : "");
	e->line = line;
	e->column = column;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof e->text, fmt, ap);
	va_end(ap);
	return -1;
}

const char *lg_error_str(const struct lg_error *e, char *buf, size_t n)
{
	if (!e->source[0])
		snprintf(buf, n, "%s", e->text);
	else if (e->line && e->column)
		snprintf(buf, n, "%s:%d:%d: %s", e->source, e->line, e->column, e->text);
	else if (e->line)
		snprintf(buf, n, "%s:%d: %s", e->source, e->line, e->text);
	else
		snprintf(buf, n, "%s: %s", e->source, e->text);
	return buf;
}
