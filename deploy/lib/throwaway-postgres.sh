# shellcheck shell=bash
# A throwaway PostgreSQL cluster, set up the same way for deploy/quickstart.sh and Benchmarks/run.sh: initdb in a
# directory of its own, trust authentication for the postgres role, and a server reachable only through a unix
# socket in a private directory (listen_addresses='': no TCP port is opened). Sourced, never run: it defines
# functions and nothing else. As root the cluster belongs to the postgres user (initdb and the server refuse
# root). Each caller says what it is doing and what failed in its own words.
set -euo pipefail

# Runs a PostgreSQL server tool as the cluster's owner, from / (a directory every user may enter).
throwaway_pg_as_owner() { # command…
    if ((EUID == 0)); then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# Prints the directory of initdb and pg_ctl: the one on PATH, else the newest /usr/lib/postgresql/N/bin
# (Debian keeps the server tools off PATH). Fails when there is none.
throwaway_pg_bin_dir() {
    local initdb dir
    if initdb=$(command -v initdb); then
        dirname "$(readlink -f "$initdb")"
        return
    fi
    for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
        [[ -x $dir/initdb ]] && { printf '%s\n' "$dir"; return; }
    done
    return 1
}

# Makes the cluster's directories (data, sockets, the one above them) and, as root, gives them to postgres.
throwaway_pg_make_dirs() { # directory…
    mkdir -p "$@"
    if ((EUID == 0)); then
        chown postgres:postgres "$@"
    fi
}

# Creates a UTF-8 cluster in DATA_DIR whose postgres role logs in with trust; initdb's output goes to LOG_FILE.
throwaway_pg_init() { # data-dir log-file [initdb option…]
    local data=$1 log=$2 bin
    shift 2
    bin=$(throwaway_pg_bin_dir) || return 1
    throwaway_pg_as_owner "$bin/initdb" -D "$data" -U postgres -A trust -N -E UTF8 "$@" >"$log" 2>&1
}

# Starts the server of DATA_DIR on the socket SOCKET_DIR/.s.PGSQL.PORT, logging to LOG_FILE, and waits until it
# accepts connections (60 s at most). Each further argument is a server setting, name=value.
throwaway_pg_start() { # data-dir socket-dir port log-file [setting…]
    local data=$1 socket_dir=$2 port=$3 log=$4 options setting bin
    shift 4
    options="-k $socket_dir -p $port -c listen_addresses=''"
    for setting in "$@"; do
        options+=" -c $setting"
    done
    bin=$(throwaway_pg_bin_dir) || return 1
    throwaway_pg_as_owner "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 -o "$options" start >/dev/null
}

# Succeeds while the server of DATA_DIR runs.
throwaway_pg_is_running() { # data-dir
    local bin
    bin=$(throwaway_pg_bin_dir) || return 1
    throwaway_pg_as_owner "$bin/pg_ctl" -D "$1" status >/dev/null 2>&1
}

# Stops the server of DATA_DIR (fast: open sessions are ended) and waits until it is down (60 s at most).
throwaway_pg_stop() { # data-dir
    local bin
    bin=$(throwaway_pg_bin_dir) || return 1
    throwaway_pg_as_owner "$bin/pg_ctl" -D "$1" -m fast -w -t 60 stop >/dev/null
}
