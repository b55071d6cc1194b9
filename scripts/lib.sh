# Helpers the scripts share (sourced, not run).

export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Waits until something listens on 127.0.0.1:$1 (up to a minute).
wait_for() {
  for _ in $(seq 1 240); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.25
  done
  echo "nothing listens on 127.0.0.1:$1; see the logs under ${DIR:-the data directory}" >&2
  return 1
}

# Fails when something already listens on any of the given 127.0.0.1 ports: a server
# started there would not get its port, and wait_for would find the other process.
require_free() {
  local port
  for port in "$@"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "127.0.0.1:$port is in use already (another run, or another program): stop it first" >&2
      return 1
    fi
  done
}

# Sends process $1 signal $2 (TERM by default) and waits until it is gone, killing it
# outright if it has not stopped within ten seconds.
stop_pid() {
  kill -"${2:-TERM}" "$1" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.25; done
  kill -KILL "$1" 2>/dev/null || true
}

# Stops the process in pid file $1 with signal $2 (KILL by default); nothing to do
# without the file (stopping what was never started).
kill_pid_file() {
  [[ -f $1 ]] || return 0
  stop_pid "$(cat "$1")" "${2:-KILL}"
  rm -f "$1"
}

# Stage timing: `stage NAME` ends the stage before (if any) and starts NAME; `stages`
# ends the last one and prints each stage's time and the total. The times go to the file
# $STAGE_TIMES, so stages run in subshells count too.
stage() {
  stage_end
  say "$1"
  printf '%s\t%s\n' "$(date +%s)" "$1" >"$STAGE_TIMES.current"
}
stage_end() {
  [[ -f $STAGE_TIMES.current ]] || return 0
  local started name
  IFS=$'\t' read -r started name <"$STAGE_TIMES.current"
  printf '%6ds  %s\n' $(($(date +%s) - started)) "$name" >>"$STAGE_TIMES"
  rm -f "$STAGE_TIMES.current"
}
stages() {
  stage_end
  [[ -f $STAGE_TIMES ]] || return 0
  say "time per stage"
  cat "$STAGE_TIMES"
  printf '%6ds  %s\n' $(($(date +%s) - ${STAGES_STARTED:-$(date +%s)})) "in all"
}
