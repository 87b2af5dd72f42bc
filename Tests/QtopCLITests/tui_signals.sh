#!/usr/bin/env bash
# Runtime faults a terminal program must survive (issue: hostile input, runtime faults). For each case qtop runs in a
# private tmux server; afterwards the pane's shell reports the exit status and whether the terminal was handed back
# (canonical mode and echo on, the alternate screen left). Prints one line per case: "CASE name exit=N tty=ok|bad".
# usage: tui_signals.sh QTOP_BINARY MODEL
set -u
qtop="$1"; model="$2"
sock="qtop-sig-$$"
t() { tmux -L "$sock" "$@"; }
trap 't kill-server >/dev/null 2>&1' EXIT
# A session that outlives the cases: killing a case's session must never leave the server empty, or it exits and the
# next case's new-session can race its shutdown (seen: a case whose UI "never started").
t new-session -d -s keep "sleep 600" </dev/null >/dev/null 2>&1

screen() { t capture-pane -p -t "$1" 2>/dev/null; }
wait_for() {  # wait_for SESSION PATTERN (up to 60 s: CI machines may be loaded)
  for _ in $(seq 1 600); do screen "$1" | grep -qF -- "$2" && return 0; sleep 0.1; done
  echo "TIMEOUT $1 waiting for '$2'"; screen "$1"; return 1
}
# After qtop ends, the pane's shell prints its status and the terminal modes it was left in.
start() {
  t has-session -t keep 2>/dev/null || { echo "TIMEOUT $1: the tmux server is gone"; return 1; }
  t new-session -d -s "$1" -x 100 -y 30 \
    "env LANG=C.UTF-8 TERM=xterm-256color '$qtop' '$model' --view profile; echo QTOP_EXIT=\$?; \
     stty -a | tr ' ;' '\n\n' | grep -Ex -- '-?(icanon|echo)' | tr '\n' ' ' | sed 's/^/TTY=/'; echo; sleep 60" \
    </dev/null >/dev/null 2>&1
  wait_for "$1" "Implementation"
}
qpid() { pgrep -n -f -- "$qtop $model" ; }
report() {  # report SESSION CASE
  wait_for "$1" "TTY=" || { echo "CASE $2 exit=? tty=bad"; return; }
  local s; s="$(screen "$1")"
  local code; code="$(grep -o 'QTOP_EXIT=[0-9]*' <<<"$s" | head -1 | cut -d= -f2)"
  local tty=bad
  if grep -q 'TTY=icanon echo' <<<"$s"; then tty=ok; fi
  # The alternate screen was left: the shell's output is on the normal screen, not after a blank UI frame.
  if grep -qF 'Implementation' <<<"$s"; then tty=bad; fi
  echo "CASE $2 exit=$code tty=$tty"
  t kill-session -t "$1" >/dev/null 2>&1
}

for sig in INT TERM HUP; do
  start "s$sig" || exit 1
  kill -s "$sig" "$(qpid)"
  report "s$sig" "$sig"
done

# A storm of window-size changes while profiling, then the UI still answers keys and quits cleanly.
start winch || exit 1
for i in $(seq 1 40); do
  t resize-window -t winch -x $(( 80 + (i % 5) * 10 )) -y $(( 24 + (i % 4) * 3 )) >/dev/null 2>&1
  kill -s WINCH "$(qpid)" 2>/dev/null
done
t resize-window -t winch -x 100 -y 30 >/dev/null 2>&1
sleep 0.5
t send-keys -t winch 1; wait_for winch "Passes" && t send-keys -t winch 2 && wait_for winch "Implementation" && t send-keys -t winch q
report winch WINCH

# A fatal signal (what a trap in the runner thread raises): the screen comes back, then the default action.
start abrt || exit 1
kill -s ABRT "$(qpid)"
report abrt ABRT
