/* loop: the tags legate-init's one epoll loop files its descriptors under,
 * and the few calls every module uses to add and remove them. */
#ifndef LEGATE_INIT_LOOP_H
#define LEGATE_INIT_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

enum tag { TAG_SIGNAL = 1, TAG_TIMER, TAG_CTL_LISTEN, TAG_CTL_CLIENT, TAG_READY, TAG_TCP,
	   TAG_OUT, TAG_ERR };

struct loop {
	int epfd;
	const sigset_t *child_mask;   /* the mask programs start with */
	bool stopping;                /* shutting down: nothing restarts */
	unsigned seq;                 /* counts starts, for reverse-order stops */
};

#define LOOP_KEY(tag, idx) (((uint64_t)(tag) << 32) | (uint32_t)(idx))
#define LOOP_TAG(key) ((enum tag)((key) >> 32))
#define LOOP_IDX(key) ((int)(uint32_t)(key))

/* Watches fd for input (or output with out) under key; returns 0 or -1. */
static inline int loop_add(struct loop *l, int fd, uint64_t key, bool out)
{
	struct epoll_event ev = { .events = out ? EPOLLOUT : EPOLLIN, .data.u64 = key };
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static inline void loop_del(struct loop *l, int fd)
{
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
}

#endif
