/* loop: the one event loop of a legate process: file descriptors through
 * epoll, timers through one timerfd, signals through one signalfd. */
#ifndef LEGATE_COMMON_LOOP_H
#define LEGATE_COMMON_LOOP_H

#include <stdint.h>

struct loop;

/* Called with the epoll events (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP). */
typedef void (*loop_fd_cb)(struct loop *l, int fd, uint32_t events, void *arg);
typedef void (*loop_timer_cb)(struct loop *l, void *arg);
typedef void (*loop_signal_cb)(struct loop *l, int signo, void *arg);

/* A timer lives in the caller's memory (usually inside the struct it
 * serves), so arming and cancelling never allocate.  Fields are private. */
struct loop_timer {
	struct loop_timer *prev, *next;
	double when;            /* clock_mono() seconds */
	int armed;
	loop_timer_cb cb;
	void *arg;
};

/* The most descriptors a loop is made for when its size is not given. */
#define LOOP_MAX_SIZE 65536

/* Returns a new loop for descriptors below setsize (0: the process's
 * descriptor limit, at most LOOP_MAX_SIZE), or NULL with errno set.  Its
 * tables are allocated here once. */
struct loop *loop_new(int setsize);

/* Closes the loop's descriptors and frees it.  Registered fds are not
 * closed; armed timers are forgotten. */
void loop_free(struct loop *l);

/* Watches fd for events (EPOLLIN | EPOLLOUT ...); the fd stays the
 * caller's.  loop_add_fd on an fd already watched changes its events and
 * callback.  Returns 0, or -1 with errno set (EMFILE: fd is past the
 * loop's size). */
int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_cb cb, void *arg);

/* Stops watching fd; safe from inside any callback, and on an fd not watched. */
void loop_del_fd(struct loop *l, int fd);

/* Sets up a timer before its first use. */
void loop_timer_init(struct loop_timer *t, loop_timer_cb cb, void *arg);

/* Arms t to fire once, after `seconds` (0 fires on the next turn).  An armed
 * timer is moved.  Returns 0, or -1 with errno set (timerfd failed). */
int loop_add_timer(struct loop *l, struct loop_timer *t, double seconds);

/* Disarms t; harmless when it is not armed. */
void loop_del_timer(struct loop *l, struct loop_timer *t);

/* Blocks signo and delivers it through the loop.  Returns 0 or -1. */
int loop_add_signal(struct loop *l, int signo, loop_signal_cb cb, void *arg);

/* Runs until loop_stop().  Returns 0, or -1 with errno set when epoll fails. */
int loop_run(struct loop *l);

/* Makes loop_run() return after the current turn. */
void loop_stop(struct loop *l);


#endif
