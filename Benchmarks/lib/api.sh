# shellcheck shell=bash
# list/status through nginx with many backups present, idle and while backups run. Sourced by run.sh.
# Its globals are read by the other files run.sh sources.
# shellcheck disable=SC2034

RESPONDER_PID=""
LOAD_LOOP_PID=""
NGINX_STARTED=0
STATIC_LIST_BYTES=0
HTTP_PORT=""
HTTP_AUTH=""
declare -gA W_RPS=() W_REQUESTS=() W_P50=() W_P99=() W_ERRORS=() W_LOAD=() W_COVER=()

# Makes BACKUP_COUNT backups cheaply: one real backup of the small database bench_list, then copies of it
# and its sidecar under distinct valid names, one every 5 minutes back from now (all younger than the
# retention the responder is given), with the sidecar's filename, timestamp and created_at rewritten to match.
make_backups() {
    local dir=$WORK/api
    env BACKUP_DIR="$dir" POSTGRES_DB=bench_list "$BIN/pgbackup" create -d "template for the list benchmark" \
        >"$WORK/logs/api-template.log" 2>&1 || die "pgbackup create of bench_list failed: $(cat "$WORK/logs/api-template.log")"
    local template_name template template_ts template_created
    template_name=$(basename "$(find "$dir" -maxdepth 1 -name 'backup_bench_list_*.sql.gz' | head -n 1)")
    template=$(<"$dir/$template_name.json")
    template_ts=$(grep -o '"timestamp" *: *"[0-9_]*"' <<<"$template" | grep -o '[0-9_]*"$' | tr -d '"')
    template_created=$(grep -o '"created_at" *: *"[^"]*"' <<<"$template" | sed 's/.*"\([^"]*\)"$/\1/')
    [[ -n $template_ts && -n $template_created ]] || die "cannot read the template sidecar: $template"

    # Builtins only in the loop (printf writes the sidecars); one tee writes every copy of the dump.
    local now i epoch ts created name text names=()
    now=$(date +%s)
    for ((i = 1; i < BACKUP_COUNT; i++)); do
        epoch=$((now - i * 300))
        TZ=UTC printf -v ts '%(%Y%m%d_%H%M%S)T' "$epoch"
        TZ=UTC printf -v created '%(%Y-%m-%dT%H:%M:%S)T.000000Z' "$epoch"
        name="backup_bench_list_$ts.sql.gz"
        text=${template//"$template_name"/"$name"}
        text=${text//"\"$template_ts\""/"\"$ts\""}
        text=${text//"$template_created"/"$created"}
        printf '%s\n' "$text" >"$dir/$name.json"
        names+=("$dir/$name")
    done
    if ((${#names[@]})); then
        tee "${names[@]}" <"$dir/$template_name" >/dev/null
    fi
    chmod 0600 "$dir"/backup_*
}

free_port() {
    local port
    for ((port = 18443 + $$ % 500; port < 20000; port++)); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            printf '%s' "$port"
            return 0
        fi
    done
    die "no free port"
}

start_front() {
    local socket_dir=$WORK/run password
    mkdir -p "$socket_dir"
    chmod 0711 "$socket_dir"
    local group_args=()
    if ((EUID == 0)); then
        group_args=(--socket-group www-data)
    fi
    env BACKUP_DIR="$WORK/api" POSTGRES_DB=bench PGBACKUP_OPERATORS=bench "$BIN/pgbackup-fcgi" --socket "$socket_dir/fcgi.sock" \
        "${group_args[@]}" --workers 8 >"$WORK/logs/responder.log" 2>&1 &
    RESPONDER_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        [[ -S $socket_dir/fcgi.sock ]] && break
        kill -0 "$RESPONDER_PID" 2>/dev/null || die "the responder exited: $(tail -n 5 "$WORK/logs/responder.log")"
        sleep 0.1
    done
    [[ -S $socket_dir/fcgi.sock ]] || die "the responder did not create its socket"

    HTTP_PORT=$(free_port)
    password=$(openssl rand -hex 16)
    PGBACKUP_HTTP_USER=bench PGBACKUP_HTTP_PASSWORD=$password \
        "$REPO/nginx/local.sh" start "$WORK/nginx" "$HTTP_PORT" "$socket_dir/fcgi.sock"
    NGINX_STARTED=1
    HTTP_AUTH="Authorization: Basic $(printf 'bench:%s' "$password" | base64 -w 0)"
}

stop_front() {
    if ((NGINX_STARTED)); then
        "$REPO/nginx/local.sh" stop "$WORK/nginx" || true
        NGINX_STARTED=0
    fi
    if [[ -n $RESPONDER_PID ]]; then
        kill -TERM "$RESPONDER_PID" 2>/dev/null || true
        local i
        for ((i = 0; i < 50; i++)); do
            kill -0 "$RESPONDER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$RESPONDER_PID" 2>/dev/null || true
        wait "$RESPONDER_PID" 2>/dev/null || true
        RESPONDER_PID=""
    fi
}

# The floor of an uncompressed list: the same bytes as a static file that this nginx serves itself, in the
# same server block (same TLS, same basic auth), with no responder behind it. Added to the benchmark's
# rendered copy of the configuration only, then nginx reloads.
add_static_floor() {
    local dir=$WORK/nginx static=$WORK/nginx/static conf=$WORK/nginx/pgbackup.conf
    mkdir -p "$static"
    api_get /api/backups >"$static/list.json" || die "GET /api/backups failed"
    chmod 0755 "$static"
    chmod 0644 "$static/list.json"
    STATIC_LIST_BYTES=$(wc -c <"$static/list.json")
    awk -v root="$dir" '
        { print }
        /^    location \/ \{$/ { inside = 1 }
        inside && /^    \}$/ {
            inside = 0
            print "    location = /static/list.json {"
            print "        auth_basic \"pgbackup\";"
            print "        auth_basic_user_file " root "/htpasswd;"
            print "        default_type application/json;"
            print "        root " root ";"
            print "    }"
        }' "$conf" >"$conf.new"
    grep -q 'location = /static/list.json' "$conf.new" || die "could not add the static list to $conf"
    mv "$conf.new" "$conf"
    if ! nginx -t -q -p "$dir/" -c "$dir/nginx.conf" 2>"$WORK/logs/nginx-reload.log" ||
        ! nginx -p "$dir/" -c "$dir/nginx.conf" -s reload 2>>"$WORK/logs/nginx-reload.log"; then
        die "nginx did not take the static list: $(cat "$WORK/logs/nginx-reload.log")"
    fi
    local i
    for ((i = 0; i < 50; i++)); do
        cmp -s <(api_get /static/list.json 2>/dev/null) "$static/list.json" && return 0
        sleep 0.1
    done
    die "nginx does not serve the static copy of the list"
}

api_get() {
    curl -sS -k --fail-with-body -H "$HTTP_AUTH" "https://127.0.0.1:$HTTP_PORT$1"
}

# The API must see every backup before its latency means anything.
check_api() {
    local expected=$1 status listed
    status=$(api_get /api/backups/status) || die "GET /api/backups/status failed: $status"
    grep -q "\"total_backups\" *: *${expected}[,}]" <<<"$status" ||
        die "status does not report $expected backups: ${status:0:300}"
    listed=$(api_get /api/backups | grep -o '"filename" *:' | wc -l) || die "GET /api/backups failed"
    ((listed == expected)) || die "the list holds $listed entries, expected $expected"
}

# wrk's latency figures in milliseconds (it prints us, ms or s).
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v }
        else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.2f", v * 1000 }
        else printf "?" }'
}

# run_wrk ID PATH [HEADER]: wrk with the issue's parameters. --timeout 10s so slow answers count in the
# percentiles instead of vanishing as timeouts (wrk's default is 2 s). The list runs twice: as wrk asks by
# default (no Accept-Encoding: the whole ~0.5 MB) and with `Accept-Encoding: gzip`, as browsers, Python
# requests and URLSession ask by default.
run_wrk() {
    local id=$1 path=$2 out=$WORK/logs/wrk-$1.txt
    local extra=()
    if (($# > 2)); then
        extra=(-H "$3")
    fi
    W_LOAD[$id]=$(load_now)
    wrk -t2 -c16 -d"${WRK_SECONDS}s" --timeout 10s --latency -H "$HTTP_AUTH" "${extra[@]}" \
        "https://127.0.0.1:$HTTP_PORT$path" >"$out" 2>&1 || die "wrk failed: $(cat "$out")"
    W_RPS[$id]=$(awk '/^Requests\/sec:/ { printf "%.1f", $2 }' "$out")
    W_REQUESTS[$id]=$(awk '/requests in/ { print $1 }' "$out")
    if [[ ${W_REQUESTS[$id]} == 0 ]]; then
        W_P50[$id]=n/a
        W_P99[$id]=n/a
    else
        W_P50[$id]=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
        W_P99[$id]=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
    fi
    local non2xx socket
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
    socket=$(awk '/Socket errors:/ { sub(/.*Socket errors: /, ""); print }' "$out")
    W_ERRORS[$id]="${non2xx:-0} non-2xx${socket:+; socket errors: $socket}"
    say "wrk $id: ${W_REQUESTS[$id]} requests, ${W_RPS[$id]} req/s, p50 ${W_P50[$id]} ms, p99 ${W_P99[$id]} ms, ${W_ERRORS[$id]}"
    # Requests wrk gave up on at its deadline are still being answered; one more request queues behind them,
    # so when it returns the next run starts with idle workers.
    api_get /api/backups/status >/dev/null || die "the API stopped answering after wrk $id"
}

# Back-to-back `pgbackup create` of the big database into the API's directory (so status shows it running),
# each started with setsid like a systemd service or an async job (then it lowers its own session's weight),
# until the stop file appears. Each create's start and end times go to a file, to say how much of wrk's
# window a backup was really running.
start_load_loop() {
    local spans=$1 stop=$2
    rm -f "$stop" "$spans"
    (
        while [[ ! -e $stop ]]; do
            start=$EPOCHREALTIME
            # In a session of its own, as the scheduler's service and the API's async jobs run.
            setsid env BACKUP_DIR="$WORK/api" POSTGRES_DB=bench "$BIN/pgbackup" create -d "load during the API benchmark" \
                >>"$WORK/logs/load-creates.log" 2>&1 &
            printf '%s\n' "$!" >"$WORK/load-create.pid"
            status=0
            wait "$!" || status=$?
            printf '%s %s %s\n' "$start" "$EPOCHREALTIME" "$status" >>"$spans"
        done
    ) &
    LOAD_LOOP_PID=$!
    # wrk starts once the first dump is streaming into the partial directory.
    local i
    for ((i = 0; i < 100; i++)); do
        compgen -G "$WORK/api/.partial/backup_bench_2*" >/dev/null && return 0
        sleep 0.1
    done
    die "the background pgbackup create did not start: $(tail -n 5 "$WORK/logs/load-creates.log")"
}

stop_load_loop() {
    local stop=$1
    [[ -n $LOAD_LOOP_PID ]] || return 0
    touch "$stop"
    wait "$LOAD_LOOP_PID" 2>/dev/null || true
    LOAD_LOOP_PID=""
}

# Kills a running load loop at once (cleanup on failure or interrupt).
kill_load_loop() {
    [[ -n $LOAD_LOOP_PID ]] || return 0
    touch "$WORK/load.stop" 2>/dev/null || true
    if [[ -r $WORK/load-create.pid ]]; then
        kill -TERM "$(<"$WORK/load-create.pid")" 2>/dev/null || true
    fi
    wait "$LOAD_LOOP_PID" 2>/dev/null || true
    LOAD_LOOP_PID=""
}

# Seconds of [from, to] covered by the creates listed in SPANS, as a percentage; fails if a create failed.
coverage() {
    local spans=$1 from=$2 to=$3
    awk -v from="$from" -v to="$to" '
        $3 != 0 { failed = 1 }
        { s = ($1 > from) ? $1 : from; e = ($2 < to) ? $2 : to; if (e > s) covered += e - s }
        END { if (failed) exit 1; printf "%.0f", 100 * covered / (to - from) }' "$spans"
}

api_suite() {
    mkdir -p "$WORK/api"
    say "making $BACKUP_COUNT backups"
    make_backups
    start_front
    check_api "$BACKUP_COUNT"
    say "API up on 127.0.0.1:$HTTP_PORT with $BACKUP_COUNT backups"

    # The gzip answer must be the same list.
    [[ $(curl -sS -k --fail-with-body -H "$HTTP_AUTH" -H 'Accept-Encoding: gzip' "https://127.0.0.1:$HTTP_PORT/api/backups" |
        gunzip -c | grep -o '"filename" *:' | wc -l) == "$BACKUP_COUNT" ]] || die "the gzip list does not hold $BACKUP_COUNT entries"

    run_wrk list_idle /api/backups
    run_wrk listgz_idle /api/backups 'Accept-Encoding: gzip'
    run_wrk status_idle /api/backups/status
    add_static_floor
    run_wrk static_idle /static/list.json

    local id path from to header
    for id in list_busy listgz_busy status_busy; do
        path=/api/backups
        [[ $id == status_busy ]] && path=/api/backups/status
        header=()
        [[ $id == listgz_busy ]] && header=('Accept-Encoding: gzip')
        start_load_loop "$WORK/load.spans" "$WORK/load.stop"
        from=$EPOCHREALTIME
        run_wrk "$id" "$path" "${header[@]}"
        to=$EPOCHREALTIME
        stop_load_loop "$WORK/load.stop"
        W_COVER[$id]=$(coverage "$WORK/load.spans" "$from" "$to") ||
            die "a background pgbackup create failed: $(tail -n 5 "$WORK/logs/load-creates.log")"
        # Back to exactly BACKUP_COUNT backups for the next window.
        local name
        for name in "$WORK/api"/backup_bench_2*.sql.gz; do
            [[ -e $name ]] || continue
            env BACKUP_DIR="$WORK/api" POSTGRES_DB=bench "$BIN/pgbackup" delete --yes "$(basename "$name")" >/dev/null
        done
    done
    RESPONDER_HWM_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$RESPONDER_PID/status")
    stop_front
}
