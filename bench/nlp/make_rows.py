"""Builds the classification bench input: the shared real messages repeated to about N rows.

Usage: python3 make_rows.py DATA_DIR N OUT_CSV
Reads id, title and detail of labeled.csv, unlabeled.csv, messages_with_votes.csv and
messages_with_replies.csv (10,383 messages) and writes them again and again, with ids made unique,
until N rows are written. Nothing of the data is kept in the repository.
"""
import csv
import sys

data, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = []
for name in ["labeled.csv", "unlabeled.csv", "messages_with_votes.csv", "messages_with_replies.csv"]:
    with open(f"{data}/{name}", encoding="utf-8", newline="") as f:
        rows.extend((r["id"], r["title"], r["detail"]) for r in csv.DictReader(f))
with open(out, "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "title", "detail"])
    for k in range(n):
        i, title, detail = rows[k % len(rows)]
        w.writerow([f"{i}-{k // len(rows)}", title, detail])
