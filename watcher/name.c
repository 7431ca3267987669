/* name: the data-name grammar, text into struct watch_name. */
#include "watcher/name.h"

#include <stdlib.h>
#include <string.h>

static bool bad_text(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* Parses the filters at the end of s, "[~any|~passing][~tag=T][@DC]",
 * cutting s where they begin; health says whether ~any and ~passing apply.
 * Returns 0, or -1 with err filled. */
static int parse_filters(struct watch_name *n, const char *text, char *s, bool health,
			 struct lg_error *err)
{
	char *at, *opt, *next;

	if ((at = strrchr(s, '@'))) {
		*at = '\0';
		if (!at[1])
			return lg_error_set(err, NULL, 0, 0, "%s: empty datacenter name", text);
		if (!(n->dc = strdup(at + 1)))
			return lg_error_set(err, NULL, 0, 0, "out of memory");
	}
	opt = strchr(s, '~');
	if (opt)
		*opt++ = '\0';
	for (; opt; opt = next) {
		next = strchr(opt, '~');
		if (next)
			*next++ = '\0';
		if (health && strcmp(opt, "any") == 0) {
			n->any = true;
		} else if (health && strcmp(opt, "passing") == 0) {
			n->any = false;
		} else if (strncmp(opt, "tag=", 4) == 0 && opt[4] && !n->tag) {
			if (!(n->tag = strdup(opt + 4)))
				return lg_error_set(err, NULL, 0, 0, "out of memory");
		} else {
			return lg_error_set(err, NULL, 0, 0, "%s: unknown filter ~%s", text, opt);
		}
	}
	return 0;
}

static int parse(const char *text, struct watch_name *n, struct lg_error *err)
{
	char *s;

	if (bad_text(text))
		return lg_error_set(err, NULL, 0, 0, "watch name with a control character");
	if (strcmp(text, "services") == 0 || strncmp(text, "services~", 9) == 0 ||
	    strncmp(text, "services@", 9) == 0) {
		n->kind = WK_SERVICES;
		if (!(s = strdup(text + 8)))
			return lg_error_set(err, NULL, 0, 0, "out of memory");
		int rc = parse_filters(n, text, s, false, err);
		free(s);
		return rc;
	}
	if (strcmp(text, "nodes") == 0) {
		n->kind = WK_NODES;
		return 0;
	}
	if (strncmp(text, "node.", 5) == 0 && text[5]) {
		n->kind = WK_NODE;
		n->arg = strdup(text + 5);
	} else if (strncmp(text, "key.", 4) == 0 && text[4]) {
		n->kind = WK_KEY;
		n->arg = strdup(text + 4);
	} else if (strncmp(text, "tree.", 5) == 0) {
		n->kind = WK_TREE;
		n->arg = strdup(text + 5);
	} else if (strncmp(text, "service.", 8) == 0) {
		n->kind = WK_SERVICE;
		if (!(n->arg = strdup(text + 8)))
			return lg_error_set(err, NULL, 0, 0, "out of memory");
		if (parse_filters(n, text, n->arg, true, err) < 0)
			return -1;
		if (!n->arg[0])
			return lg_error_set(err, NULL, 0, 0, "%s: empty service name", text);
		return 0;
	} else {
		return lg_error_set(err, NULL, 0, 0, "%s: not a watch name (services, service.NAME, nodes, "
				    "node.NAME, key.PATH, tree.PATH)", text);
	}
	return n->arg ? 0 : lg_error_set(err, NULL, 0, 0, "out of memory");
}

int watch_name_parse(const char *text, struct watch_name *n, struct lg_error *err)
{
	memset(n, 0, sizeof *n);
	if (parse(text, n, err) < 0) {
		watch_name_free(n);
		return -1;
	}
	return 0;
}

void watch_name_free(struct watch_name *n)
{
	free(n->arg);
	free(n->tag);
	free(n->dc);
	memset(n, 0, sizeof *n);
}
