#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests: a private port, a folder of its own, stopped at the end.
#   .ci/postgres.sh start DIR   initdb (first time) and start; prints the JDBC URL on stdout
#   .ci/postgres.sh stop DIR    fast shutdown (start DIR again later: same data, same port)
# Installs Debian's postgresql when no server binaries are found. Runs the server as the 'postgres' user when started
# as root (PostgreSQL refuses to run as root). Durability settings stay the defaults (fsync on), so the latency measured
# against it is a real database's.
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?folder}
find_bin() {
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }; done
  command -v pg_ctl >/dev/null 2>&1 && { dirname "$(command -v pg_ctl)"; return 0; }
  return 1
}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$cmd" in
  start)
    bin=$(find_bin || true)
    if [ -z "$bin" ]; then
      { timeout 180 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq postgresql; } \
        >"$dir.install.log" 2>&1 || { echo "postgres: could not install postgresql (see $dir.install.log)" >&2; exit 1; }
      bin=$(find_bin)
    fi
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_pg "$bin/initdb" -D "$dir/data" -U warmroute --auth=trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
        || { echo "postgres: initdb failed (see $dir/initdb.log)" >&2; exit 1; }
    fi
    # The same port again when the folder has one (a test stops and restarts the server: clients reconnect there).
    port=$(cat "$dir/port" 2>/dev/null || true)
    if [ -z "$port" ]; then
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
             || shuf -i 20000-59999 -n 1)
    fi
    mkdir -p "$dir/sock"; [ "$(id -u)" = 0 ] && chown postgres "$dir/sock"
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null \
      || { echo "postgres: the server did not start (see $dir/server.log)" >&2; exit 1; }
    echo "$port" >"$dir/port"
    "$bin/psql" -h 127.0.0.1 -p "$port" -U warmroute -d postgres -qtAc "CREATE DATABASE warmroute" >/dev/null 2>&1 || true
    echo "jdbc:postgresql://127.0.0.1:$port/warmroute?user=warmroute"
    ;;
  stop)
    bin=$(find_bin || true)
    [ -n "$bin" ] && [ -f "$dir/data/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
