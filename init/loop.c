/* loop: the epoll set, signalfd and timerfd of legate-init; no table, no
 * allocation: each descriptor's watch record lives with its owner. */
#include "init/loop.h"

#include <errno.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

int init_loop_open(struct init_loop *l, const sigset_t *set, const sigset_t *child_mask)
{
	int e;

	l->child_mask = child_mask;
	l->stopping = false;
	l->seq = 0;
	l->sig_watch = (struct init_watch){ INIT_TAG_SIGNAL, l };
	l->timer_watch = (struct init_watch){ INIT_TAG_TIMER, l };
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->sfd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->epfd >= 0 && l->sfd >= 0 && l->tfd >= 0 &&
	    init_loop_add(l, l->sfd, &l->sig_watch, false) == 0 &&
	    init_loop_add(l, l->tfd, &l->timer_watch, false) == 0)
		return 0;
	e = errno;
	init_loop_close(l);
	errno = e;
	return -1;
}

void init_loop_close(struct init_loop *l)
{
	if (l->sfd >= 0)
		close(l->sfd);
	if (l->tfd >= 0)
		close(l->tfd);
	if (l->epfd >= 0)
		close(l->epfd);
	l->sfd = l->tfd = l->epfd = -1;
}

int init_loop_add(struct init_loop *l, int fd, struct init_watch *w, bool out)
{
	struct epoll_event ev = { .events = out ? EPOLLOUT : EPOLLIN, .data.ptr = w };
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
}

int init_loop_mod(struct init_loop *l, int fd, struct init_watch *w, bool out)
{
	struct epoll_event ev = { .events = out ? EPOLLOUT : EPOLLIN, .data.ptr = w };
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
}

void init_loop_del(struct init_loop *l, int fd)
{
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
}

int init_loop_wait(struct init_loop *l, int64_t deadline, struct epoll_event *evs, int max)
{
	struct itimerspec its = { 0 };
	int n;

	if (deadline > 0) {
		its.it_value.tv_sec = deadline / 1000;
		its.it_value.tv_nsec = (long)(deadline % 1000) * 1000000;
	}
	timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL);
	n = epoll_wait(l->epfd, evs, max, -1);
	if (n < 0 && errno == EINTR)
		return 0;
	return n;
}

int init_loop_next_signal(struct init_loop *l, int *from)
{
	struct signalfd_siginfo si;
	if (read(l->sfd, &si, sizeof si) != (ssize_t)sizeof si)
		return 0;
	*from = (int)si.ssi_pid;
	return (int)si.ssi_signo;
}

void init_loop_timer_ack(struct init_loop *l)
{
	uint64_t ticks;
	(void)!read(l->tfd, &ticks, sizeof ticks);
}

int64_t init_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
