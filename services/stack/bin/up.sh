#!/usr/bin/env bash
# The README's first command: installs what this machine lacks (nats-server, etcd, npm packages; via
# scripts/setup.sh), builds the stack and the fedview CLI its summary tells you to use, then runs the
# local stack in the foreground until Ctrl-C. Arguments go to the stack: --no-demo, --state-dir DIR.
set -euo pipefail
# The state dir (default .fedview) is relative to where this was typed, not to the repository root.
export INIT_CWD="${INIT_CWD:-$PWD}"
cd "$(dirname "$0")/../../.."
bash scripts/setup.sh
echo "up: building the stack and the fedview CLI (tsc -b)"
node node_modules/typescript/bin/tsc -b services/stack services/cli
exec node services/stack/dist/src/main.js "$@"
