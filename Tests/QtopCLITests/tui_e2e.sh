#!/usr/bin/env bash
# Drives `qtop MODEL` in a private tmux server like a person would and prints a marker per step reached.
# usage: tui_e2e.sh QTOP_BINARY MODEL   (the Swift test checks the markers)
set -u
qtop="$1"; model="$2"
sock="qtop-e2e-$$"
. "$(dirname "$0")/tui_lib.sh"
start=$(date +%s)
# The server's output goes nowhere, so it never holds the caller's pipes open.
t new-session -d -s e -x 100 -y 30 \
  "env LANG=C.UTF-8 TERM=xterm-256color '$qtop' '$model' --view graph; echo QTOP_EXIT=\$?; sleep 30" \
  </dev/null >/dev/null 2>&1
wait_for graph "step 8/8" "qconv2d" "Passes"
echo "ELAPSED $(( $(date +%s) - start ))"
sleep 1  # let the first frames settle, as a person would, before typing
t send-keys -t e Left; wait_for lower "step 7/8 lower-int8"
for _ in 1 2 3 4 5 6 7 8; do t send-keys -t e Left; done; wait_for loaded "step 0/8" "quantize_linear"
t send-keys -t e 2; wait_for profile "Implementation" ":i8" "qconv2d"
t send-keys -t e '>'; wait_for sorted "↓"
t send-keys -t e Enter; wait_for detail "Dispatch" "Provenance" "chosen"
t send-keys -t e Escape; t send-keys -t e q; wait_for quit "QTOP_EXIT=0"
