#!/usr/bin/env bash
# A throwaway nginx in front of a pgbackup responder, for the quick start, the integration tests and
# the benchmark. Its configuration is nginx/pgbackup.conf itself, rendered with local paths.
#
#   nginx/local.sh start DIR PORT SOCKET   (re)start nginx on 127.0.0.1:PORT, forwarding to SOCKET
#   nginx/local.sh stop DIR                stop it: graceful, then forced; fine when not running
#
# Environment for start:
#   PGBACKUP_HTTP_PASSWORD   required; the basic-auth password (hashed with apr1, never put in argv)
#   PGBACKUP_HTTP_USER       the basic-auth user (default: admin), an operator (in both htpasswd files)
#   PGBACKUP_HTTP_READER     optional: a second user who may only look (GET/HEAD), in htpasswd only
#   PGBACKUP_HTTP_READER_PASSWORD  its password (required with PGBACKUP_HTTP_READER)
#   PGBACKUP_NGINX_USER      when run as root: the user nginx's workers run as (default: www-data)
#
# DIR receives everything: nginx.conf, the rendered pgbackup.conf, tls/{cert,key}.pem (self-signed for
# localhost and 127.0.0.1, made once and kept), htpasswd and operators.htpasswd (rewritten on every
# start), nginx.pid, logs (access.log also records the upstream each request reached, "-" when nginx
# answered itself), temp files. Nothing outside DIR is written.
#
# Permissions when run as root: the master stays root and reads the TLS key; the workers run as
# PGBACKUP_NGINX_USER and must reach DIR/htpasswd (DIR becomes 0710 with that user's group, htpasswd
# 0640) and connect to SOCKET. So the responder must create SOCKET with that group and mode 0660
# (pgbackup-fcgi and fcgi-echo take a socket group and mode), in a directory the workers can traverse,
# below parents they can traverse too. start checks both and says what is missing. Run as another
# user, nginx's workers are that user and nothing needs arranging.
#
# Output: nothing unless something fails.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
template="$script_dir/pgbackup.conf"

die() {
    printf 'local.sh: %s\n' "$*" >&2
    exit 1
}

usage() {
    printf 'usage: %s start DIR PORT SOCKET | stop DIR\n' "$0" >&2
    exit 2
}

# Paths go into nginx's configuration unquoted; keep them to characters that need no quoting.
check_path() {
    local what=$1 path=$2
    [[ $path == /* ]] || die "$what must be an absolute path: $path"
    [[ $path =~ ^[A-Za-z0-9/._+@%=,:-]+$ ]] || die "$what contains characters nginx would need quoted: $path"
}

sed_escape() {
    printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'
}

# The master's pid, if DIR's nginx is running.
running_pid() {
    local dir=$1 pid
    [[ -r $dir/nginx.pid ]] || return 1
    pid=$(<"$dir/nginx.pid")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # Guard against a recycled pid: it must still be an nginx.
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == nginx ]] || return 1
    printf '%s\n' "$pid"
}

wait_gone() {
    local pid=$1 tenths=$2 i
    for ((i = 0; i < tenths; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    ! kill -0 "$pid" 2>/dev/null
}

stop_nginx() {
    local dir=$1 pid
    if ! pid=$(running_pid "$dir"); then
        rm -f "$dir/nginx.pid"
        return 0
    fi
    # QUIT lets open requests (a download, a long restore) finish; TERM cuts them; KILL the whole
    # process group (the daemonised master leads it) in case the master cannot act any more.
    kill -QUIT "$pid" 2>/dev/null || true
    wait_gone "$pid" 100 && { rm -f "$dir/nginx.pid"; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$pid" 50 && { rm -f "$dir/nginx.pid"; return 0; }
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 20 || die "nginx (pid $pid) does not stop"
    rm -f "$dir/nginx.pid"
}

make_certificate() {
    local tls=$1 output
    [[ -s $tls/cert.pem && -s $tls/key.pem ]] && return 0
    mkdir -p "$tls"
    chmod 0700 "$tls"
    if ! output=$(openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$tls/key.pem.tmp" -out "$tls/cert.pem.tmp" -days 825 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>&1); then
        rm -f "$tls/key.pem.tmp" "$tls/cert.pem.tmp"
        die "openssl could not make a certificate: $output"
    fi
    chmod 0600 "$tls/key.pem.tmp"
    mv "$tls/key.pem.tmp" "$tls/key.pem"
    mv "$tls/cert.pem.tmp" "$tls/cert.pem"
}

htpasswd_line() { # user password -> user:apr1-hash
    local user=$1 password=$2 hash
    [[ $user != *:* && $user != *$'\n'* && -n $user ]] || die "user names must be non-empty without ':'"
    # printf is a shell builtin: the password reaches openssl on stdin, never on a command line.
    hash=$(printf '%s\n' "$password" | openssl passwd -apr1 -stdin) || die "openssl passwd failed"
    printf '%s:%s\n' "$user" "$hash"
}

install_htpasswd() { # dir name group < content
    local dir=$1 name=$2 group=$3
    cat >"$dir/$name.tmp"
    if [[ -n $group ]]; then
        chgrp "$group" "$dir/$name.tmp"
        chmod 0640 "$dir/$name.tmp"
    else
        chmod 0600 "$dir/$name.tmp"
    fi
    mv "$dir/$name.tmp" "$dir/$name"
}

# htpasswd: everyone who may look (the operator and the reader); operators.htpasswd: the operator.
make_htpasswd() {
    local dir=$1 user=$2 password=$3 group=$4 operator reader=""
    operator=$(htpasswd_line "$user" "$password")
    if [[ -n ${PGBACKUP_HTTP_READER:-} ]]; then
        [[ -n ${PGBACKUP_HTTP_READER_PASSWORD:-} ]] || die "set PGBACKUP_HTTP_READER_PASSWORD with PGBACKUP_HTTP_READER"
        [[ $PGBACKUP_HTTP_READER != "$user" ]] || die "PGBACKUP_HTTP_READER must differ from PGBACKUP_HTTP_USER"
        reader=$(htpasswd_line "$PGBACKUP_HTTP_READER" "$PGBACKUP_HTTP_READER_PASSWORD")
    fi
    printf '%s\n' "$operator" ${reader:+"$reader"} | install_htpasswd "$dir" htpasswd "$group"
    printf '%s\n' "$operator" | install_htpasswd "$dir" operators.htpasswd "$group"
}

render_site() {
    local dir=$1 port=$2 socket=$3
    local site=$dir/pgbackup.conf
    sed -e "s|^\([[:space:]]*\)listen 443 ssl|\1listen 127.0.0.1:$port ssl|" \
        -e '/^[[:space:]]*listen \[::\]:443/d' \
        -e "s|/etc/pgbackup/tls/cert.pem|$(sed_escape "$dir/tls/cert.pem")|g" \
        -e "s|/etc/pgbackup/tls/key.pem|$(sed_escape "$dir/tls/key.pem")|g" \
        -e "s|/etc/pgbackup/htpasswd|$(sed_escape "$dir/htpasswd")|g" \
        -e "s|/etc/pgbackup/operators.htpasswd|$(sed_escape "$dir/operators.htpasswd")|g" \
        -e "s|unix:/run/pgbackup/fcgi.sock|unix:$(sed_escape "$socket")|g" \
        "$template" >"$site.tmp"
    # If the template drifted from the spellings above, fail here rather than serve production paths.
    local directives
    directives=$(grep -v '^[[:space:]]*#' "$site.tmp")
    if ! grep -q "listen 127.0.0.1:$port ssl" <<<"$directives" ||
        grep -qE '/etc/pgbackup|/run/pgbackup|listen +(\[::\]:)?443 ' <<<"$directives"; then
        rm -f "$site.tmp"
        die "nginx/pgbackup.conf no longer matches what local.sh rewrites (listen 443, /etc/pgbackup, /run/pgbackup)"
    fi
    mv "$site.tmp" "$site"
}

render_main() {
    local dir=$1 worker_user=$2
    {
        printf '# Generated by nginx/local.sh for a throwaway instance; edit nginx/pgbackup.conf instead.\n'
        if [[ -n $worker_user ]]; then
            printf 'user %s;\n' "$worker_user"
        fi
        printf 'worker_processes auto;\n'
        printf 'pid %s/nginx.pid;\n' "$dir"
        printf 'error_log %s/error.log warn;\n' "$dir"
        printf 'daemon on;\n'
        printf 'events {\n    worker_connections 1024;\n}\n'
        printf 'http {\n'
        # nginx's combined format, plus the upstream each request reached.
        printf '    log_format pgbackup_upstream %s;\n' "'\$remote_addr - \$remote_user [\$time_local] \"\$request\" \$status \$body_bytes_sent \"\$http_referer\" \"\$http_user_agent\" upstream=\$upstream_addr'"
        printf '    access_log %s/access.log pgbackup_upstream;\n' "$dir"
        for temp in client_body fastcgi proxy scgi uwsgi; do
            printf '    %s_temp_path %s/tmp/%s;\n' "$temp" "$dir" "$temp"
        done
        printf '    default_type application/octet-stream;\n'
        printf '    include %s/pgbackup.conf;\n' "$dir"
        printf '}\n'
    } >"$dir/nginx.conf"
}

check_worker_access() {
    local dir=$1 socket=$2 worker_user=$3 socket_dir
    socket_dir=$(dirname "$socket")
    [[ -d $socket_dir ]] || die "the socket's directory $socket_dir does not exist"
    runuser -u "$worker_user" -- test -r "$dir/htpasswd" ||
        die "nginx workers ($worker_user) cannot read $dir/htpasswd: make every parent of $dir traversable"
    runuser -u "$worker_user" -- test -x "$socket_dir" ||
        die "nginx workers ($worker_user) cannot reach $socket_dir: make it and its parents traversable"
}

# The daemonised nginx must not keep descriptors this script inherited (a caller's pipes, the socket
# Foundation.Process watches to learn that its child exited): whoever waits for them to close would
# wait as long as nginx runs.
close_inherited_fds() {
    local fd
    for fd in /proc/self/fd/*; do
        fd=${fd##*/}
        if ((fd > 2)); then
            eval "exec ${fd}>&-"
        fi
    done
}

wait_for_port() {
    local dir=$1 port=$2 i
    for ((i = 0; i < 100; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    tail -n 20 "$dir/error.log" >&2 2>/dev/null || true
    die "nginx did not start listening on 127.0.0.1:$port"
}

start() {
    local dir=$1 port=$2 socket=$3
    if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
        die "bad port: $port"
    fi
    [[ -n ${PGBACKUP_HTTP_PASSWORD:-} ]] || die "set PGBACKUP_HTTP_PASSWORD"
    [[ -r $template ]] || die "missing $template"
    check_path DIR "$dir"
    check_path SOCKET "$socket"

    local worker_user="" worker_group=""
    if ((EUID == 0)); then
        worker_user=${PGBACKUP_NGINX_USER:-www-data}
        worker_group=$(id -gn "$worker_user" 2>/dev/null) || die "no such user: $worker_user"
    fi

    mkdir -p "$dir"
    stop_nginx "$dir"
    mkdir -p "$dir/tmp"
    if [[ -n $worker_group ]]; then
        chgrp "$worker_group" "$dir"
        chmod 0710 "$dir"
    fi
    make_certificate "$dir/tls"
    make_htpasswd "$dir" "${PGBACKUP_HTTP_USER:-admin}" "$PGBACKUP_HTTP_PASSWORD" "$worker_group"
    render_site "$dir" "$port" "$socket"
    render_main "$dir" "$worker_user"
    if [[ -n $worker_user ]]; then
        check_worker_access "$dir" "$socket" "$worker_user"
    fi

    local output
    output=$(nginx -t -q -p "$dir/" -c "$dir/nginx.conf" 2>&1) || die "nginx -t failed: $output"
    if ! (close_inherited_fds && exec nginx -p "$dir/" -c "$dir/nginx.conf") </dev/null >"$dir/start.log" 2>&1; then
        die "nginx did not start: $(<"$dir/start.log")"
    fi
    wait_for_port "$dir" "$port"
}

main() {
    (($# >= 1)) || usage
    case $1 in
    start)
        (($# == 4)) || usage
        start "${2%/}" "$3" "$4"
        ;;
    stop)
        (($# == 2)) || usage
        [[ -d $2 ]] || return 0
        stop_nginx "${2%/}"
        ;;
    *)
        usage
        ;;
    esac
}

main "$@"
