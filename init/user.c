/* user: /etc/passwd and /etc/group, read line by line at load time only. */
#include "init/user.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits a colon-separated line in place into at most max fields; returns
 * how many it found. */
static int split_colons(char *line, char **f, int max)
{
	int n = 0;
	line[strcspn(line, "\n")] = 0;
	f[n++] = line;
	for (char *p = line; *p && n < max; p++) {
		if (*p == ':') {
			*p = 0;
			f[n++] = p + 1;
		}
	}
	return n;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static bool in_member_list(char *list, const char *name)
{
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ","))
		if (strcmp(tok, name) == 0)
			return true;
	return false;
}

int user_lookup(const char *name, uid_t *uid, gid_t *gid, gid_t **groups, int *ngroups)
{
	char line[1024], login[256] = "";
	char *f[7];
	bool found = false, numeric = all_digits(name);
	FILE *fp;

	*groups = NULL;
	*ngroups = 0;
	fp = fopen("/etc/passwd", "re");
	if (fp) {
		while (fgets(line, sizeof line, fp)) {
			if (split_colons(line, f, 7) < 4)
				continue;
			if (numeric ? strcmp(f[2], name) != 0 : strcmp(f[0], name) != 0)
				continue;
			*uid = (uid_t)strtoul(f[2], NULL, 10);
			*gid = (gid_t)strtoul(f[3], NULL, 10);
			snprintf(login, sizeof login, "%s", f[0]);
			found = true;
			break;
		}
		fclose(fp);
	}
	if (!found) {
		if (!numeric)
			return -1;
		/* A bare uid with no passwd entry is fine in a container. */
		*uid = (uid_t)strtoul(name, NULL, 10);
		*gid = (gid_t)*uid;
		return 0;
	}
	fp = fopen("/etc/group", "re");
	if (!fp)
		return 0;
	while (fgets(line, sizeof line, fp)) {
		gid_t g, *grown;
		if (split_colons(line, f, 4) < 4)
			continue;
		if (!in_member_list(f[3], login))
			continue;
		g = (gid_t)strtoul(f[2], NULL, 10);
		grown = realloc(*groups, sizeof **groups * (size_t)(*ngroups + 1));
		if (!grown)
			break;
		*groups = grown;
		(*groups)[(*ngroups)++] = g;
	}
	fclose(fp);
	return 0;
}

int user_group(const char *name, gid_t *gid)
{
	char line[1024];
	char *f[4];
	bool numeric = all_digits(name), found = false;
	FILE *fp = fopen("/etc/group", "re");

	if (fp) {
		while (!found && fgets(line, sizeof line, fp)) {
			if (split_colons(line, f, 4) < 3)
				continue;
			if (numeric ? strcmp(f[2], name) != 0 : strcmp(f[0], name) != 0)
				continue;
			*gid = (gid_t)strtoul(f[2], NULL, 10);
			found = true;
		}
		fclose(fp);
	}
	if (!found && numeric) {
		*gid = (gid_t)strtoul(name, NULL, 10);
		found = true;
	}
	return found ? 0 : -1;
}
