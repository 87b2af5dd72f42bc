#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <ncurses.h>
#include "qtop_curses.h"
int qtop_curses_version_major(void) { return NCURSES_VERSION_MAJOR; }
