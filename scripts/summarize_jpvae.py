#!/usr/bin/env python3
"""Summarises `mvvae evaluate` reports of JPVAE runs as the Markdown tables of RESULTS.md.

Usage: scripts/summarize_jpvae.py runs/*/evaluation.json
Runs are grouped by the C parameterisation in their folder name (jpvae-fashion-<c>-...).
"""
import json
import re
import statistics
import sys
from collections import defaultdict

ORDER = ["zero", "bounded", "orthogonal"]
LABEL = {"zero": "C = 0", "bounded": "σ₁(C) < 1", "orthogonal": "CCᵀ = α²I"}


def fmt(values, digits=2):
    m = statistics.mean(values)
    s = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{m:.{digits}f} ({s:.{digits}f})"


def main(paths):
    groups = defaultdict(list)
    for p in paths:
        m = re.search(r"jpvae-fashion-(zero|bounded|orthogonal)-", p)
        if m:
            with open(p) as f:
                groups[m.group(1)].append(json.load(f))
    present = [c for c in ORDER if groups[c]]
    n = {c: len(groups[c]) for c in present}
    print("Table 1 — mean cross-entropy per test image (nats), mean (std) over seeds\n")
    print("| prior | runs | X̃₁ | X̃₂ | X̃₁\\|₂ | X̃₂\\|₁ | X̃₁\\|₂ train mean | X̃₂\\|₁ train mean |")
    print("|---|---|---|---|---|---|---|---|")
    for c in present:
        g = groups[c]
        cols = [[r["reconstruction"][0] for r in g], [r["reconstruction"][1] for r in g],
                [r["imputation"][0] for r in g], [r["imputation"][1] for r in g],
                [r["imputationTrainingMean"][0] for r in g], [r["imputationTrainingMean"][1] for r in g]]
        print(f"| {LABEL[c]} | {n[c]} | " + " | ".join(fmt(v) for v in cols) + " |")
    print("\nTable 2 — active units (% of 40) and Fig. 4 cross-correlation Frobenius norm\n")
    print("| prior | AU % | ‖corr(μ₁, μ₂)‖_F |")
    print("|---|---|---|")
    for c in present:
        g = groups[c]
        print(f"| {LABEL[c]} | {fmt([r['activeUnits'] for r in g], 1)} | {fmt([r['crossCorrelationFrobenius'] for r in g], 3)} |")
    keys = ["(X̃1, X̃1)", "(X̃1, X̃1|2)", "(X̃1|2, X̃1|2)", "(X̃2, X̃2)", "(X̃2, X̃2|1)", "(X̃2|1, X̃2|1)"]
    if all(groups[c][0].get("classification") for c in present):
        print("\nTable 3 — classifier accuracy % (trained on the first, tested on the second)\n")
        print("| prior | " + " | ".join(k.replace("|", "\\|") for k in keys) + " |")
        print("|---|" + "---|" * len(keys))
        for c in present:
            g = groups[c]
            print(f"| {LABEL[c]} | " + " | ".join(fmt([r["classification"][k] for r in g]) for k in keys) + " |")
        base = [r["classification"] for c in present for r in groups[c]]
        print(f"\nOriginal data: (X1, X1) {fmt([b['(X1, X1)'] for b in base])}, (X2, X2) {fmt([b['(X2, X2)'] for b in base])}")


if __name__ == "__main__":
    main(sys.argv[1:])
