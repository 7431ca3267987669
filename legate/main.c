/* legate: the command-line entry point.  Dispatches to the subcommands
 * (render, ...) and, with none, runs the template daemon. */
#include "common/log.h"
#include "legate/commands.h"

#include <stdio.h>
#include <string.h>

static const struct command {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "render", render_cmd_main, "render TEMPLATE with DATA.json to stdout" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: legate [flags]             watch Consul or etcd and render templates\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "       legate %-20s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "       legate -version\n");
}

int main(int argc, char **argv)
{
	log_init("legate", 2);
	if (argc > 1) {
		for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
			if (strcmp(argv[1], commands[i].name) == 0)
				return commands[i].main(argc - 1, argv + 1);
		if (strcmp(argv[1], "-version") == 0 || strcmp(argv[1], "--version") == 0) {
			printf("legate %s\n", LEGATE_VERSION);
			return 0;
		}
		if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "-help") == 0 ||
		    strcmp(argv[1], "--help") == 0) {
			usage(stdout);
			return 0;
		}
	}
	usage(stderr);
	log_error("the template daemon is not built yet; only subcommands run");
	return 2;
}
