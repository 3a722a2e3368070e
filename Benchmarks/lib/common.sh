# shellcheck shell=bash
# Shared helpers for Benchmarks/run.sh: messages, arithmetic, and the timed runner that keeps the best of
# several runs. Sourced, never executed.
# Its globals are read by the other files run.sh sources.
# shellcheck disable=SC2034

say() {
    printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

die() {
    printf 'run.sh: %s\n' "$*" >&2
    exit 1
}

# awk does the floating-point arithmetic: calc EXPRESSION [DECIMALS]
calc() {
    awk -v decimals="${2:-2}" "BEGIN { printf \"%.*f\", decimals, ($1) }"
}

load_now() {
    cut -d ' ' -f 1 /proc/loadavg
}

mib() {
    calc "$1 / 1048576" "${2:-1}"
}

# Results, by measurement id. Only the best run's figures are kept, and every run's wall time.
declare -gA R_WALL=() R_RUNS=() R_RSS=() R_CPU=() R_SERVER_CPU=() R_LOAD=() R_SIZE=()
CLOCK_TICKS=$(getconf CLK_TCK)

# True while the postmaster has a client backend (process title "postgres: USER DB …") as a child, or a child
# that exited and is not reaped yet (a zombie: its CPU time reaches the postmaster only once reaped).
client_backends() {
    local children child stat
    read -r -a children <"/proc/$1/task/$1/children" || true
    for child in "${children[@]}"; do
        stat=$(sed 's/^.*) //' 2>/dev/null <"/proc/$child/stat") || continue
        [[ $stat == Z* ]] && return 0
        [[ $(tr '\0' ' ' 2>/dev/null <"/proc/$child/cmdline") == "postgres: postgres "* ]] && return 0
    done
    return 1
}

# CPU ticks the PostgreSQL server has used so far: the postmaster's own and those of its children that have
# exited (each connection's backend is reaped when the connection ends, so a finished command's backend is
# counted). Long-lived helpers (checkpointer, WAL writer) are not; they do little here.
server_ticks() {
    local postmaster i
    postmaster=$(head -n 1 "$PG_DIR/data/postmaster.pid")
    # Let the postmaster reap the backends of connections that just closed (at most 10 s).
    for ((i = 0; i < 100; i++)); do
        client_backends "$postmaster" || break
        sleep 0.1
    done
    # Fields after "pid (comm) ": utime, stime, cutime, cstime are the 12th to 15th.
    sed 's/^.*) //' "/proc/$postmaster/stat" | awk '{ print $12 + $13 + $14 + $15 }'
}

# Size in bytes of what a measurement wrote: a file, the newest backup in a directory, or nothing ("-").
output_bytes() {
    local target=$1 newest
    if [[ $target == - ]]; then
        printf ''
    elif [[ -d $target ]]; then
        newest=$(find "$target" -maxdepth 1 \( -name 'backup_*.sql.gz' -o -name 'backup_*.sql.zst' -o -name 'backup_*.sql.*.age' \) -printf '%T@ %p\n' |
            sort -n | tail -n 1 | cut -d ' ' -f 2-)
        [[ -n $newest ]] || die "no backup was written to $target"
        stat -c %s "$newest"
    else
        stat -c %s "$target"
    fi
}

# The number of runs recorded so far for a measurement id.
runs_of() {
    local runs=${R_RUNS[$1]:-}
    if [[ -z $runs ]]; then
        printf '0'
    else
        awk -F ' / ' '{ print NF }' <<<"$runs"
    fi
}

# measure ID OUTPUT -- COMMAND...
# Runs COMMAND once under /usr/bin/time -v and records wall time (bash's clock, microseconds), peak RSS (the
# largest process /usr/bin/time waited for, so a pipeline reports its biggest member), user+system CPU of the
# command and its children (not the PostgreSQL server's), the 1-minute load just before, and OUTPUT's size.
# Called once per run; the fastest run's figures are kept.
measure() {
    local id=$1 output=$2
    shift 3
    local log
    log="$WORK/logs/$id.$(($(runs_of "$id") + 1))"
    local load start end wall rss user system ticks_before ticks_after
    load=$(load_now)
    ticks_before=$(server_ticks)
    start=$EPOCHREALTIME
    if ! /usr/bin/time -v -o "$log.time" "$@" >"$log.out" 2>"$log.err"; then
        tail -n 20 "$log.err" >&2
        die "measurement '$id' failed (command: $*)"
    fi
    end=$EPOCHREALTIME
    ticks_after=$(server_ticks)
    wall=$(calc "$end - $start")
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log.time")
    user=$(awk -F': ' '/User time \(seconds\)/ { print $2 }' "$log.time")
    system=$(awk -F': ' '/System time \(seconds\)/ { print $2 }' "$log.time")
    R_RUNS[$id]="${R_RUNS[$id]:-}${R_RUNS[$id]:+ / }$wall"
    if [[ -z ${R_WALL[$id]:-} ]] || (($(calc "$wall < ${R_WALL[$id]}" 0))); then
        R_WALL[$id]=$wall
        R_RSS[$id]=$(calc "$rss / 1024" 1)
        R_CPU[$id]=$(calc "$user + $system" 1)
        R_SERVER_CPU[$id]=$(calc "($ticks_after - $ticks_before) / $CLOCK_TICKS" 1)
        R_LOAD[$id]=$load
        R_SIZE[$id]=$(output_bytes "$output")
    fi
    say "$id: ${wall}s (load $load)"
}
