/* hcl: reads the subset of HCL that consul-template's configuration files
 * use (key = value, nested blocks, strings, numbers, booleans, lists,
 * comments) into a tree whose every node remembers its line. */
#ifndef LEGATE_HCL_H
#define LEGATE_HCL_H

#include <stdbool.h>

#include "common/error.h"

enum hcl_type { HCL_STRING, HCL_NUMBER, HCL_BOOL, HCL_LIST, HCL_BLOCK };

struct hcl_node {
	enum hcl_type type;
	char *key;               /* NULL for list items */
	int line;
	char *str;               /* HCL_STRING; HCL_NUMBER keeps its text here too */
	double num;              /* HCL_NUMBER */
	bool b;                  /* HCL_BOOL */
	struct hcl_node *child;  /* HCL_LIST items, HCL_BLOCK members, in file order */
	struct hcl_node *next;
};

/* Parses a whole document.  `name` is used in errors only.  Returns the root
 * block (owned by the caller, free with hcl_free) or NULL with *err filled. */
struct hcl_node *hcl_parse(const char *text, const char *name, struct lg_error *err);

/* Reads and parses a file; NULL with *err filled on any failure. */
struct hcl_node *hcl_parse_file(const char *path, struct lg_error *err);

void hcl_free(struct hcl_node *n);

/* The name of a node's type, for error messages ("a string", "a block"). */
const char *hcl_type_name(enum hcl_type t);

#endif
