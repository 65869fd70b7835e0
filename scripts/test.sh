#!/usr/bin/env bash
# The test command: sets up if needed (scripts/setup.sh is idempotent and fast when nothing
# changed), then runs the whole pytest suite. Extra arguments go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
echo "==> pytest"
exec "$ROOT/.venv/bin/python" -m pytest "$@"
