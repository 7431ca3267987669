/* commands: the subcommands legate's main() dispatches to.  Each takes the
 * arguments after "legate" (argv[0] is the subcommand's name) and returns
 * the process exit code. */
#ifndef LEGATE_COMMANDS_H
#define LEGATE_COMMANDS_H

#define LEGATE_VERSION "0.1.0"

/* legate [flags]: watch Consul or etcd, render and install templates. */
int daemon_main(int argc, char **argv);

/* legate render [-partials DIR] [-escape html|config|none] TEMPLATE DATA.json */
int render_cmd_main(int argc, char **argv);

/* legate ambassador [options] [BACKEND...]: HAProxy in TCP mode, run and
 * reconfigured for the crewjam/ambassador and progrium/ambassadord forms. */
int ambassador_main(int argc, char **argv);

#endif
