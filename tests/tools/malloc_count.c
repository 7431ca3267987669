/* malloc_count: an LD_PRELOAD shim for tests.  Each malloc, calloc, realloc
 * and free made by process 1 (legate-init in its own PID namespace) appends
 * one line to the file named by $LG_MALLOC_LOG, so a test can tell whether
 * the supervisor allocates once it is running. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

static void note(const char *what)
{
	const char *path;
	int fd;

	if (getpid() != 1 || !(path = getenv("LG_MALLOC_LOG")))
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		(void)!write(fd, what, strlen(what));
		close(fd);
	}
}

void *malloc(size_t n)
{
	note("malloc\n");
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	note("calloc\n");
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	note("realloc\n");
	return __libc_realloc(p, n);
}

void free(void *p)
{
	if (p)
		note("free\n");
	__libc_free(p);
}
