#!/usr/bin/env bash
# The whole suite on SQLite, then the database-facing tests again on PostgreSQL and with Redis
# when they are reachable (CI has both on 127.0.0.1). Exit non-zero if any run fails.
set -u
cd "$(dirname "$0")/.."
BIN=.venv/bin
PG_URL=${ANAGEN_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
REDIS=${ANAGEN_TEST_REDIS_URL:-redis://127.0.0.1:6379/15}
mkdir -p test-artifacts

if [ -x /usr/bin/chromium ]; then
  echo "== browser tests: Debian Chromium at /usr/bin/chromium"
else
  echo "== browser tests will be SKIPPED: /usr/bin/chromium is not installed (sudo apt-get install chromium)"
fi

status=0
echo "== tests on SQLite"
env -u DATABASE_URL -u REDIS_URL "$BIN/python" -m pytest "$@" || status=1

if "$BIN/python" - "$PG_URL" <<'PY' 2>/dev/null
import sys, psycopg
psycopg.connect(sys.argv[1].replace("postgres://", "postgresql://"), connect_timeout=3).close()
PY
then
  redis_env=()
  if "$BIN/python" -c "import redis,sys; redis.Redis.from_url(sys.argv[1], socket_connect_timeout=2).ping()" "$REDIS" 2>/dev/null; then
    redis_env=(REDIS_URL="$REDIS"); echo "== Redis reachable: the PostgreSQL run uses it as the cache"
  else
    echo "== Redis not reachable at $REDIS: the PostgreSQL run uses the in-process cache"
  fi
  echo "== tests on PostgreSQL ($PG_URL); the pure image-engine and browser tests ran above"
  env DATABASE_URL="$PG_URL" "${redis_env[@]}" "$BIN/python" -m pytest -m "not browser" \
      --ignore=anagen/trichoscopy "$@" || status=1
else
  echo "== PostgreSQL not reachable at $PG_URL: SKIPPING the PostgreSQL run (set ANAGEN_TEST_POSTGRES_URL)"
fi
exit $status
