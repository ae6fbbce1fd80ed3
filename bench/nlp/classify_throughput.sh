#!/usr/bin/env bash
# Batch classification throughput, side by side: `yiwang hotline classify` (release build) against
# Python jieba + scikit-learn (TF-IDF + LinearSVC), both trained on the same labeled rows and
# classifying the same rows. Run by hand, never in CI.
#
# Usage: bench/nlp/classify_throughput.sh [ROWS]   (default 56000)
# The input is built at run time by repeating the shared real messages (labeled, unlabeled,
# votes and replies: 10,383 messages) to ROWS rows; nothing of the data is kept in the repository.
# Needs python3 with jieba and scikit-learn (pip-installed if missing).
set -euo pipefail
rows=${1:-56000}
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${YIWANG_HOTLINE_DATA:-$root/../shared/data/hotline}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 -c 'import jieba, sklearn' 2>/dev/null ||
  python3 -m pip install --quiet jieba scikit-learn
(cd "$root" && cargo build --release --quiet -p yiwang)
yiwang=$root/target/release/yiwang

python3 "$root/bench/nlp/make_rows.py" "$data" "$rows" "$work/rows.csv"
bytes=$(python3 -c 'import csv,sys
print(sum(len(r["title"].encode())+len(r["detail"].encode()) for r in csv.DictReader(open(sys.argv[1], encoding="utf-8"))))' "$work/rows.csv")
"$yiwang" hotline train --labeled "$data/labeled.csv" --taxonomy "$data/categories.csv" \
  --out "$work/model" >/dev/null

echo "classification: $rows rows, $bytes bytes of title + detail, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s.%N)
"$yiwang" hotline classify --model "$work/model" --input "$work/rows.csv" --output "$work/yiwang.csv" >/dev/null
rust=$(echo "$(date +%s.%N) - $start" | bc -l)
py=$(python3 "$root/bench/nlp/classify_sklearn.py" "$data/labeled.csv" "$work/rows.csv" "$work/python.csv" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')
printf '  %-48s %7d rows %8.2f s %8.2f MB/s\n' "yiwang hotline classify (release)" "$rows" "$rust" \
  "$(echo "$bytes / 1000000 / $rust" | bc -l)"
printf '  %-48s %7d rows %8.2f s %8.2f MB/s\n' "Python jieba + scikit-learn TF-IDF + LinearSVC" "$rows" "$py" \
  "$(echo "$bytes / 1000000 / $py" | bc -l)"
printf '  ratio: %.1f× faster\n' "$(echo "$py / $rust" | bc -l)"
