#ifndef QTOP_CURSES_H
#define QTOP_CURSES_H
// A small C surface over ncursesw for Swift: the curses macros (COLOR_PAIR, getmaxyx, A_*, KEY_*, mouse masks) and
// globals (stdscr, COLORS) do not import into Swift, so they are wrapped here. Only QtopTerminal uses this.
#include <stdint.h>

int qtop_curses_version_major(void);

/// Event kinds returned by qtop_read.
enum {
    QTOP_EV_NONE = 0,   // timeout, or an event we ignore
    QTOP_EV_CHAR = 1,   // *code = Unicode scalar
    QTOP_EV_KEY = 2,    // *code = QTOP_K_*
    QTOP_EV_MOUSE = 3,  // *code = QTOP_M_*, *x/*y = cell
};

/// Decoded special keys (independent of ncurses' KEY_* numbering).
enum {
    QTOP_K_UNKNOWN = 0, QTOP_K_UP, QTOP_K_DOWN, QTOP_K_LEFT, QTOP_K_RIGHT, QTOP_K_PPAGE, QTOP_K_NPAGE,
    QTOP_K_HOME, QTOP_K_END, QTOP_K_ENTER, QTOP_K_BACKSPACE, QTOP_K_BTAB, QTOP_K_RESIZE, QTOP_K_DELETE,
    QTOP_K_F0 = 100, // QTOP_K_F0 + n for F1...F12
};

enum { QTOP_M_LEFT = 1, QTOP_M_WHEEL_UP = 4, QTOP_M_WHEEL_DOWN = 5 };

/// Attribute bits (same values as QtopUI.CellAttributes).
enum { QTOP_A_BOLD = 1, QTOP_A_DIM = 2, QTOP_A_UNDERLINE = 4, QTOP_A_REVERSE = 8, QTOP_A_ITALIC = 16 };

/// setlocale(LC_ALL, ""), initscr, raw-ish input, colours, mouse, and handlers that call endwin on SIGINT/SIGTERM/
/// SIGHUP/SIGQUIT and fatal signals (then re-raise). Returns 0 on success, -1 if the terminal cannot be initialised.
int qtop_tui_init(int want_mouse);
/// endwin() if the screen is ours, then stderr back to the terminal with what was written to it meanwhile replayed;
/// safe to call more than once, from atexit and from a signal handler.
void qtop_tui_end(void);
int qtop_locale_is_utf8(void);
/// Colours the terminal has (0 without colour support) and the number of colour pairs.
int qtop_colors(void);
int qtop_color_pairs(void);
/// 1 when use_default_colors() worked, so -1 means "terminal default".
int qtop_default_colors(void);
void qtop_size(int *width, int *height);
void qtop_timeout(int ms);
int qtop_read(int *code, int *x, int *y);
/// Defines colour pair `pair` (extended colours: fg/bg may be packed RGB on direct-colour terminals, -1 = default).
int qtop_init_pair(int pair, int fg, int bg);
/// Draws one character (up to 4 code points incl. combining marks) with QTOP_A_* attributes and a colour pair.
void qtop_put(int y, int x, const int32_t *codepoints, int count, int attrs, int pair);
void qtop_refresh(void);
void qtop_clear(void);
#endif
