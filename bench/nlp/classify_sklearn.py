"""Python jieba + scikit-learn (TF-IDF + LinearSVC) classifying the rows of a CSV file.

Usage: python3 classify_sklearn.py LABELED_CSV INPUT_CSV OUTPUT_CSV
Trains on LABELED_CSV (untimed), then times what `yiwang hotline classify` does: read INPUT_CSV,
segment every message with jieba (HMM on), TF-IDF, LinearSVC decision values, top-3 classes,
write OUTPUT_CSV with the input columns plus predicted, score and top3. Each message is given
exactly the text yiwang's classifier analyses: "title。title。detail", its first 500 characters.
Prints one JSON line: {"rows": R, "bytes": B, "seconds": S} (B: UTF-8 bytes of title + detail).
"""
import csv
import json
import sys
import time

import jieba
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

jieba.setLogLevel(60)
jieba.initialize()
labeled, inp, out = sys.argv[1], sys.argv[2], sys.argv[3]


def text(r):
    return f"{r['title']}。{r['title']}。{r['detail']}"[:500]


def words(t):
    return " ".join(jieba.lcut(t, HMM=True))


with open(labeled, encoding="utf-8", newline="") as f:
    train = list(csv.DictReader(f))
vec = TfidfVectorizer(token_pattern=r"(?u)\S+", sublinear_tf=True)
x = vec.fit_transform([words(text(r)) for r in train])
clf = LinearSVC().fit(x, [r["category"] for r in train])
classes = clf.classes_

t0 = time.perf_counter()
with open(inp, encoding="utf-8", newline="") as f:
    rows = list(csv.DictReader(f))
nbytes = sum(len(r["title"].encode()) + len(r["detail"].encode()) for r in rows)
scores = clf.decision_function(vec.transform([words(text(r)) for r in rows]))
top = np.argsort(-scores, axis=1)[:, :3]
with open(out, "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "title", "detail", "predicted", "score", "top3"])
    for r, s, t in zip(rows, scores, top):
        w.writerow([
            r["id"], r["title"], r["detail"], classes[t[0]], f"{s[t[0]]:.4f}",
            "|".join(f"{classes[k]}:{s[k]:.4f}" for k in t),
        ])
seconds = time.perf_counter() - t0
print(json.dumps({"rows": len(rows), "bytes": nbytes, "seconds": seconds}))
