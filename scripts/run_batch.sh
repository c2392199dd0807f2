#!/usr/bin/env bash
# Example batch run: several languages, two at a time, one summary and cross-language report.
#   scripts/run_batch.sh sw,yo,ha out-batch [more `translate-synth batch` flags]
# Runs the checkout's .venv/bin/translate-synth (the README's install), else translate-synth on
# PATH (an activated venv, a pip install); says how to install it when there is neither.
# Exits non-zero when any language failed (the summary names it and why).
set -euo pipefail
LANGS="${1:-sw,yo,ha}"
OUT="${2:-out-batch}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -x "$REPO/.venv/bin/translate-synth" ]]; then
    TS="$REPO/.venv/bin/translate-synth"
elif command -v translate-synth >/dev/null 2>&1; then
    TS="$(command -v translate-synth)"
else
    echo "error: translate-synth not found: not in $REPO/.venv/bin and not on PATH; install it" \
         "with: cd $REPO && python3 -m venv .venv && .venv/bin/pip install -e '.[dev]'" \
         "(or activate the venv it is installed in)" >&2
    exit 2
fi
exec "$TS" batch --langs "$LANGS" --out "$OUT" --jobs "${JOBS:-2}" "${@:3}"
