#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# pgbackup quick start: one command from a fresh Debian checkout to a working backup API.
#
#   deploy/quickstart.sh              install missing packages, build, start a throwaway PostgreSQL
#                                     with sample data, the responder and a TLS nginx, make a backup
#   deploy/quickstart.sh stop         stop everything it started; data stays in the state directory
#   deploy/quickstart.sh stop --purge stop, then delete the state directory
#   deploy/quickstart.sh status       show what is running
#   deploy/quickstart.sh --with-s3    as start, plus a local S3 API (moto on loopback) that every backup is
#                                     also copied to (BACKUP_REMOTE; see README, Off-site copies)
#
# Everything lives in the state directory (default ./local/ in the repository, gitignored).
# Environment: PGBACKUP_QUICKSTART_DIR (state directory), PGBACKUP_HTTPS_PORT (8443), PGBACKUP_QUICKSTART_S3_PORT (9100),
# PGBACKUP_QUICKSTART_PG_PORT (5432; the throwaway cluster listens on a unix socket only),
# PGBACKUP_BIN_DIR (use these binaries instead of building), POSTGRES_HOST/PORT/DB/USER and
# POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE (use that database instead of a throwaway one).
set -euo pipefail
# nginx and runuser live in /usr/sbin, which is not on a normal user's PATH on Debian.
export PATH=$PATH:/usr/sbin:/sbin

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname "$script_dir")
readonly script_dir repo_dir
# shellcheck source=lib/throwaway-postgres.sh
source "$script_dir/lib/throwaway-postgres.sh"
# shellcheck source=lib/local-s3.sh
source "$script_dir/lib/local-s3.sh"
with_s3=no
readonly demo_db=pgbackup_demo

say() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() { printf 'quickstart.sh: error: %s\n' "$*" >&2; exit 1; }

state=$(realpath -m "${PGBACKUP_QUICKSTART_DIR:-$repo_dir/local}")
# The state path ends up in pg_ctl's option string and in nginx's configuration: keep it plain.
[[ $state =~ ^/[A-Za-z0-9._/+-]+$ ]] || die "the state directory path may hold only letters, digits and ._/+-: $state"
[[ $state != / ]] || die "the state directory cannot be /"
https_port=${PGBACKUP_HTTPS_PORT:-8443}
pg_port=${PGBACKUP_QUICKSTART_PG_PORT:-5432}
check_port() { # value name
    if [[ ! $1 =~ ^[0-9]{1,5}$ ]] || ((10#$1 < 1 || 10#$1 > 65535)); then
        die "$2 is not a port number: $1"
    fi
}
check_port "$https_port" PGBACKUP_HTTPS_PORT
check_port "$pg_port" PGBACKUP_QUICKSTART_PG_PORT

readonly env_file=$state/pgbackup.env
readonly credentials=$state/credentials
readonly reader_credentials=$state/credentials-reader
readonly log_dir=$state/logs
# When run as root, PostgreSQL runs as "postgres" and nginx's workers as www-data: both must reach
# what they use. If they cannot enter the state directory (a checkout below /root), the runtime
# parts (cluster, sockets, nginx) live in /var/tmp/pgbackup-quickstart-N and $state/runtime links
# there; backups, settings, credentials and logs stay in $state.
readonly runtime_link=$state/runtime
readonly nginx_user=${PGBACKUP_NGINX_USER:-www-data}
set_runtime() { # directory
    runtime=$1
    run_dir=$runtime/run
    fcgi_socket=$run_dir/fcgi.sock
    fcgi_pid_file=$run_dir/fcgi.pid
    nginx_dir=$runtime/nginx
    pg_home=$runtime/pg
}
if [[ -L $runtime_link ]]; then
    set_runtime "$(readlink -f "$runtime_link")"
else
    set_runtime "$state"
fi

# Show a path relative to the current directory when it is below it (shorter to copy).
show() {
    case "$1" in
        "$PWD"/*) printf '%s' "${1#"$PWD"/}" ;;
        *) printf '%s' "$1" ;;
    esac
}

is_root() { [[ $EUID -eq 0 ]]; }

# --- processes ---------------------------------------------------------------------------
alive() { [[ -n $1 ]] && kill -0 "$1" 2>/dev/null && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]; }

program_of() { # pid -> program name from argv[0] ("/usr/bin/x" and "x: worker" both give x)
    local arg0=""
    arg0=$(tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | head -n 1) || true
    arg0=${arg0%% *}
    arg0=${arg0##*/}
    printf '%s' "${arg0%:}"
}

stop_pid() { # pid name
    local pid=$1 name=$2 waited=0
    alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    while alive "$pid" && ((waited < 150)); do
        sleep 0.1
        waited=$((waited + 1))
    done
    if alive "$pid"; then
        note "$name (pid $pid) ignored SIGTERM for 15 s: killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
}

# Processes of ours that a pid file may not know about (detached backup jobs and their pg_dump/
# psql children inherit the responder's working directory, the state directory).
leftover_pids() {
    local link pid
    while IFS= read -r link; do
        pid=${link#/proc/}
        pid=${pid%/cwd}
        [[ $pid != "$$" ]] || continue
        case "$(program_of "$pid")" in
            pgbackup | pgbackup-fcgi | pgbackup-scheduler | pg_dump | psql | postgres | nginx) printf '%s\n' "$pid" ;;
        esac
    done < <(find /proc -mindepth 2 -maxdepth 2 -name cwd \( -lname "$state" -o -lname "$state/*" \) 2>/dev/null || true)
}

# --- packages ----------------------------------------------------------------------------
ensure_packages() { # throwaway-cluster? build?
    local want_server=$1 want_build=$2 missing=()
    command -v pg_dump >/dev/null && command -v psql >/dev/null && command -v pg_isready >/dev/null || missing+=(postgresql-client)
    [[ $want_server == no ]] || throwaway_pg_bin_dir >/dev/null || missing+=(postgresql)
    command -v nginx >/dev/null || missing+=(nginx-light)
    command -v htpasswd >/dev/null || missing+=(apache2-utils)
    command -v openssl >/dev/null || missing+=(openssl)
    command -v curl >/dev/null || missing+=(curl)
    if [[ $want_build == yes ]]; then
        command -v pkg-config >/dev/null || missing+=(pkg-config)
        pkg-config --exists fcgi 2>/dev/null || missing+=(libfcgi-dev)
        pkg-config --exists zlib 2>/dev/null || missing+=(zlib1g-dev)
        pkg-config --exists libdeflate 2>/dev/null || missing+=(libdeflate-dev)
        pkg-config --exists libzstd 2>/dev/null || missing+=(libzstd-dev)
    fi
    if ((${#missing[@]} > 0)); then
        local apt=(apt-get install -y -q --no-install-recommends "${missing[@]}")
        command -v apt-get >/dev/null || die "missing: ${missing[*]} (Debian package names); install them and run again"
        say "installing Debian packages: ${missing[*]}"
        if is_root; then
            apt-get update -q
            DEBIAN_FRONTEND=noninteractive "${apt[@]}"
        elif command -v sudo >/dev/null; then
            sudo apt-get update -q
            sudo DEBIAN_FRONTEND=noninteractive "${apt[@]}"
        else
            die "missing packages and no sudo: as root run: apt-get install ${missing[*]}"
        fi
    fi
    if [[ $want_build == yes ]] && ! command -v swift >/dev/null; then
        die "swift not found: install the Swift 6 toolchain (https://www.swift.org/install/linux/) and put it on PATH"
    fi
}

# --- binaries ----------------------------------------------------------------------------
find_binaries() {
    if [[ -n ${PGBACKUP_BIN_DIR:-} ]]; then
        bin_dir=$PGBACKUP_BIN_DIR
        say "using the binaries in $bin_dir"
    else
        say "building release binaries (swift build -c release; the first build takes a few minutes)"
        # One product at a time: without --product, swift build also compiles the test-only targets.
        local product
        for product in pgbackup pgbackup-fcgi pgbackup-scheduler; do
            (cd "$repo_dir" && swift build -c release --product "$product")
        done
        bin_dir=$(cd "$repo_dir" && swift build -c release --show-bin-path)
    fi
    local binary
    for binary in pgbackup pgbackup-fcgi pgbackup-scheduler; do
        [[ -x $bin_dir/$binary ]] || die "$bin_dir/$binary is missing or not executable"
    done
}

# --- PostgreSQL (the throwaway cluster: deploy/lib/throwaway-postgres.sh) -------------------
pg_data() { printf '%s/data' "$pg_home"; }
pg_socket_dir() { printf '%s/run' "$pg_home"; }

pg_psql() { # database, then psql arguments
    local database=$1
    shift
    psql -X -q -v ON_ERROR_STOP=1 -h "$(pg_socket_dir)" -p "$pg_port" -U postgres -d "$database" "$@"
}

# As root, move the runtime parts out of a state directory postgres or nginx's workers cannot enter.
prepare_runtime() {
    is_root || return 0
    [[ ! -L $runtime_link ]] || return 0
    local users=("$nginx_user") user blocked=""
    [[ $database_mode == external ]] || users+=(postgres)
    for user in "${users[@]}"; do
        getent passwd "$user" >/dev/null || continue
        runuser -u "$user" -- test -x "$state" || blocked+="$user "
    done
    [[ -n $blocked ]] || return 0
    local outside
    outside=/var/tmp/pgbackup-quickstart-$(printf '%s' "$state" | cksum | cut -d ' ' -f 1)
    note "${blocked% } cannot enter $state: the cluster, sockets and nginx live in $outside"
    note "($(show "$runtime_link") links to it; stop --purge removes it)"
    mkdir -p "$outside"
    chmod 0755 "$outside"
    ln -sfn "$outside" "$runtime_link"
    set_runtime "$outside"
}

prepare_pg_home() {
    if is_root; then
        getent passwd postgres >/dev/null || die "user postgres not found (it comes with the postgresql package)"
    fi
    throwaway_pg_make_dirs "$pg_home/" "$(pg_data)" "$(pg_socket_dir)"
    chmod 0700 "$pg_home/" "$(pg_data)" "$(pg_socket_dir)"
    local socket_path
    socket_path=$(pg_socket_dir)/.s.PGSQL.$pg_port
    ((${#socket_path} <= 107)) || die "socket path too long for PostgreSQL ($socket_path): use a shorter PGBACKUP_QUICKSTART_DIR"
}

start_cluster() {
    throwaway_pg_bin_dir >/dev/null || die "initdb not found (install postgresql)"
    prepare_pg_home
    if [[ ! -s $(pg_data)/PG_VERSION ]]; then
        say "creating a throwaway PostgreSQL cluster in $(show "$(pg_data)")"
        throwaway_pg_init "$(pg_data)" "$log_dir/initdb.log" --no-locale || die "initdb failed: see $log_dir/initdb.log"
    fi
    if throwaway_pg_is_running "$(pg_data)"; then
        say "PostgreSQL is already running (reusing it)"
    else
        say "starting PostgreSQL (unix socket only, in $(show "$(pg_socket_dir)"))"
        throwaway_pg_start "$(pg_data)" "$(pg_socket_dir)" "$pg_port" "$pg_home/postgres.log" ||
            die "PostgreSQL did not start: see $pg_home/postgres.log"
    fi
    load_sample_data
}

stop_cluster() {
    [[ -f $pg_home/data/postmaster.pid ]] || return 0
    throwaway_pg_bin_dir >/dev/null || return 0
    say "stopping PostgreSQL"
    throwaway_pg_stop "$(pg_data)" || note "pg_ctl stop failed"
}

load_sample_data() {
    if [[ $(pg_psql postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$demo_db'") == 1 ]]; then
        return
    fi
    say "loading sample data into database $demo_db"
    pg_psql postgres -c "CREATE DATABASE $demo_db TEMPLATE template0 ENCODING 'UTF8'"
    pg_psql "$demo_db" <<'SQL'
BEGIN;
CREATE TABLE customers (
    id         bigint PRIMARY KEY,
    name       text NOT NULL,
    email      text NOT NULL UNIQUE,
    country    char(2) NOT NULL,
    created_at timestamptz NOT NULL
);
INSERT INTO customers
SELECT i,
       (ARRAY['Zoë', 'Łukasz', '渡辺 美咲', 'Ольга', 'José', 'Ørjan', 'Åsa', 'محمد', 'Σοφία', 'Nguyễn'])[1 + i % 10] || ' #' || i,
       'customer' || i || '@example.com',
       (ARRAY['DE', 'PL', 'JP', 'UA', 'ES', 'NO', 'SE', 'EG', 'GR', 'VN'])[1 + i % 10],
       timestamptz '2024-01-01 00:00:00+00' + i * interval '37 minutes'
FROM generate_series(1, 3000) AS i;

CREATE TABLE products (
    id         integer PRIMARY KEY,
    sku        text NOT NULL UNIQUE,
    name       text NOT NULL,
    attributes jsonb NOT NULL,
    thumbnail  bytea NOT NULL,
    price      numeric(10, 2) NOT NULL
);
INSERT INTO products
SELECT i,
       'SKU-' || lpad(i::text, 5, '0'),
       (ARRAY['Teekanne ☕', 'Regenschirm ☂', 'Bücherregal 📚', 'Schlüssel 🔑', 'Café crème', 'Smörgåsbord', 'Łódź mug', '東京 map'])[1 + i % 8],
       jsonb_build_object('color', (ARRAY['red', 'green', 'blue'])[1 + i % 3], 'weight_g', 100 + i,
                          'tags', jsonb_build_array('demo', 'tag' || i % 7), 'size', jsonb_build_object('w', i % 50, 'h', i % 30)),
       '\x00ff'::bytea || decode(md5('thumbnail' || i) || md5('image' || i), 'hex'),
       round((i * 1.37) % 500 + 0.99, 2)
FROM generate_series(1, 500) AS i;

CREATE TABLE orders (
    id          bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    product_id  integer NOT NULL REFERENCES products (id),
    quantity    integer NOT NULL CHECK (quantity > 0),
    note        text,
    ordered_at  timestamptz NOT NULL
);
INSERT INTO orders
SELECT i, 1 + (i * 7919) % 3000, 1 + (i * 104729) % 500, 1 + i % 5,
       CASE WHEN i % 10 = 0 THEN 'Geschenk 🎁 — bitte einpacken' END,
       timestamptz '2024-06-01 00:00:00+00' + i * interval '11 minutes'
FROM generate_series(1, 8000) AS i;
CREATE INDEX orders_customer_idx ON orders (customer_id);
COMMIT;
SQL
}

check_external_database() {
    say "using the configured database $POSTGRES_DB on $POSTGRES_HOST:$POSTGRES_PORT"
    pg_isready -q -h "$POSTGRES_HOST" -p "$POSTGRES_PORT" -t 10 ||
        die "the database at POSTGRES_HOST=$POSTGRES_HOST POSTGRES_PORT=$POSTGRES_PORT does not answer"
}

# --- configuration -----------------------------------------------------------------------
write_env_file() {
    local connection
    if [[ $database_mode == throwaway ]]; then
        connection="POSTGRES_HOST=$(pg_socket_dir)
POSTGRES_PORT=$pg_port
POSTGRES_DB=$demo_db
POSTGRES_USER=postgres"
    else
        connection="POSTGRES_HOST=$POSTGRES_HOST
POSTGRES_PORT=$POSTGRES_PORT
POSTGRES_DB=$POSTGRES_DB
POSTGRES_USER=$POSTGRES_USER"
        if [[ -n ${POSTGRES_PASSWORD_FILE:-} ]]; then
            connection+=$'\n'"POSTGRES_PASSWORD_FILE=$(readlink -f "$POSTGRES_PASSWORD_FILE")"
        elif [[ -n ${POSTGRES_PASSWORD:-} ]]; then
            (umask 077 && printf '%s\n' "$POSTGRES_PASSWORD" >"$state/db-password")
            connection+=$'\n'"POSTGRES_PASSWORD_FILE=$state/db-password"
        fi
    fi
    (
        umask 077
        cat >"$env_file.new" <<EOF
# Written by deploy/quickstart.sh on every start (edits are replaced; real environment variables
# win over this file). See deploy/pgbackup.env.example for what each setting means.
BACKUP_DIR=$state/backups
BACKUP_RETENTION_DAYS=7
BACKUP_MAX_COUNT=30
BACKUP_INTERVAL_HOURS=24
BACKUP_ENABLED=true
BACKUP_COMPRESSION_LEVEL=6
# API users who may change anything or download; $reader_user may only look.
PGBACKUP_OPERATORS=$http_user
$connection
EOF
    )
    mv -f "$env_file.new" "$env_file"
}

# One password, generated on the first run, kept as "user:password" (the form curl -u takes).
ensure_credentials() {
    if [[ ! -s $credentials ]]; then
        local user=${PGBACKUP_HTTP_USER:-admin} password
        password=$(openssl rand -base64 24 | tr -d '/+=\n')
        (umask 077 && printf '%s:%s\n' "$user" "$password" >"$credentials")
    fi
    chmod 0600 "$credentials"
    http_user=$(cut -d : -f 1 "$credentials")
    http_password=$(cut -d : -f 2- "$credentials")
    # A second user who may only look (GET/HEAD of list, status, metadata, jobs): for monitoring.
    if [[ ! -s $reader_credentials ]]; then
        local password
        password=$(openssl rand -base64 24 | tr -d '/+=\n')
        (umask 077 && printf '%s:%s\n' monitor "$password" >"$reader_credentials")
    fi
    chmod 0600 "$reader_credentials"
    reader_user=$(cut -d : -f 1 "$reader_credentials")
    reader_password=$(cut -d : -f 2- "$reader_credentials")
    [[ $reader_user != "$http_user" ]] || die "the reader and the operator must be different users"
}

# --- responder and nginx -----------------------------------------------------------------
stop_responder() {
    local pid=""
    [[ -f $fcgi_pid_file ]] && pid=$(<"$fcgi_pid_file")
    if [[ -n $pid ]] && alive "$pid" && [[ $(program_of "$pid") == pgbackup-fcgi ]]; then
        say "stopping the responder (pid $pid)"
        stop_pid "$pid" pgbackup-fcgi
    fi
    rm -f "$fcgi_pid_file"
}

start_responder() {
    say "starting the responder on $(show "$fcgi_socket")"
    rm -f "$fcgi_socket"
    # Its own session, so closing the terminal does not stop it; its working directory is the
    # state directory, so `stop` can find detached jobs it started.
    # As root, nginx's workers run as $nginx_user: the socket gets its group (nginx/local.sh).
    local access=()
    if is_root; then
        access=(--socket-group "$(id -gn "$nginx_user")" --socket-mode 0660)
    fi
    (cd "$state" && exec setsid "$bin_dir/pgbackup-fcgi" --socket "$fcgi_socket" "${access[@]}" --env-file "$env_file" \
        </dev/null >>"$log_dir/fcgi.log" 2>&1) &
    local pid=$! waited=0
    printf '%s\n' "$pid" >"$fcgi_pid_file"
    while [[ ! -S $fcgi_socket ]] && ((waited < 100)); do
        alive "$pid" || break
        sleep 0.1
        waited=$((waited + 1))
    done
    if ! alive "$pid" || [[ ! -S $fcgi_socket ]]; then
        tail -n 20 "$log_dir/fcgi.log" >&2 || true
        die "the responder did not start (log: $log_dir/fcgi.log)"
    fi
}

stop_nginx() {
    [[ -d $nginx_dir ]] || return 0
    say "stopping nginx"
    "$repo_dir/nginx/local.sh" stop "$nginx_dir" || note "nginx/local.sh stop reported a problem"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_nginx() {
    [[ -x $repo_dir/nginx/local.sh ]] || die "$repo_dir/nginx/local.sh not found"
    port_in_use "$https_port" && die "port $https_port is in use: choose another with PGBACKUP_HTTPS_PORT"
    say "starting nginx (TLS, basic auth) on https://127.0.0.1:$https_port"
    PGBACKUP_HTTP_USER=$http_user PGBACKUP_HTTP_PASSWORD=$http_password \
        PGBACKUP_HTTP_READER=$reader_user PGBACKUP_HTTP_READER_PASSWORD=$reader_password \
        "$repo_dir/nginx/local.sh" start "$nginx_dir" "$https_port" "$fcgi_socket" >>"$log_dir/nginx-local.log" 2>&1 ||
        { tail -n 20 "$log_dir/nginx-local.log" >&2 || true; die "nginx did not start (log: $log_dir/nginx-local.log)"; }
}

# The password goes to curl through its config on stdin, not through argv.
api_get() { # path -> body; fails unless HTTP 200
    printf 'user = "%s:%s"\n' "$http_user" "$http_password" |
        curl --config - -k -sS -f --max-time 30 "https://127.0.0.1:$https_port$1"
}

wait_for_api() {
    local tries=0
    until api_get /api/backups/status >/dev/null 2>&1; do
        tries=$((tries + 1))
        if ((tries >= 50)); then
            api_get /api/backups/status >/dev/null || true
            die "the API does not answer through nginx (logs: $log_dir)"
        fi
        sleep 0.2
    done
}

# --- the CLI -----------------------------------------------------------------------------
cli() { PGBACKUP_ENV_FILE=$env_file "$bin_dir/pgbackup" "$@"; }

first_backup() {
    local listing count
    listing=$(cli list --json) || die "pgbackup list failed"
    count=$({ grep -o '"filename"' <<<"$listing" || true; } | wc -l)
    if ((count > 0)); then
        say "$count backup(s) already in $(show "$state/backups")"
        return
    fi
    say "making the first backup with the CLI"
    cli create -d "First backup, made by quickstart.sh" || die "the first backup failed"
}

# A path to type as a command: relative ones need a slash to be found.
command_path() {
    local shown
    shown=$(show "$1")
    [[ $shown == */* ]] || shown=./$shown
    printf '%s' "$shown"
}

print_summary() {
    local env_shown creds_shown wrapper url="https://127.0.0.1:$https_port"
    env_shown=$(show "$env_file")
    creds_shown=$(show "$credentials")
    wrapper="PGBACKUP_ENV_FILE=$env_shown"
    # backup-database.sh would look for a release build; point it at the binaries used here.
    [[ -z ${PGBACKUP_BIN_DIR:-} ]] || wrapper+=" PGBACKUP_BIN=$bin_dir/pgbackup"
    wrapper+=" $(command_path "$repo_dir/backup-database.sh")"
    cat <<EOF

pgbackup is running.
  API:       $url/api/backups   (self-signed certificate: curl -k)
  user:      $http_user   (operator: may do everything)
  password:  in $creds_shown (mode 0600, as user:password)
  reader:    $reader_user   (may only look: list, status, metadata, jobs)
  password:  in $(show "$reader_credentials") (mode 0600, as user:password)
  database:  $database_label
  logs:      $(show "$log_dir")/

Try:
  curl -k -u "\$(cat $creds_shown)" $url/api/backups
  curl -k -u "\$(cat $creds_shown)" $url/api/backups/status
  curl -k -u "\$(cat $(show "$reader_credentials"))" $url/api/backups/status     # the reader may look…
  curl -k -u "\$(cat $creds_shown)" -X POST -H 'Content-Type: application/json' \\
       -d '{"description": "made with curl"}' $url/api/backups
  $wrapper list
  $wrapper verify --all
  $wrapper create -d "my first manual backup"

Stop everything:   $(command_path "$script_dir/quickstart.sh") stop          (keeps $(show "$state")/)
Remove it too:     $(command_path "$script_dir/quickstart.sh") stop --purge
EOF
}

# --- commands ----------------------------------------------------------------------------
start_failed() {
    local status=$?
    ((status == 0)) && return
    printf 'quickstart.sh: failed; logs are in %s, and "%s stop" stops what was started\n' "$log_dir" "$0" >&2
    exit "$status"
}

start() {
    mkdir -p "$state" "$log_dir" "$state/backups"
    chmod 0700 "$state/backups" "$log_dir"
    if [[ -n ${POSTGRES_HOST:-} ]]; then
        database_mode=external
        POSTGRES_PORT=${POSTGRES_PORT:-5432}
        POSTGRES_DB=${POSTGRES_DB:-postgres}
        POSTGRES_USER=${POSTGRES_USER:-postgres}
        database_label="$POSTGRES_DB on $POSTGRES_HOST:$POSTGRES_PORT"
    else
        database_mode=throwaway
    fi
    local build=yes server=no
    [[ -z ${PGBACKUP_BIN_DIR:-} ]] || build=no
    [[ $database_mode == external ]] || server=yes
    ensure_packages "$server" "$build"
    find_binaries
    if is_root; then
        getent passwd "$nginx_user" >/dev/null || die "user $nginx_user (for nginx's workers) not found: set PGBACKUP_NGINX_USER"
    fi
    trap start_failed EXIT
    prepare_runtime
    mkdir -p "$run_dir"
    if is_root; then
        # nginx's workers only pass through to the socket; nobody else may look inside.
        chgrp "$(id -gn "$nginx_user")" "$run_dir"
        chmod 0710 "$run_dir"
    else
        chmod 0700 "$run_dir"
    fi
    local fcgi_socket_length=${#fcgi_socket}
    ((fcgi_socket_length <= 107)) || die "socket path too long ($fcgi_socket): use a shorter PGBACKUP_QUICKSTART_DIR"
    if [[ $database_mode == throwaway ]]; then
        start_cluster
        database_label="$demo_db (throwaway cluster, socket directory $(show "$(pg_socket_dir)"))"
    else
        check_external_database
    fi
    ensure_credentials
    write_env_file
    [[ $with_s3 == no ]] || start_local_s3
    # The programs started below take their settings from the env file alone.
    unset "${!POSTGRES_@}" "${!BACKUP_@}" PGBACKUP_ENV_FILE
    stop_nginx
    stop_responder
    start_responder
    start_nginx
    wait_for_api
    first_backup
    api_get /api/backups >/dev/null || die "listing backups through the API failed"
    trap - EXIT
    print_summary
}

stop() {
    local purge=no
    case "${1:-}" in
        "") ;;
        --purge) purge=yes ;;
        *) die "usage: quickstart.sh stop [--purge]" ;;
    esac
    stop_nginx
    stop_responder
    local pid
    for pid in $(leftover_pids); do
        case "$(program_of "$pid")" in
            postgres | nginx) ;;
            *) note "stopping $(program_of "$pid") (pid $pid), a job started by the responder"; stop_pid "$pid" job ;;
        esac
    done
    stop_cluster
    stop_local_s3
    local left
    left=$(leftover_pids | tr '\n' ' ')
    [[ -z $left ]] || note "still running with a working directory in $state: $left"
    if [[ $purge == yes ]]; then
        if [[ -L $runtime_link && $runtime == /var/tmp/pgbackup-quickstart-* ]]; then
            rm -rf "$runtime"
        fi
        say "removing $state"
        rm -rf "$state"
    else
        say "stopped; data kept in $(show "$state")/"
    fi
}

status() {
    local pid=""
    [[ -f $fcgi_pid_file ]] && pid=$(<"$fcgi_pid_file")
    if [[ -n $pid ]] && alive "$pid"; then echo "responder: running (pid $pid)"; else echo "responder: stopped"; fi
    if port_in_use "$https_port"; then echo "https port $https_port: listening"; else echo "https port $https_port: closed"; fi
    if [[ -f $pg_home/data/postmaster.pid ]]; then echo "postgresql: running"; else echo "postgresql: stopped"; fi
}

case "${1:-start}" in
    start | --with-s3)
        [[ ${1:-} == --with-s3 || ${2:-} == --with-s3 ]] && with_s3=yes
        start
        ;;
    stop) shift; stop "$@" ;;
    status) status ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' ;;
    *) die "unknown command '$1' (start [--with-s3], --with-s3, stop [--purge], status)" ;;
esac
