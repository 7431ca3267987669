/* loop: epoll over file descriptors, a sorted list of caller-owned timers
 * behind one timerfd, and a signalfd, all dispatched from loop_run(). */
#include "common/loop.h"

#include "common/clock.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

struct fd_slot {
	loop_fd_cb cb;
	void *arg;
	int used;
};

struct loop {
	int ep, tfd, sfd;
	struct fd_slot *fds;      /* indexed by fd, nfds of them, allocated once */
	int nfds;
	struct loop_timer *timers; /* sorted by when, earliest first */
	struct loop_timer *last;
	double armed_for;         /* deadline the timerfd is set to, 0: none */
	sigset_t sigs;
	loop_signal_cb sig_cb[NSIG];
	void *sig_arg[NSIG];
	int stop;
};

/* The default size: the process's descriptor limit, within bounds. */
static int default_size(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return LOOP_MAX_SIZE;
	if (rl.rlim_cur < 1024)
		return 1024;
	return rl.rlim_cur > LOOP_MAX_SIZE ? LOOP_MAX_SIZE : (int)rl.rlim_cur;
}

struct loop *loop_new(int setsize)
{
	struct loop *l = calloc(1, sizeof *l);
	struct epoll_event ev = { .events = EPOLLIN };

	if (!l)
		return NULL;
	l->ep = l->tfd = l->sfd = -1;
	l->nfds = setsize > 0 ? setsize : default_size();
	if (!(l->fds = calloc((size_t)l->nfds, sizeof *l->fds)))
		goto err;
	sigemptyset(&l->sigs);
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->ep < 0)
		goto err;
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->tfd < 0)
		goto err;
	ev.data.fd = l->tfd;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->tfd, &ev) < 0)
		goto err;
	return l;
err:
	loop_free(l);
	return NULL;
}

void loop_free(struct loop *l)
{
	int e = errno;

	if (!l)
		return;
	if (l->ep >= 0)
		close(l->ep);
	if (l->tfd >= 0)
		close(l->tfd);
	if (l->sfd >= 0)
		close(l->sfd);
	free(l->fds);
	free(l);
	errno = e;
}

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_cb cb, void *arg)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	int op;

	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (fd >= l->nfds) {
		errno = EMFILE;   /* past the size the loop was made for */
		return -1;
	}
	op = l->fds[fd].used ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(l->ep, op, fd, &ev) < 0)
		return -1;
	l->fds[fd].cb = cb;
	l->fds[fd].arg = arg;
	l->fds[fd].used = 1;
	return 0;
}

void loop_del_fd(struct loop *l, int fd)
{
	int e = errno;

	if (fd < 0 || fd >= l->nfds || !l->fds[fd].used)
		return;
	/* The fd may already be closed; the kernel then forgot it by itself. */
	epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
	l->fds[fd].used = 0;
	l->fds[fd].cb = NULL;
	errno = e;
}

void loop_timer_init(struct loop_timer *t, loop_timer_cb cb, void *arg)
{
	memset(t, 0, sizeof *t);
	t->cb = cb;
	t->arg = arg;
}

/* Points the timerfd at the earliest timer (or disarms it). */
static int rearm(struct loop *l)
{
	struct itimerspec its;
	double w;

	memset(&its, 0, sizeof its);
	if (!l->timers) {
		if (l->armed_for == 0)
			return 0;
		l->armed_for = 0;
		return timerfd_settime(l->tfd, 0, &its, NULL);
	}
	w = l->timers->when;
	if (w == l->armed_for)
		return 0;
	l->armed_for = w;
	its.it_value.tv_sec = (time_t)w;
	its.it_value.tv_nsec = (long)((w - (double)(time_t)w) * 1e9);
	if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
		its.it_value.tv_nsec = 1;  /* zero would disarm */
	return timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void unlink_timer(struct loop *l, struct loop_timer *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		l->timers = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		l->last = t->prev;
	t->prev = t->next = NULL;
	t->armed = 0;
}

int loop_add_timer(struct loop *l, struct loop_timer *t, double seconds)
{
	struct loop_timer *p;

	if (t->armed)
		unlink_timer(l, t);
	if (seconds < 0)
		seconds = 0;
	t->when = clock_mono() + seconds;
	/* New timers are usually the latest: search from the tail. */
	for (p = l->last; p && p->when > t->when; p = p->prev)
		;
	t->prev = p;
	t->next = p ? p->next : l->timers;
	if (t->next)
		t->next->prev = t;
	else
		l->last = t;
	if (p)
		p->next = t;
	else
		l->timers = t;
	t->armed = 1;
	return rearm(l);
}

void loop_del_timer(struct loop *l, struct loop_timer *t)
{
	if (!t->armed)
		return;
	unlink_timer(l, t);
	rearm(l);
}

int loop_add_signal(struct loop *l, int signo, loop_signal_cb cb, void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd;

	if (signo <= 0 || signo >= NSIG) {
		errno = EINVAL;
		return -1;
	}
	sigaddset(&l->sigs, signo);
	if (sigprocmask(SIG_BLOCK, &l->sigs, NULL) < 0)
		return -1;
	fd = signalfd(l->sfd, &l->sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (l->sfd < 0) {
		l->sfd = fd;
		ev.data.fd = fd;
		if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -1;
	}
	l->sig_cb[signo] = cb;
	l->sig_arg[signo] = arg;
	return 0;
}

static void run_timers(struct loop *l)
{
	uint64_t n;
	double now = clock_mono();
	struct loop_timer *t;

	while (read(l->tfd, &n, sizeof n) > 0)
		;
	l->armed_for = 0;
	/* Timers armed by a callback for "now" run on the next turn. */
	while ((t = l->timers) && t->when <= now) {
		unlink_timer(l, t);
		t->cb(l, t->arg);
	}
	rearm(l);
}

static void run_signals(struct loop *l)
{
	struct signalfd_siginfo si;
	int s;

	while (read(l->sfd, &si, sizeof si) == (ssize_t)sizeof si) {
		s = (int)si.ssi_signo;
		if (s > 0 && s < NSIG && l->sig_cb[s])
			l->sig_cb[s](l, s, l->sig_arg[s]);
	}
}

int loop_run(struct loop *l)
{
	struct epoll_event evs[64];
	int n, i, fd;

	l->stop = 0;
	while (!l->stop) {
		n = epoll_wait(l->ep, evs, 64, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (i = 0; i < n && !l->stop; i++) {
			fd = evs[i].data.fd;
			if (fd == l->tfd)
				run_timers(l);
			else if (fd == l->sfd)
				run_signals(l);
			else if (fd < l->nfds && l->fds[fd].used)
				l->fds[fd].cb(l, fd, evs[i].events, l->fds[fd].arg);
		}
	}
	return 0;
}

void loop_stop(struct loop *l)
{
	l->stop = 1;
}
