/* legate: the command-line entry point.  A known subcommand (render, ...)
 * runs that; anything else is the template daemon's flags. */
#include "common/log.h"
#include "legate/commands.h"
#include "legate/config.h"

#include <stdio.h>
#include <string.h>

static const struct command_entry {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "render", render_cmd_main, "[-partials DIR] [-escape html|config|none] [-strict] TEMPLATE DATA.json" },
	{ "ambassador", ambassador_main, "[options] [BACKEND...]" },
};

int main(int argc, char **argv)
{
	log_init("legate", 2);
	if (argc > 1) {
		for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
			if (strcmp(argv[1], commands[i].name) == 0)
				return commands[i].main(argc - 1, argv + 1);
		if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "-help") == 0 ||
		    strcmp(argv[1], "--help") == 0) {
			config_usage(stdout);
			printf("\nsubcommands:\n");
			for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
				printf("  legate %s %s\n", commands[i].name, commands[i].help);
			return 0;
		}
	}
	return daemon_main(argc, argv);
}
