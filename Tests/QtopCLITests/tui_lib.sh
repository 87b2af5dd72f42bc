# Shared by the tmux end-to-end scripts (sourced after they set `sock`): a private tmux server whose output goes
# nowhere, a screen reader for session `e`, and wait_for, which polls the screen until every pattern appears
# (up to 60 s: CI machines may be loaded), prints "STEP label", or prints the screen and ends the run.
t() { tmux -L "$sock" "$@"; }
screen() { t capture-pane -p -t e 2>/dev/null; }
wait_for() {
  local label="$1"; shift
  for _ in $(seq 1 600); do
    local s; s="$(screen)"; local ok=1
    for p in "$@"; do grep -qF -- "$p" <<<"$s" || ok=0; done
    if [ "$ok" = 1 ]; then echo "STEP $label"; return 0; fi
    sleep 0.1
  done
  echo "TIMEOUT $label"; echo "----- screen -----"; screen; echo "------------------"
  t kill-server >/dev/null 2>&1; exit 1
}
trap 't kill-server >/dev/null 2>&1' EXIT
