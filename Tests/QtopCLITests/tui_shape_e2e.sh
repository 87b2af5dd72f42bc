#!/usr/bin/env bash
# Drives `qtop MODEL` on a model with unknown height and width in a private tmux server: the shape prompt appears
# over the graph, a bad shape is refused on the prompt line, Enter runs the proposed shape, `s` changes it, q quits.
# usage: tui_shape_e2e.sh QTOP_BINARY MODEL   (the Swift test checks the STEP markers)
set -u
qtop="$1"; model="$2"
sock="qtop-shape-e2e-$$"
. "$(dirname "$0")/tui_lib.sh"
t new-session -d -s e -x 100 -y 30 \
  "env LANG=C.UTF-8 TERM=xterm-256color '$qtop' '$model' --view graph; echo QTOP_EXIT=\$?; sleep 30" \
  </dev/null >/dev/null 2>&1
wait_for prompt "shape of x[?,2,?,?]: [1,2,640,640]" "no input shapes" "Passes"
t send-keys -t e C-u '[1,2,0,8]' Enter; wait_for refused "dim 2 must be positive"
t send-keys -t e C-u '[1,2,64,64]' Enter; wait_for running "in x[1,2,64,64]" "fps"
t send-keys -t e s; wait_for reopened "shape of x[?,2,?,?]: [1,2,64,64]"
t send-keys -t e C-u '[2,2,8,12]' Enter; wait_for changed "in x[2,2,8,12]" "fps"
t send-keys -t e q; wait_for quit "QTOP_EXIT=0"
