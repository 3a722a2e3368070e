#!/usr/bin/env bash
# Install pgbackup on a Debian host: binaries, service user, directories, configuration, TLS
# certificate, basic-auth user, nginx site and systemd units. Safe to run again: it refreshes
# binaries, units and the nginx site, and never overwrites configuration, certificates or an
# existing basic-auth password (unless PGBACKUP_HTTP_PASSWORD is given).
#
# Usage: deploy/install.sh [--root DIR] [--prefix DIR] [--no-build [--bin-dir DIR]] [--no-apt]
#                          [--no-start]
# Environment: PGBACKUP_HTTP_USER (default admin), PGBACKUP_HTTP_PASSWORD (else prompt, else a
# generated one), PGBACKUP_HTPASSWD_HASH (bcrypt, default, or apr1; see deploy/deploy.md).
set -euo pipefail

readonly SERVICE_USER=pgbackup
readonly WEB_GROUP=www-data
readonly UNITS=(pgbackup-fcgi.socket pgbackup-fcgi.service pgbackup-scheduler.service pgbackup-scheduler.timer
    pgbackup-failure@.service)
readonly BINARIES=(pgbackup pgbackup-fcgi pgbackup-scheduler)

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname "$script_dir")
root=""
prefix=/usr/local
build=yes
bin_dir=""
apt=yes
start=yes

say() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
    cat <<'EOF'
Options:
  --root DIR     install below DIR (like DESTDIR): no packages, no user, no chown, no services
  --prefix DIR   where bin/ and share/ go (default /usr/local); units are rewritten to match
  --no-build     do not run `swift build`; take binaries from --bin-dir (default .build/release)
  --bin-dir DIR  directory holding pgbackup, pgbackup-fcgi, pgbackup-scheduler (implies --no-build)
  --no-apt       do not install Debian packages
  --no-start     install and enable, but do not start or reload services
EOF
}

while (($# > 0)); do
    case "$1" in
        --root) root=${2:?--root needs a directory}; shift 2 ;;
        --root=*) root=${1#--root=}; shift ;;
        --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        --no-build) build=no; shift ;;
        --bin-dir) bin_dir=${2:?--bin-dir needs a directory}; build=no; shift 2 ;;
        --bin-dir=*) bin_dir=${1#--bin-dir=}; build=no; shift ;;
        --no-apt) apt=no; shift ;;
        --no-start) start=no; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

[[ $prefix == /* && $prefix != *'#'* ]] || die "--prefix must be an absolute path without '#': $prefix"
prefix=${prefix%/}
if [[ -n $root ]]; then
    mkdir -p "$root"
    root=$(cd "$root" && pwd)
    [[ $root != / ]] || root=""
fi
real_install=no
[[ -n $root ]] || real_install=yes
if [[ $real_install == yes && $EUID -ne 0 ]]; then
    die "installing into the system needs root (or use --root DIR for a staged install)"
fi
http_user=${PGBACKUP_HTTP_USER:-admin}
[[ $http_user =~ ^[A-Za-z0-9._-]+$ ]] || die "PGBACKUP_HTTP_USER may hold only letters, digits, '.', '_' and '-'"
case "${PGBACKUP_HTPASSWD_HASH:-bcrypt}" in
    bcrypt) htpasswd_scheme=-B ;;
    apr1) htpasswd_scheme=-m ;;
    *) die "PGBACKUP_HTPASSWD_HASH must be bcrypt or apr1, not '${PGBACKUP_HTPASSWD_HASH}'" ;;
esac

# --- packages ----------------------------------------------------------------------------
is_installed() { # package name or dpkg-query pattern: true if one match is installed
    dpkg-query -W -f='${db:Status-Status}\n' "$1" 2>/dev/null | grep -qx installed
}

# bookworm ships libfcgi's runtime as libfcgi0ldbl; later releases renamed it (t64 transition).
fcgi_runtime_package() {
    local candidate
    for candidate in libfcgi0ldbl libfcgi0t64; do
        if is_installed "$candidate" || [[ $(apt-cache policy "$candidate" 2>/dev/null | sed -n 's/^ *Candidate: *//p') =~ ^[0-9] ]]; then
            printf '%s\n' "$candidate"
            return
        fi
    done
    printf '%s\n' libfcgi0ldbl
}

install_packages() {
    if [[ $real_install == no ]]; then
        say "staged install into $root: not installing Debian packages"
        return
    fi
    if [[ $apt == no ]]; then
        say "--no-apt: not installing Debian packages"
        return
    fi
    command -v apt-get >/dev/null || die "apt-get not found: this script installs on Debian (or use --no-apt)"
    local wanted=(postgresql-client nginx zlib1g apache2-utils openssl ca-certificates)
    wanted+=("$(fcgi_runtime_package)")
    [[ $build == no ]] || wanted+=(libfcgi-dev zlib1g-dev pkg-config)
    local missing=() pkg
    for pkg in "${wanted[@]}"; do
        # Any versioned client (postgresql-client-15, …) provides pg_dump and psql.
        [[ $pkg != postgresql-client ]] || ! is_installed 'postgresql-client-[0-9]*' || continue
        is_installed "$pkg" || missing+=("$pkg")
    done
    if ((${#missing[@]} == 0)); then
        say "Debian packages already installed"
        return
    fi
    say "installing Debian packages: ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# --- binaries ----------------------------------------------------------------------------
build_binaries() {
    if [[ $build == yes ]]; then
        command -v swift >/dev/null || die "swift not found: install the Swift toolchain, or pass --bin-dir"
        say "building release binaries (swift build -c release --static-swift-stdlib --product, for each of ${BINARIES[*]})"
        # A static Swift runtime keeps the installed binaries working when the toolchain moves. One product at a
        # time: without --product, swift build also compiles the test-only targets (fcgi-echo, TestSupport).
        local product
        for product in "${BINARIES[@]}"; do
            (cd "$repo_dir" && swift build -c release --static-swift-stdlib --product "$product")
        done
        bin_dir=$(cd "$repo_dir" && swift build -c release --static-swift-stdlib --show-bin-path)
    elif [[ -z $bin_dir ]]; then
        bin_dir=$repo_dir/.build/release
    fi
    local binary
    for binary in "${BINARIES[@]}"; do
        [[ -x $bin_dir/$binary ]] || die "$bin_dir/$binary is missing or not executable"
    done
}

# Copy through a temporary name and rename, so a running binary is never written in place.
put_file() { # mode source destination
    local mode=$1 source=$2 destination=$3
    mkdir -p "$(dirname "$destination")"
    install -m "$mode" "$source" "$destination.new"
    mv -f "$destination.new" "$destination"
}

install_binaries() {
    say "installing binaries into $root$prefix/bin"
    local binary
    for binary in "${BINARIES[@]}"; do
        put_file 0755 "$bin_dir/$binary" "$root$prefix/bin/$binary"
    done
    if [[ -f $repo_dir/backup-database.sh ]]; then
        put_file 0755 "$repo_dir/backup-database.sh" "$root$prefix/bin/backup-database.sh"
    else
        note "backup-database.sh not found in $repo_dir: skipped"
    fi
    put_file 0644 "$script_dir/deploy.md" "$root$prefix/share/doc/pgbackup/deploy.md"
    put_file 0644 "$script_dir/pgbackup.env.example" "$root$prefix/share/doc/pgbackup/pgbackup.env.example"
}

# --- user and directories ----------------------------------------------------------------
create_user() {
    if [[ $real_install == no ]]; then
        say "staged install: not creating the system user $SERVICE_USER"
        return
    fi
    if getent passwd "$SERVICE_USER" >/dev/null; then
        say "system user $SERVICE_USER exists"
    else
        say "creating system user $SERVICE_USER"
        useradd --system --user-group --home-dir /var/lib/pgbackup --no-create-home \
            --shell /usr/sbin/nologin --comment "pgbackup service" "$SERVICE_USER"
    fi
    getent group "$WEB_GROUP" >/dev/null || die "group $WEB_GROUP (nginx's workers) does not exist"
}

# Ownership is only set on a real install: a staged root has no user database of its own.
own() { # owner:group path...
    [[ $real_install == no ]] || chown "$@"
}

make_dir() { # mode owner:group path
    mkdir -p "$3"
    chmod "$1" "$3"
    own "$2" "$3"
}

create_directories() {
    say "creating directories"
    make_dir 0700 "$SERVICE_USER:$SERVICE_USER" "$root/var/lib/pgbackup"
    make_dir 0700 "$SERVICE_USER:$SERVICE_USER" "$root/var/lib/pgbackup/backups"
    # 0751, not 0750: nginx's workers (www-data) read /etc/pgbackup/htpasswd on every request, so
    # they must traverse the directory; they still cannot list it, and each file is protected.
    make_dir 0751 "root:$SERVICE_USER" "$root/etc/pgbackup"
    make_dir 0700 root:root "$root/etc/pgbackup/tls"
}

install_config() {
    local env_file=$root/etc/pgbackup/pgbackup.env
    put_file 0644 "$script_dir/pgbackup.env.example" "$root/etc/pgbackup/pgbackup.env.example"
    if [[ -e $env_file ]]; then
        say "keeping existing $env_file"
    else
        say "creating $env_file from the example"
        install -m 0640 "$script_dir/pgbackup.env.example" "$env_file"
        own "root:$SERVICE_USER" "$env_file"
    fi
}

create_certificate() {
    local tls=$root/etc/pgbackup/tls
    if [[ -s $tls/cert.pem && -s $tls/key.pem ]]; then
        say "keeping existing TLS certificate in $tls"
        return
    fi
    local name
    name=$(hostname -f 2>/dev/null || hostname)
    say "creating a self-signed TLS certificate for $name (replace it with a real one)"
    local output
    if ! output=$(
        umask 077
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
            -days 825 -subj "/CN=$name" \
            -addext "subjectAltName=DNS:$name,DNS:localhost,IP:127.0.0.1,IP:::1" \
            -keyout "$tls/key.pem.new" -out "$tls/cert.pem.new" 2>&1
    ); then
        printf '%s\n' "$output" >&2
        die "openssl could not create the certificate"
    fi
    chmod 0600 "$tls/key.pem.new"
    chmod 0644 "$tls/cert.pem.new"
    mv -f "$tls/key.pem.new" "$tls/key.pem"
    mv -f "$tls/cert.pem.new" "$tls/cert.pem"
}

# The password only ever travels through variables and htpasswd's stdin (-i), never argv.
create_http_user() {
    local file=$root/etc/pgbackup/htpasswd password="" generated=no
    if [[ -n ${PGBACKUP_HTTP_PASSWORD:-} ]]; then
        password=$PGBACKUP_HTTP_PASSWORD
    elif [[ -f $file ]] && grep -q "^$http_user:" "$file"; then
        say "keeping the existing password of web user $http_user"
        return
    elif [[ -t 0 ]]; then
        local again
        read -r -s -p "Password for web user $http_user: " password
        printf '\n'
        read -r -s -p "Again: " again
        printf '\n'
        [[ -n $password && $password == "$again" ]] || die "passwords empty or different"
    else
        password=$(openssl rand -base64 24 | tr -d '/+=\n')
        generated=yes
    fi
    say "setting the password of web user $http_user in $file"
    local create=()
    [[ -f $file ]] || create=(-c)
    local output
    if ! output=$(printf '%s\n' "$password" | htpasswd -i "${create[@]}" "$htpasswd_scheme" "$file" "$http_user" 2>&1); then
        printf '%s\n' "$output" >&2
        die "htpasswd failed"
    fi
    chmod 0640 "$file"
    own "root:$WEB_GROUP" "$file"
    if [[ $generated == yes ]]; then
        local saved=$root/etc/pgbackup/initial-http-password
        (umask 077 && printf '%s:%s\n' "$http_user" "$password" >"$saved")
        note "generated a password; it is in $saved (root only): read it, then delete the file"
    fi
}

# Roles: operators.htpasswd lists who may change anything or download (nginx), PGBACKUP_OPERATORS the same
# users for the responder's own check. A first install makes the web user the one operator. An upgrade from a
# single htpasswd keeps every existing user an operator in both places (remove readers by hand afterwards).
install_operators() {
    local everyone=$root/etc/pgbackup/htpasswd operators=$root/etc/pgbackup/operators.htpasswd
    local env_file=$root/etc/pgbackup/pgbackup.env
    if [[ ! -f $operators ]]; then
        say "every user in $everyone is an operator (copied to $operators)"
        cp "$everyone" "$operators.new"
    else
        # Keep the web user's entry as current as in htpasswd.
        { grep -v "^$http_user:" "$operators" || true; grep "^$http_user:" "$everyone"; } >"$operators.new"
    fi
    chmod 0640 "$operators.new"
    own "root:$WEB_GROUP" "$operators.new"
    mv -f "$operators.new" "$operators"
    if ! grep -q '^[[:space:]]*PGBACKUP_OPERATORS=' "$env_file"; then
        local users
        users=$(cut -d : -f 1 "$operators" | paste -sd , -)
        say "setting PGBACKUP_OPERATORS=$users in $env_file"
        printf '\n# Added by install.sh: API users who may change anything or download (README, "Roles").\nPGBACKUP_OPERATORS=%s\n' \
            "$users" >>"$env_file"
    fi
}

install_nginx_site() {
    local source=$repo_dir/nginx/pgbackup.conf
    local available=$root/etc/nginx/sites-available/pgbackup.conf
    local enabled=$root/etc/nginx/sites-enabled/pgbackup.conf
    [[ -f $source ]] || die "$source not found"
    say "installing the nginx site $available"
    put_file 0644 "$source" "$available"
    mkdir -p "$(dirname "$enabled")"
    ln -sfn /etc/nginx/sites-available/pgbackup.conf "$enabled"
    if [[ $real_install == no ]]; then
        note "staged install: not running nginx -t"
        return
    fi
    if ! nginx -t -q; then
        rm -f "$enabled"
        die "nginx -t failed with the pgbackup site; it was disabled again (see the messages above)"
    fi
}

install_units() {
    say "installing systemd units into $root/etc/systemd/system"
    local unit
    for unit in "${UNITS[@]}"; do
        mkdir -p "$root/etc/systemd/system"
        sed "s#/usr/local/#$prefix/#g" "$script_dir/$unit" >"$root/etc/systemd/system/$unit.new"
        chmod 0644 "$root/etc/systemd/system/$unit.new"
        mv -f "$root/etc/systemd/system/$unit.new" "$root/etc/systemd/system/$unit"
    done
}

# --- services ----------------------------------------------------------------------------
start_services() {
    if [[ $real_install == no ]]; then
        say "enabling pgbackup-fcgi.socket and pgbackup-scheduler.timer in $root"
        systemctl --root="$root" --quiet enable pgbackup-fcgi.socket pgbackup-scheduler.timer
        return
    fi
    if [[ ! -d /run/systemd/system ]]; then
        say "systemd is not running as PID 1 here (a container?): skipping daemon-reload and starting"
        systemctl --quiet enable pgbackup-fcgi.socket pgbackup-scheduler.timer
        note "the socket and the timer are enabled and start at the next boot with systemd; without it:"
        note "  install -d -o $SERVICE_USER -g $SERVICE_USER -m 0755 /run/pgbackup"
        note "  runuser -u $SERVICE_USER -G $WEB_GROUP -- $prefix/bin/pgbackup-fcgi --socket /run/pgbackup/fcgi.sock \\"
        note "      --socket-group $WEB_GROUP --socket-mode 0660 </dev/null >>/var/log/pgbackup-fcgi.log 2>&1 &"
        note "  nginx   (or, when it runs: nginx -s reload)"
        return
    fi
    systemctl daemon-reload
    if [[ $start == no ]]; then
        say "--no-start: enabling units without starting them"
        systemctl --quiet enable pgbackup-fcgi.socket pgbackup-scheduler.timer
        return
    fi
    say "enabling and starting pgbackup-fcgi.socket and pgbackup-scheduler.timer"
    systemctl --quiet enable --now pgbackup-fcgi.socket pgbackup-scheduler.timer
    # An upgraded responder takes over at once; running jobs survive (KillMode=process).
    systemctl try-restart pgbackup-fcgi.service
    systemctl --quiet enable nginx
    systemctl reload-or-restart nginx
}

summary() {
    say "done"
    if [[ $real_install == yes ]]; then
        note "configuration: /etc/pgbackup/pgbackup.env (set POSTGRES_* there)"
        note "API: https://$(hostname -f 2>/dev/null || hostname)/api/backups (user $http_user)"
        note "CLI, as the service user (files made by root would be unreadable to the services):"
        note "  runuser -u $SERVICE_USER -- $prefix/bin/backup-database.sh list"
    else
        note "staged into $root"
    fi
}

install_packages
build_binaries
create_user
install_binaries
create_directories
install_config
create_certificate
create_http_user
install_operators
install_nginx_site
install_units
start_services
summary
