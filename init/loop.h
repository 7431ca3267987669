/* loop: legate-init's own event loop: one epoll set holding a signalfd, a
 * timerfd and every descriptor the supervisor watches, each filed with a
 * small watch record (tag and owner) that the owner embeds.
 *
 * Why not the shared loop (common/loop): legate-init links only libc and
 * must not allocate once its programs run.  The shared loop allocates a
 * table of descriptors at a size fixed when it is made, and callers own
 * timers it keeps in a list; PID 1 would have to guess that size and link
 * the library that brings libcurl and jansson along.  PID 1 needs much
 * less: its descriptors carry their own watch records, so the loop holds no
 * table at all; its one timer is re-armed each round to the earliest
 * deadline the supervisor reports; its signals come from one signalfd.
 * Everything here is created once at start-up and never resized. */
#ifndef LEGATE_INIT_LOOP_H
#define LEGATE_INIT_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

/* What a ready descriptor is: the main loop dispatches on it. */
enum init_tag {
	INIT_TAG_SIGNAL = 1,   /* the signalfd */
	INIT_TAG_TIMER,        /* the timerfd */
	INIT_TAG_CTL_LISTEN,   /* the control socket */
	INIT_TAG_CTL_CLIENT,   /* one control connection */
	INIT_TAG_READY,        /* a program's ready_fd pipe */
	INIT_TAG_TCP,          /* a program's ready_tcp connect */
	INIT_TAG_OUT,          /* a program's relayed stdout */
	INIT_TAG_ERR,          /* a program's relayed stderr */
	INIT_TAG_EV_IN,        /* an event listener's stdin (we write) */
	INIT_TAG_EV_OUT,       /* an event listener's stdout (we read) */
};

/* Embedded in whatever owns a descriptor; epoll hands it back. */
struct init_watch {
	enum init_tag tag;
	void *owner;
};

struct init_loop {
	int epfd, sfd, tfd;
	struct init_watch sig_watch, timer_watch;
	const sigset_t *child_mask;   /* the mask programs start with */
	bool stopping;                /* shutting down: nothing restarts */
	unsigned seq;                 /* counts starts, for reverse-order stops */
};

/* Creates the epoll set, a signalfd for *set (already blocked) and the
 * timer.  child_mask is borrowed.  Returns 0, or -1 with errno and nothing
 * left open. */
int init_loop_open(struct init_loop *l, const sigset_t *set, const sigset_t *child_mask);

/* Closes what init_loop_open opened. */
void init_loop_close(struct init_loop *l);

/* Watches fd for input (or output with out) and reports it with w, which
 * must stay where it is until init_loop_del.  Returns 0 or -1. */
int init_loop_add(struct init_loop *l, int fd, struct init_watch *w, bool out);

/* Switches a watched fd between input and output. */
int init_loop_mod(struct init_loop *l, int fd, struct init_watch *w, bool out);

void init_loop_del(struct init_loop *l, int fd);

/* Arms the timer for deadline (monotonic ms; 0: none) and waits.  Fills
 * evs (up to max) and returns how many, 0 on EINTR, -1 on error. */
int init_loop_wait(struct init_loop *l, int64_t deadline, struct epoll_event *evs, int max);

/* Reads one pending signal; returns its number, or 0 when none is left.
 * *from receives the sender's pid (0 from the kernel). */
int init_loop_next_signal(struct init_loop *l, int *from);

/* Consumes the timer's expiry count. */
void init_loop_timer_ack(struct init_loop *l);

/* Milliseconds on the monotonic clock. */
int64_t init_now_ms(void);

#endif
