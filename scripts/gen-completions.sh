#!/usr/bin/env bash
# Regenerates the committed shell completion scripts in completions/ from the clap
# definitions. Run after changing anything under src/cli*; tests/completions.rs fails
# until the committed files match.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
cargo build -q --bin mfq
cargo run -q -- completions bash > completions/mfq.bash
cargo run -q -- completions zsh > completions/_mfq
cargo run -q -- completions fish > completions/mfq.fish
echo "regenerated completions/mfq.bash completions/_mfq completions/mfq.fish"
