/* clock: the two clocks legate reads, in seconds as doubles: the monotonic
 * one for every delay, timeout and latency, the wall clock only for times
 * shown to people (/status, logs).  libc only. */
#ifndef LEGATE_COMMON_CLOCK_H
#define LEGATE_COMMON_CLOCK_H

/* Seconds since an arbitrary point; never goes back. */
double clock_mono(void);

/* Seconds since the epoch (CLOCK_REALTIME). */
double clock_wall(void);

#endif
