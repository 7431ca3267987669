/* user: looks up users and groups in /etc/passwd and /etc/group directly,
 * so a static legate-init needs no NSS modules. */
#ifndef LEGATE_INIT_USER_H
#define LEGATE_INIT_USER_H

#include <sys/types.h>

/* Resolves name (or a numeric uid) to its uid, primary gid and the
 * supplementary groups it belongs to.  *groups is malloc'd (free it) and may
 * be NULL when *ngroups is 0.  Returns 0, or -1 when the user is unknown. */
int user_lookup(const char *name, uid_t *uid, gid_t *gid, gid_t **groups, int *ngroups);

/* Resolves a group name (or a numeric gid) from /etc/group.  Returns 0,
 * or -1 when the group is unknown. */
int user_group(const char *name, gid_t *gid);

#endif
