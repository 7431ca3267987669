/* Unit test for renderer/install: atomic install, modes, backup, failures. */
#include "renderer/install.h"
#include "tests/unit/check.h"
#include "tests/unit/tmpfiles.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/test_install.XXXXXX";

static char *path(const char *name) { return tmp_path(dir, name); }

static int mode_of(const char *p)
{
	struct stat sb;
	return stat(p, &sb) < 0 ? -1 : (int)(sb.st_mode & 07777);
}

/* Counts the hidden staging files left in d. */
static int leftovers(const char *d)
{
	DIR *dd = opendir(d);
	struct dirent *e;
	int n = 0;
	while (dd && (e = readdir(dd)))
		if (strstr(e->d_name, ".legate-"))
			n++;
	if (dd)
		closedir(dd);
	return n;
}

static int install(const char *dest, const char *text, int perms, int backup)
{
	struct install_opts o = { dest, perms, (uid_t)-1, (gid_t)-1, backup != 0, true };
	struct install_staged st;
	struct lg_error err;
	if (install_stage(&o, text, strlen(text), &st, &err) < 0) {
		fprintf(stderr, "stage: %s\n", err.text);
		return -1;
	}
	if (install_commit(&o, &st, &err) < 0) {
		fprintf(stderr, "commit: %s\n", err.text);
		return -1;
	}
	return 0;
}

static void test_install(void)
{
	struct lg_error err;
	const char *cfg = path("haproxy.cfg");

	check_int(install_same(cfg, "a", 1, &err), 0);
	check_int(install(cfg, "backend a\n", -1, 0), 0);
	check_str(tmp_slurp(cfg), "backend a\n");
	check_int(mode_of(cfg), 0644);
	check_int(install_same(cfg, "backend a\n", 10, &err), 1);
	check_int(install_same(cfg, "backend b\n", 10, &err), 0);
	check_int(install_same(cfg, "backend a\nx", 11, &err), 0);

	/* An existing mode is kept unless perms says otherwise. */
	chmod(cfg, 0640);
	check_int(install(cfg, "backend b\n", -1, 0), 0);
	check_int(mode_of(cfg), 0640);
	check_int(install(cfg, "backend c\n", 0600, 1), 0);
	check_int(mode_of(cfg), 0600);
	check_str(tmp_slurp(path("haproxy.cfg.bak")), "backend b\n");
	check_str(tmp_slurp(cfg), "backend c\n");
	check_int(leftovers(dir), 0);

	/* Missing parent directories are created. */
	check_int(install(path("a/b/c.cfg"), "x\n", -1, 0), 0);
	check_str(tmp_slurp(path("a/b/c.cfg")), "x\n");

	/* Abort leaves the destination as it was and nothing beside it. */
	struct install_opts o = { cfg, -1, (uid_t)-1, (gid_t)-1, false, false };
	struct install_staged st;
	check_int(install_stage(&o, "broken", 6, &st, &err), 0);
	check_int(leftovers(dir), 1);
	install_abort(&st);
	check_int(leftovers(dir), 0);
	check_str(tmp_slurp(cfg), "backend c\n");

	/* A directory in the way is an error that names it. */
	mkdir(path("isdir"), 0755);
	o.dest = path("isdir");
	check_int(install_stage(&o, "x", 1, &st, &err), -1);
	check(strstr(err.text, "isdir") != NULL);
	check_int(leftovers(dir), 0);

	/* An unwritable place is an error naming the directory. */
	o.dest = "/proc/legate-test/x.cfg";
	o.create_dirs = true;
	check_int(install_stage(&o, "x", 1, &st, &err), -1);
	check(strstr(err.text, "/proc/legate-test") != NULL);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_install();
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fail("cannot remove %s", dir);
	return check_done();
}
