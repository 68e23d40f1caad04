#!/usr/bin/env python3
"""RESULTS.md's JNF table from the evaluation.json files of scripts/jnf-quadrants-results.sh: per model,
mean ± sd over seeds of log p(x), log p(x_s | x_rest) (the mean over the four left-out quadrants),
conditional coherence from 1, 2 and 3 observed quadrants, joint coherence and JNF's HMC acceptance rate."""
import json, re, statistics, sys
from collections import defaultdict

rows = defaultdict(lambda: defaultdict(list))
for path in sys.argv[1:]:
    m = re.search(r"runs/(?:jnf-fashion-quadrants-(plain|shared)|aggregated-fashion-quadrants-poe-(\w+))-e\d+-s(\d+)/", path)
    if not m:
        continue
    model = {"plain": "JNF", "shared": "JNF-Shared"}.get(m.group(1)) or m.group(2).replace("mopoe", "MoPoE").replace("moe", "MoE").replace("poe", "PoE")
    r = json.load(open(path))
    out = rows[model]
    if "jointLogLikelihood" in r:
        out["log p(x)"].append(r["jointLogLikelihood"])
        out["log p(x_s | x_rest)"].append(r["conditionalLogLikelihoodBySize"][-1])
        if r.get("hmcAcceptanceRate") is not None:
            out["HMC acceptance"].append(r["hmcAcceptanceRate"])
    else:
        out["log p(x)"].append(r["logLikelihood"])
        out["log p(x_s | x_rest)"].append(statistics.mean(c["logLikelihood"] for c in r["conditional"] if c.get("logLikelihood") is not None))
    c = r.get("coherence")
    if c:
        for size, v in enumerate(c["conditionalBySize"]):
            out[f"coherence from {size + 1}"].append(v)
        if c.get("joint") is not None:
            out["joint coherence"].append(c["joint"])
        out["classifier accuracy"].append(statistics.mean(c["classifierAccuracy"]))

columns = ["log p(x)", "log p(x_s | x_rest)", "coherence from 1", "coherence from 2", "coherence from 3", "joint coherence", "HMC acceptance", "classifier accuracy"]
def cell(values, column):
    if not values:
        return "–"
    spec = "%.2f" if column.startswith("log") else "%.3f"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return (spec + " ± " + spec) % (statistics.mean(values), sd)

print("| model | seeds | " + " | ".join(c.replace("|", "\\|") for c in columns) + " |")
print("|---|---|" + "---|" * len(columns))
for model in ["PoE", "MoE", "MoPoE", "JNF", "JNF-Shared"]:
    if model in rows:
        r = rows[model]
        print(f"| {model} | {len(r['log p(x)'])} | " + " | ".join(cell(r[c], c) for c in columns) + " |")
