# The stage runner of quickstart.sh and toy.sh (sourced, not run). The caller sets LOGS (a folder) and FORCE (1 or 0).
#
# stage NAME DEPS SETTINGS DONE_TEST COMMAND...
#   Runs COMMAND with its output in LOGS/NAME.log, unless FORCE is off, DONE_TEST (a bash test) holds and the stamp
#   LOGS/stamps/NAME.key says the stage last finished with the same key. The key hashes SETTINGS (a word that names
#   a file counts by the file's content) and the keys of DEPS (names of stages run before), so a change of settings,
#   of a config file or of an earlier stage redoes the stage and every stage after it that reads it: a rerun never
#   mixes results made under different settings.
#   COMMAND sees STAGE_RESUME=1 when an unfinished attempt with the same key is there to resume (FORCE off), else 0:
#   a resumable command starts over at 0.
declare -A STAGE_KEY=()

stage_key() {  # DEPS SETTINGS
  local dep word
  for dep in $1; do
    [[ -n "${STAGE_KEY[$dep]:-}" ]] || { echo "error: stage $dep must run before a stage that reads it" >&2; return 2; }
    echo "stage $dep ${STAGE_KEY[$dep]}"
  done
  for word in $2; do
    if [[ -f "$word" ]]; then echo "file $word $(sha256sum < "$word")"; else echo "word $word"; fi
  done
}

stage() {
  local name=$1 deps=$2 settings=$3 done_test=$4 key lines stamps=$LOGS/stamps; shift 4
  lines=$(stage_key "$deps" "$settings") || exit 2
  key=$(sha256sum <<< "$lines" | cut -c1-16)
  STAGE_KEY[$name]=$key
  if [[ "$FORCE" != 1 ]] && eval "$done_test"; then
    if [[ "$(cat "$stamps/$name.key" 2> /dev/null)" == "$key" ]]; then
      echo "[$name] done before; reused (FORCE=1 redoes it)"; return
    fi
    echo "[$name] done before with other settings or inputs; redoing it"
  fi
  mkdir -p "$stamps"
  local resume=0 start=$(date +%s) status
  [[ "$FORCE" != 1 && "$(cat "$stamps/$name.started" 2> /dev/null)" == "$key" ]] && resume=1
  rm -f "$stamps/$name.key"
  echo "$key" > "$stamps/$name.started"
  echo "[$name] running (log: $LOGS/$name.log)"
  # A subshell outside any condition, so that set -e stops the stage at its first failing command.
  set +e
  ( set -e; export STAGE_RESUME=$resume; "$@" ) > "$LOGS/$name.log" 2>&1
  status=$?
  set -e
  if [[ $status != 0 ]]; then
    echo "[$name] FAILED; the end of $LOGS/$name.log:" >&2; tail -n 25 "$LOGS/$name.log" >&2; exit 1
  fi
  echo "[$name] ok in $(( $(date +%s) - start )) s"
  echo "$name $(( $(date +%s) - start ))" >> "$LOGS/stage_seconds.txt"
  echo "$key" > "$stamps/$name.key"
}
