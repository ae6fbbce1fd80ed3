"""scikit-learn TF-IDF + LinearSVC on the same folds as `cargo run --example cv`.

Usage: python3 sklearn_baseline.py DATA_DIR FOLDS_CSV
(needs scikit-learn and jieba; text = title + detail, jieba words, default TfidfVectorizer.)
"""
import csv
import sys

import jieba
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.svm import LinearSVC

jieba.setLogLevel(60)
data, folds_csv = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(f"{data}/labeled.csv", encoding="utf-8")))
fold = {r["id"]: int(r["fold"]) for r in csv.DictReader(open(folds_csv))}
texts = [" ".join(jieba.lcut(r["title"] + " " + r["detail"])) for r in rows]
y = np.array([r["category"] for r in rows])
f = np.array([fold[r["id"]] for r in rows])
for name, vec in [
    ("sklearn words", lambda: TfidfVectorizer(token_pattern=r"(?u)\S+")),
    ("sklearn default", lambda: TfidfVectorizer()),
]:
    f1s, accs = [], []
    for k in sorted(set(f)):
        v = vec()
        xtr = v.fit_transform([t for t, g in zip(texts, f) if g != k])
        xte = v.transform([t for t, g in zip(texts, f) if g == k])
        clf = LinearSVC().fit(xtr, y[f != k])
        p = clf.predict(xte)
        f1s.append(f1_score(y[f == k], p, average="macro"))
        accs.append(accuracy_score(y[f == k], p))
        print(f"{name} fold {k}: macro-F1 {f1s[-1]:.4f} accuracy {accs[-1]:.4f}")
    print(f"{name}: macro-F1 {np.mean(f1s):.4f} ± {np.std(f1s, ddof=1):.4f}, accuracy {np.mean(accs):.4f}")
