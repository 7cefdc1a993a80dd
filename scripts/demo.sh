#!/usr/bin/env bash
# The README's first command: set up whatever is missing, then run the real Claude Code (from
# the agent cache; downloaded once) on the bundled smoke suite with the scripted mock/solve
# model, which needs no API key, and show the summary.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
exec "$root/bin/cagebench.js" run "$root/tasks/suites/smoke" --agent claude_code --model mock/solve --out "$root/runs" "$@"
