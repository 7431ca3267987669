/* iptables: the NAT rule of omni mode, in the ambassador's own network
 * namespace: every incoming TCP connection redirected to the one
 * listener, whose socket still tells the port the client asked for. */
#ifndef LEGATE_AMB_IPTABLES_H
#define LEGATE_AMB_IPTABLES_H

#include "common/error.h"

/* Adds the REDIRECT to port unless it is there already (a second run, or
 * one that was killed, adds nothing).  Runs the iptables program; returns
 * 0, or -1 with err filled (caller-owned) with what iptables said. */
int amb_iptables_setup(int port, struct lg_error *err);

/* Removes every copy of the rule; logs a failure. */
void amb_iptables_teardown(int port);

#endif
