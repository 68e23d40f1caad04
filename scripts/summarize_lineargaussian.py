#!/usr/bin/env python3
"""Summarises `mvvae evaluate` reports of aggregated models on the linear-Gaussian simulation.

Usage: scripts/summarize_lineargaussian.py runs/aggregated-lineargaussian-*/evaluation.json
Groups by simulation (5 modalities, or k2 = bi-modal), aggregator and bound (from the run folder name)
and prints mean (std) over seeds.
"""
import json
import os
import re
import statistics
import sys
from collections import defaultdict


def fmt(values, spec):
    m = statistics.mean(values)
    s = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{m:{spec}} ({s:{spec}})"


def drift(evaluation_path):
    """Mean training loss of the last tenth of the epochs minus that of the tenth before: a run still
    improving shows a clearly negative number."""
    rows = []
    with open(os.path.join(os.path.dirname(evaluation_path), "metrics.jsonl")) as f:
        for line in f:
            rows.append(json.loads(line)["trainLoss"])
    n = max(len(rows) // 10, 1)
    if len(rows) < 2 * n:
        return float("nan")
    return statistics.mean(rows[-n:]) - statistics.mean(rows[-2 * n:-n])


def rd(report, key):
    """A rate–distortion term of a report (NaN for reports written before it existed)."""
    return report.get("rateDistortion", {}).get(key, float("nan"))


def main(paths):
    groups = defaultdict(list)
    for p in paths:
        m = re.search(r"aggregated-lineargaussian-([a-z]+)-(masked|mixture|elbo)(-k2)?-e", p)
        if m:
            with open(p) as f:
                report = json.load(f)
            report = report.get("linearGaussian", report)  # newer reports nest the exact evaluation
            report["drift"] = drift(p)
            groups[(m.group(3) or "", m.group(1), m.group(2))].append(report)
    print("| modalities | aggregator | bound | runs | LLH model | LLH MLE | relative gap | weak MCC | strong MCC | full rec. | full rate | cross rec. | cross rate | loss drift |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for variant, label in [("-k2", "2"), ("", "5")]:
      for agg in ["poe", "moe", "mopoe", "sumpooling", "selfattention"]:
        for bound in ["masked", "mixture", "elbo"]:
            g = groups.get((variant, agg, bound))
            if not g:
                continue
            cols = [fmt([r["modelLogLikelihood"] for r in g], ".3f"), fmt([r["mleLogLikelihood"] for r in g], ".3f"),
                    fmt([r["relativeGap"] for r in g], ".2e"), fmt([r["weakMCC"] for r in g], ".3f"),
                    fmt([r["strongMCC"] for r in g], ".3f"),
                    fmt([rd(r, "fullReconstruction") for r in g], ".2f"), fmt([r["fullRate"] for r in g], ".2f"),
                    fmt([rd(r, "crossReconstruction") for r in g], ".2f"), fmt([rd(r, "crossRate") for r in g], ".2f"),
                    fmt([r["drift"] for r in g], ".3f")]
            print(f"| {label} | {agg} | {bound} | {len(g)} | " + " | ".join(cols) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
