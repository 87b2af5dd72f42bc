#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#define _GNU_SOURCE 1
#include <ncurses.h>
#include <locale.h>
#include <langinfo.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <fcntl.h>
#include <unistd.h>
#include "qtop_curses.h"

int qtop_curses_version_major(void) { return NCURSES_VERSION_MAJOR; }

static volatile sig_atomic_t screen_active = 0;
static int default_colors_ok = 0;
static int handlers_installed = 0;

/* While the screen is ours, stderr goes to an unlinked temporary file instead of the terminal: anything written to
   it then (a Swift runtime's "Fatal error: …" from the runner thread before it traps, a library's warning) would
   land on the alternate screen and vanish with it. qtop_tui_end puts stderr back and replays the file, so the
   message is the last thing the user sees. Only async-signal-safe calls, since the end may run in a handler. */
static int saved_stderr = -1;
static int captured_stderr = -1;

static void capture_stderr(void) {
    char path[] = "/tmp/qtop-stderr-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return;
    unlink(path);
    int saved = dup(STDERR_FILENO);
    if (saved < 0 || dup2(fd, STDERR_FILENO) < 0) {
        if (saved >= 0) close(saved);
        close(fd);
        return;
    }
    saved_stderr = saved;
    captured_stderr = fd;
}

static void replay_stderr(void) {
    if (saved_stderr < 0) return;
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    saved_stderr = -1;
    char buf[4096];
    ssize_t n;
    if (lseek(captured_stderr, 0, SEEK_SET) == 0) {
        while ((n = read(captured_stderr, buf, sizeof buf)) > 0) {
            if (write(STDERR_FILENO, buf, (size_t)n) < 0) break;
        }
    }
    close(captured_stderr);
    captured_stderr = -1;
}

void qtop_tui_end(void) {
    if (screen_active) {
        screen_active = 0;
        // Turn off mouse reporting before leaving, or some terminals keep sending escape sequences.
        mousemask(0, NULL);
        endwin();
    }
    replay_stderr();
}

static void on_signal(int sig) {
    qtop_tui_end();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_handlers(void) {
    if (handlers_installed) return;
    handlers_installed = 1;
    int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
    atexit(qtop_tui_end);
}

int qtop_locale_is_utf8(void) {
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

int qtop_tui_init(int want_mouse) {
    setlocale(LC_ALL, "");
    // Wide characters need the user's LC_CTYPE; numbers printed anywhere else in the process keep a '.' decimal point.
    setlocale(LC_NUMERIC, "C");
    install_handlers();
    set_escdelay(25);
    // newterm (unlike initscr) returns NULL instead of exiting when TERM is unknown, so the caller can report it.
    const char *term = getenv("TERM");
    if (term == NULL || *term == 0) return -1;
    SCREEN *scr = newterm(NULL, stdout, stdin);
    if (scr == NULL) return -1;
    set_term(scr);
    screen_active = 1;
    capture_stderr();
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    intrflush(stdscr, FALSE);
    curs_set(0);
    leaveok(stdscr, TRUE);
    scrollok(stdscr, FALSE);
    if (has_colors()) {
        start_color();
        default_colors_ok = use_default_colors() == OK;
    }
    if (want_mouse) {
        mousemask(BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
        mouseinterval(0);
    }
    return 0;
}

int qtop_colors(void) { return has_colors() ? COLORS : 0; }
int qtop_color_pairs(void) { return has_colors() ? COLOR_PAIRS : 0; }
int qtop_default_colors(void) { return default_colors_ok; }

void qtop_size(int *width, int *height) {
    int h, w;
    getmaxyx(stdscr, h, w);
    *width = w;
    *height = h;
}

void qtop_timeout(int ms) { timeout(ms); }

static int map_key(int k) {
    switch (k) {
    case KEY_UP: return QTOP_K_UP;
    case KEY_DOWN: return QTOP_K_DOWN;
    case KEY_LEFT: return QTOP_K_LEFT;
    case KEY_RIGHT: return QTOP_K_RIGHT;
    case KEY_PPAGE: return QTOP_K_PPAGE;
    case KEY_NPAGE: return QTOP_K_NPAGE;
    case KEY_HOME: return QTOP_K_HOME;
    case KEY_END: return QTOP_K_END;
    case KEY_ENTER: return QTOP_K_ENTER;
    case KEY_BACKSPACE: return QTOP_K_BACKSPACE;
    case KEY_BTAB: return QTOP_K_BTAB;
    case KEY_RESIZE: return QTOP_K_RESIZE;
    case KEY_DC: return QTOP_K_DELETE;
    default:
        if (k >= KEY_F(1) && k <= KEY_F(12)) return QTOP_K_F0 + (k - KEY_F(0));
        return QTOP_K_UNKNOWN;
    }
}

int qtop_read(int *code, int *x, int *y) {
    wint_t ch;
    int r = get_wch(&ch);
    *code = 0;
    *x = 0;
    *y = 0;
    if (r == ERR) return QTOP_EV_NONE;
    if (r == KEY_CODE_YES) {
        if (ch == KEY_MOUSE) {
            MEVENT ev;
            if (getmouse(&ev) != OK) return QTOP_EV_NONE;
            *x = ev.x;
            *y = ev.y;
            if (ev.bstate & BUTTON1_PRESSED) *code = QTOP_M_LEFT;
            else if (ev.bstate & BUTTON4_PRESSED) *code = QTOP_M_WHEEL_UP;
            else if (ev.bstate & BUTTON5_PRESSED) *code = QTOP_M_WHEEL_DOWN;
            else return QTOP_EV_NONE;
            return QTOP_EV_MOUSE;
        }
        *code = map_key((int)ch);
        return QTOP_EV_KEY;
    }
    *code = (int)ch;
    return QTOP_EV_CHAR;
}

int qtop_init_pair(int pair, int fg, int bg) {
    if (!default_colors_ok) {
        if (fg < 0) fg = COLOR_WHITE;
        if (bg < 0) bg = COLOR_BLACK;
    }
#if NCURSES_EXT_COLORS
    return init_extended_pair(pair, fg, bg);
#else
    return init_pair((short)pair, (short)fg, (short)bg);
#endif
}

void qtop_put(int y, int x, const int32_t *codepoints, int count, int attrs, int pair) {
    wchar_t wc[5];
    int n = count > 4 ? 4 : count;
    for (int i = 0; i < n; i++) wc[i] = (wchar_t)codepoints[i];
    wc[n] = 0;
    attr_t a = A_NORMAL;
    if (attrs & QTOP_A_BOLD) a |= A_BOLD;
    if (attrs & QTOP_A_DIM) a |= A_DIM;
    if (attrs & QTOP_A_UNDERLINE) a |= A_UNDERLINE;
    if (attrs & QTOP_A_REVERSE) a |= A_REVERSE;
#ifdef A_ITALIC
    if (attrs & QTOP_A_ITALIC) a |= A_ITALIC;
#endif
    cchar_t c;
    int p = pair;
    setcchar(&c, wc, a, (short)(pair < 32767 ? pair : 0), &p);
    mvadd_wch(y, x, &c);
}

void qtop_refresh(void) { refresh(); }
void qtop_clear(void) { clear(); }
