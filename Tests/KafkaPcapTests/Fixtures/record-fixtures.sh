#!/usr/bin/env bash
# Records the committed pcap fixtures: real client sessions (sessions.py) against a fresh Tansu broker
# on 127.0.0.1:39092, captured on loopback. Needs root (tcpdump/dumpcap) and the repo's .venv.
#   Tests/KafkaPcapTests/Fixtures/record-fixtures.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
py="$root/.venv/bin/python3"
port=39092
work=$(mktemp -d)
cleanup() {
  [ -n "${cap_pid:-}" ] && kill -INT "$cap_pid" 2>/dev/null || true
  [ -n "${tansu_pid:-}" ] && kill "$tansu_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# record NAME SESSION CAPTURE-COMMAND...
record() {
  local name=$1 session=$2; shift 2
  mkfifo "$work/tansu.in.$name"
  "$py" "$root/tools/kafkatape_testkit.py" tansu --port $port <"$work/tansu.in.$name" >"$work/tansu.port" 2>"$work/tansu.err" &
  tansu_pid=$!
  exec 3>"$work/tansu.in.$name"
  for _ in $(seq 100); do [ -s "$work/tansu.port" ] && break; sleep 0.1; done
  "$@" "$work/$name" 2>"$work/cap.err" &
  cap_pid=$!
  sleep 1
  "$py" "$here/sessions.py" "$session" "127.0.0.1:$port"
  sleep 1.5
  kill -INT "$cap_pid"; wait "$cap_pid" || true; cap_pid=""
  exec 3>&-
  wait "$tansu_pid" || true; tansu_pid=""
  rm -f "$work/tansu.port"
  cp "$work/$name" "$here/$name"
  echo "recorded $name ($(stat -c %s "$here/$name") bytes)"
}

filter="tcp port $port"
record kafka-python-lo.pcap kafka-python tcpdump -i lo --immediate-mode -U "$filter" -w
record librdkafka-lo.pcapng librdkafka dumpcap -q -i lo -f "$filter" -w
record both-any-sll2.pcap both tcpdump -i any --immediate-mode -U "$filter" -w
record kafka-python-any-sll.pcap kafka-python tcpdump -i any -y LINUX_SLL --immediate-mode -U "$filter" -w
