/* file: whole-file reads through stdio, bounded. */
#include "common/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

char *file_read(const char *path, size_t limit, size_t *len, struct lg_error *err)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	struct buf b = BUF_INIT;
	char chunk[65536];
	size_t n;
	char *out;

	if (!f) {
		lg_error_set(err, path, 0, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	b.limit = limit;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (buf_append(&b, chunk, n) < 0) {
			if (errno == EFBIG)
				lg_error_set(err, path, 0, 0, "larger than %zu bytes", limit);
			else
				lg_error_set(err, path, 0, 0, "%s", strerror(errno));
			goto fail;
		}
	}
	if (ferror(f)) {
		lg_error_set(err, path, 0, 0, "cannot read: %s", strerror(errno));
		goto fail;
	}
	if (f != stdin)
		fclose(f);
	buf_cstr(&b);
	out = buf_steal(&b, len);
	if (!out && (out = calloc(1, 1)) && len)
		*len = 0;
	if (!out)
		lg_error_set(err, path, 0, 0, "out of memory");
	return out;
fail:
	if (f != stdin)
		fclose(f);
	buf_free(&b);
	return NULL;
}
