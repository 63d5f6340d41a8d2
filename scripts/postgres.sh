#!/usr/bin/env bash
#! A throwaway PostgreSQL cluster for tests and benchmarks, on loopback only.
#!   scripts/postgres.sh start DIR PORT   prints postgres://stint@127.0.0.1:PORT/stint
#!   scripts/postgres.sh stop DIR
#! TLS is on, with a certificate for "localhost" (not 127.0.0.1, so that
#! sslmode=verify-full by address fails as it should) from a CA at DIR/ca.crt.
#! initdb refuses root, so as root the cluster belongs to the unprivileged
#! user stint-test (created on first use); otherwise to the caller.
set -euo pipefail
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$BIN/initdb" ] || { echo "postgres.sh: no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)" >&2; exit 1; }
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u stint-test -- "$@"; else "$@"; fi
}
cmd=${1:?usage: postgres.sh start DIR PORT | stop DIR}
dir=${2:?DIR}
case "$cmd" in
  start)
    port=${3:?PORT}
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
      id stint-test >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin stint-test
      chown stint-test "$dir"
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$BIN/initdb" -D "$dir/data" -U stint -A trust -E UTF8 --no-instructions >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if [ ! -f "$dir/server.crt" ]; then
      openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=stint test CA" \
        -keyout "$dir/ca.key" -out "$dir/ca.crt" >/dev/null 2>&1
      openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
        -keyout "$dir/server.key" -out "$dir/server.csr" >/dev/null 2>&1
      printf 'subjectAltName=DNS:localhost\n' >"$dir/san.ext"
      openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
        -days 3650 -extfile "$dir/san.ext" -out "$dir/server.crt" >/dev/null 2>&1
      chmod 600 "$dir/server.key"
      chmod 644 "$dir/ca.crt" "$dir/server.crt"
      if [ "$(id -u)" = 0 ]; then chown stint-test "$dir/server.key" "$dir/server.crt"; fi
    fi
    as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    "$BIN/psql" -h 127.0.0.1 -p "$port" -U stint -d postgres -tAq \
      -c "SELECT 1 FROM pg_database WHERE datname = 'stint'" | grep -q 1 \
      || "$BIN/psql" -h 127.0.0.1 -p "$port" -U stint -d postgres -q -c "CREATE DATABASE stint" >/dev/null
    echo "postgres://stint@127.0.0.1:$port/stint"
    ;;
  stop)
    [ -f "$dir/data/postmaster.pid" ] || exit 0
    as_owner "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  *) echo "postgres.sh: unknown command $cmd" >&2; exit 2 ;;
esac
