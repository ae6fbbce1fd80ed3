#!/usr/bin/env bash
# A bounded schemathesis run over the whole JSON API: a fresh demo city on 127.0.0.1 at a random
# port, an administrator's API token (scope "*"), then schemathesis against the server's own
# OpenAPI document, checking for server errors and for responses that do not match the document.
#
#   bench/schemathesis.sh [MAX_SECONDS] [MAX_EXAMPLES]      (defaults: 240 seconds, 5 examples)
#
# YIWANG_BIN picks the binary (default target/debug/yiwang, built if missing). schemathesis is
# installed from PyPI into a virtualenv under ~/.cache/yiwang-bench when it is not on PATH.
# Everything stays on 127.0.0.1; the demo database lives in a temporary folder removed at exit.
set -euo pipefail

MAX_SECONDS=${1:-240}
MAX_EXAMPLES=${2:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${YIWANG_BIN:-$ROOT/target/debug/yiwang}
if [[ ! -x $BIN ]]; then
    (cd "$ROOT" && cargo build -p yiwang)
fi

if command -v st >/dev/null 2>&1; then
    ST=st
else
    VENV=${XDG_CACHE_HOME:-$HOME/.cache}/yiwang-bench/st-venv
    if [[ ! -x $VENV/bin/st ]]; then
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install --quiet schemathesis
    fi
    ST=$VENV/bin/st
fi

WORK=$(mktemp -d)
SERVER=
cleanup() {
    if [[ -n $SERVER ]]; then
        kill "$SERVER" 2>/dev/null || true
        wait "$SERVER" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
# Cheap password hashing: the run measures the API, not argon2.
YIWANG_AUTH__ARGON2_MEMORY_KIB=1024 YIWANG_AUTH__ARGON2_ITERATIONS=1 YIWANG_LOG=warn \
    "$BIN" --db "sqlite://$WORK/demo.db" demo --listen "127.0.0.1:$PORT" >"$WORK/demo.out" 2>"$WORK/demo.err" &
SERVER=$!
for _ in $(seq 1 600); do
    if curl -fsS "$BASE/readyz" >/dev/null 2>&1 && grep -q '演示账号' "$WORK/demo.out"; then
        break
    fi
    if ! kill -0 "$SERVER" 2>/dev/null; then
        echo "the demo server stopped:" >&2
        cat "$WORK/demo.err" >&2
        exit 1
    fi
    sleep 1
done
sleep 1

# The password and an administrator's name, as the demo printed them (whatever the accounts are
# called: the first whose role is 管理员 or 系统管理员).
PASSWORD=$(sed -n 's/.*密码均为 \([^）]*\)）.*/\1/p' "$WORK/demo.out" | head -1)
ADMIN=$(awk '$2 == "系统管理员" || $2 == "管理员" { print $1; exit }' "$WORK/demo.out")
if [[ -z $PASSWORD || -z $ADMIN ]]; then
    echo "no administrator in the demo's output:" >&2
    cat "$WORK/demo.out" >&2
    exit 1
fi

JAR=$WORK/cookies
CSRF=$(curl -fsS -c "$JAR" -H 'content-type: application/json' \
    -d "{\"username\":\"$ADMIN\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/auth/login" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])')
TOKEN=$(curl -fsS -b "$JAR" -H "x-csrf-token: $CSRF" -H 'content-type: application/json' \
    -d '{"name":"schemathesis","scopes":["*"],"expires_in_days":1}' "$BASE/api/v1/org/tokens" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

echo "schemathesis $("$ST" --version | awk '{print $NF}') against $BASE/api/openapi.json as $ADMIN"
START=$(date +%s)
set +e
# Operations that would end the run's own credentials (logout, revoking tokens, the admin's
# password) are left out; everything else is fair game.
"$ST" run "$BASE/api/openapi.json" \
    --checks not_a_server_error,response_schema_conformance \
    --max-examples "$MAX_EXAMPLES" \
    --max-time "$MAX_SECONDS" \
    --workers 2 \
    --request-timeout 20 \
    --seed 2025 \
    --exclude-path-regex '/auth/logout|/org/tokens/\{id\}|/password|/me/sessions' \
    --suppress-health-check all \
    --header "Authorization: Bearer $TOKEN" \
    --report junit --report-dir "$ROOT/bench/schemathesis-report"
STATUS=$?
set -e
echo "duration: $(($(date +%s) - START)) s"
if grep -q 'panicked' "$WORK/demo.err"; then
    echo "the server panicked:" >&2
    grep -A3 'panicked' "$WORK/demo.err" >&2
fi
exit $STATUS
