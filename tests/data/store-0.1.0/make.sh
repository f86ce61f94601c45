#!/bin/sh
# Regenerates legacy.bundle: a repository whose baselines were written by idm-gate 0.1.0 itself,
# in its layout (one record per commit, records/<xx>/<sha>.json), with two manifests in it.
#   sh make.sh <idm-gate checkout> <commit of 0.1.0 there>      (it was made from 0898d22)
# History (fixed dates, so the commit SHAs are the same every time):
#   c0  idm.yaml (gate A, model "bonsai") and vision/idm.yaml (gate B, model "lens"); recorded: A only
#   c1  notes; recorded: A, then B -- 0.1.0 kept one record per commit, so B's replaced A's
#   c2  baselines.json: what 0.1.0's `baseline export` wrote at c2 (version 1: c0 -> A's, c1 -> B's)
set -eu
src=$(cd "$1" && pwd); rev=$2; out=$(cd "$(dirname "$0")" && pwd)/legacy.bundle
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
git -C "$src" archive "$rev" idm_gate pyproject.toml | tar -x -C "$tmp"  # the 0.1.0 package, as released
export GIT_CONFIG_NOSYSTEM=1 HOME="$tmp" GIT_AUTHOR_NAME=Dev GIT_AUTHOR_EMAIL=dev@example.com \
  GIT_COMMITTER_NAME=Dev GIT_COMMITTER_EMAIL=dev@example.com GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' \
  GIT_COMMITTER_DATE='2026-01-01T00:00:00Z' PYTHONPATH="$tmp"
git init -q --bare -b main "$tmp/origin.git"
git clone -q "$tmp/origin.git" "$tmp/work" 2>/dev/null
cd "$tmp/work"
git checkout -q -b main
mkdir vision
cat > idm.yaml <<'YAML'
version: 1
gate: {max_drop: 5%}
models:
- name: bonsai
  size_bytes: 2000000000
  evals:
  - scale: percent
    scores: {arc: 70.0, gsm8k: 60.0}
YAML
cat > vision/idm.yaml <<'YAML'
version: 1
gate: {max_drop: 5%}
models:
- name: lens
  size_bytes: 1000000000
  evals:
  - scale: percent
    scores: {mmmu: 80.0}
YAML
git add -A && git commit -q -m c0 && git push -q origin main
python3 -m idm_gate record
echo c1 > NOTES.md
git add -A && git commit -q -m c1 && git push -q origin main
python3 -m idm_gate record
python3 -m idm_gate record -m vision/idm.yaml
python3 -m idm_gate baseline export -o baselines.json
git add -A && git commit -q -m c2 && git push -q origin main
git -C "$tmp/origin.git" bundle create "$out" HEAD main idm-baselines
