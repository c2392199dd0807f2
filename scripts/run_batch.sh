#!/usr/bin/env bash
# Example batch run: several languages, two at a time, one summary and cross-language report.
#   scripts/run_batch.sh sw,yo,ha out-batch
# Exits non-zero when any language failed (the summary names it and why).
set -euo pipefail
LANGS="${1:-sw,yo,ha}"
OUT="${2:-out-batch}"
exec translate-synth batch --langs "$LANGS" --out "$OUT" --jobs "${JOBS:-2}" "${@:3}"
