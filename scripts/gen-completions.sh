#!/usr/bin/env bash
# Regenerates the committed shell completion scripts in completions/ and the manual pages in
# man/ from the clap definitions. Run after changing anything under src/cli* (or the help
# text); tests/completions.rs and tests/man_pages.rs fail until the committed files match.
# Builds the release binary (in $CARGO_TARGET_DIR when set, else target/).
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
cargo build -q --release --bin mfq
mfq="${CARGO_TARGET_DIR:-target}/release/mfq"
"$mfq" completions bash > completions/mfq.bash
"$mfq" completions zsh > completions/_mfq
"$mfq" completions fish > completions/mfq.fish
rm -rf man && "$mfq" __man man
echo "regenerated completions/mfq.bash completions/_mfq completions/mfq.fish and man/*.1"
