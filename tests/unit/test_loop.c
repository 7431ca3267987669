/* test_loop: common/loop: timers fire in order and can be moved or cancelled,
 * fds and signals are dispatched, loop_stop ends loop_run. */
#include "tests/unit/check.h"

#include <signal.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/loop.h"

static char order[16];
static int norder;

struct tag {
	struct loop_timer t;
	char c;
};

static void fired(struct loop *l, void *arg)
{
	struct tag *g = arg;

	(void)l;
	order[norder++] = g->c;
}

static void stop(struct loop *l, void *arg)
{
	(void)arg;
	loop_stop(l);
}

static int got_fd, got_sig;

static void on_fd(struct loop *l, int fd, uint32_t ev, void *arg)
{
	char c;

	(void)arg;
	(void)ev;
	if (read(fd, &c, 1) == 1)
		got_fd = c;
	loop_del_fd(l, fd);
}

static void on_sig(struct loop *l, int signo, void *arg)
{
	(void)arg;
	got_sig = signo;
	loop_stop(l);
}

int main(void)
{
	struct loop *l = loop_new(0);
	struct tag a = { .c = 'a' }, b = { .c = 'b' }, c = { .c = 'c' }, d = { .c = 'd' };
	struct loop_timer end;
	int p[2];
	double t0;

	check(l != NULL);
	loop_timer_init(&a.t, fired, &a);
	loop_timer_init(&b.t, fired, &b);
	loop_timer_init(&c.t, fired, &c);
	loop_timer_init(&d.t, fired, &d);
	loop_timer_init(&end, stop, NULL);
	loop_add_timer(l, &c.t, 0.03);
	loop_add_timer(l, &a.t, 0.01);
	loop_add_timer(l, &b.t, 0);
	loop_add_timer(l, &d.t, 0.02);
	loop_add_timer(l, &b.t, 0.02);   /* moved after d */
	loop_del_timer(l, &d.t);         /* and d cancelled */
	loop_add_timer(l, &end, 0.05);
	check(pipe(p) == 0);
	check(write(p[1], "x", 1) == 1);
	check(loop_add_fd(l, p[0], 0x001 /* EPOLLIN */, on_fd, NULL) == 0);
	t0 = clock_mono();
	check(loop_run(l) == 0);
	check(clock_mono() - t0 >= 0.04);
	order[norder] = '\0';
	check_str(order, "abc");
	check_int(got_fd, 'x');

	check(loop_add_signal(l, SIGUSR1, on_sig, NULL) == 0);
	kill(getpid(), SIGUSR1);
	check(loop_run(l) == 0);
	check_int(got_sig, SIGUSR1);
	close(p[0]);
	close(p[1]);
	loop_free(l);
	return check_done();
}
