"""Python jieba's segmentation throughput on the texts of FILE (one message a line).

Usage: python3 jieba_seg.py FILE ROUNDS
Prints one JSON line: {"chars": N, "words": W, "seconds": S}. Dictionary loading is done
before the clock starts, as on the Rust side. Run by `cargo run --release -p bench --bin intel`.
"""
import json
import sys
import time

import jieba

jieba.setLogLevel(60)
jieba.initialize()
path, rounds = sys.argv[1], int(sys.argv[2])
texts = [line.rstrip("\n") for line in open(path, encoding="utf-8")]
chars = 0
words = 0
t0 = time.perf_counter()
for _ in range(rounds):
    for t in texts:
        words += len(jieba.lcut(t, HMM=True))
        chars += len(t)
print(json.dumps({"chars": chars, "words": words, "seconds": time.perf_counter() - t0}))
