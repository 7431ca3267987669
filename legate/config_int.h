/* config_int: what legate/config.c and legate/config_file.c share. */
#ifndef LEGATE_CONFIG_INT_H
#define LEGATE_CONFIG_INT_H

#include "legate/config.h"

/* Replaces *slot with a copy of s (NULL clears it); returns 0 or -1. */
int config_set_str(char **slot, const char *s);

/* Sets *slot to a copy of path and from (fromlen bytes) to origin, where
 * it was given; returns 0 or -1. */
int config_set_path(char **slot, char *from, size_t fromlen, const char *path, const char *origin);

/* Adds a template with its defaults to cfg; NULL on out of memory. */
struct template_config *config_template_add(struct config *cfg);

/* Reads one HCL file into cfg; -1 with err naming FILE:LINE and the key. */
int config_load_file(struct config *cfg, const char *path, struct lg_error *err);

#endif
