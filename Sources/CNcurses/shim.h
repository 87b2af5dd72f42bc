// ncursesw with the wide-character API visible; Swift sees the functions, the shim target wraps the macros.
#ifndef QTOP_CNCURSES_SHIM_H
#define QTOP_CNCURSES_SHIM_H
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <locale.h>
#include <ncurses.h>
#endif
