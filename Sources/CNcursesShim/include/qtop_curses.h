#ifndef QTOP_CURSES_H
#define QTOP_CURSES_H
// Thin, placeholder-free wrappers are added by the terminal backend.
int qtop_curses_version_major(void);
#endif
