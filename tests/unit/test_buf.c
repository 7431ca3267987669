/* Unit tests for common/buf: growth, limits, printf, steal. */
#include "common/buf.h"
#include "tests/unit/check.h"

#include <errno.h>

int main(void)
{
	struct buf b = BUF_INIT;

	check_str(buf_cstr(&b), "");
	check_int(buf_puts(&b, "hello"), 0);
	check_int(buf_putc(&b, ' '), 0);
	check_int(buf_printf(&b, "%s %d", "world", 42), 0);
	check_str(buf_cstr(&b), "hello world 42");
	check_int(b.len, 14);

	for (int i = 0; i < 10000; i++)
		check_int(buf_append(&b, "0123456789", 10), 0);
	check_int(b.len, 14 + 100000);
	buf_reset(&b);
	check_int(b.len, 0);
	check_str(buf_cstr(&b), "");

	/* The limit is hard and a refused append leaves the buffer unchanged. */
	b.limit = 16;
	check_int(buf_puts(&b, "0123456789abcdef"), 0);
	errno = 0;
	check_int(buf_putc(&b, 'x'), -1);
	check_int(errno, EFBIG);
	check_int(b.len, 16);
	check_int(buf_printf(&b, "%d", 1), -1);
	check_str(buf_cstr(&b), "0123456789abcdef");

	size_t n;
	char *p = buf_steal(&b, &n);
	check_int(n, 16);
	check_str(p, "0123456789abcdef");
	free(p);
	check_int(b.len, 0);
	check(b.data == NULL);
	buf_free(&b);
	return check_done();
}
