#!/usr/bin/env bash
# `npm test`: set up what is missing, then typecheck, lint and run every test on real servers.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! bash scripts/setup.sh; then
  echo "setup failed: see the messages above"
  echo
  echo "0 passed, 1 failed"
  exit 1
fi
exec node scripts/test.mjs "$@"
