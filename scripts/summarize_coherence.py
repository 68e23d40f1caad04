#!/usr/bin/env python3
"""RESULTS.md's coherence tables (JNF on Fashion quadrants, PolyFashion) from the evaluation.json files of
scripts/jnf-quadrants-results.sh and scripts/polyfashion-results.sh: per network and model, mean ± sd over
seeds of log p(x), log p(x_s | x_rest) (the mean over the left-out modalities), conditional coherence from
1 … K−1 observed modalities, joint coherence, JNF's HMC acceptance rate and the classifiers' test accuracy.

  python3 scripts/summarize_coherence.py runs/…/evaluation.json …"""
import json, re, statistics, sys
from collections import defaultdict

NAMES = {"plain": "JNF", "shared": "JNF-Shared", "jnf": "JNF", "jnfshared": "JNF-Shared",
         "poe": "PoE", "moe": "MoE", "mopoe": "MoPoE"}
PATTERNS = [  # (regex over the run folder, groups: network or None, model)
    r"runs/jnf-fashion-quadrants-(?P<model>plain|shared)-e\d+-s\d+/",
    r"runs/aggregated-fashion-quadrants-poe-(?P<model>\w+)-e\d+-s\d+/",
    r"runs/polyfashion-conv-(?:mopoe|jnf)-(?P<model>\w+)-(?P<network>conv|mlp)-e\d+-s\d+/",
]


def key(path):
    for pattern in PATTERNS:
        m = re.search(pattern, path)
        if m:
            return m.groupdict().get("network") or "", NAMES[m.group("model")]
    return None


rows = defaultdict(lambda: defaultdict(list))
sizes = 0
for path in sys.argv[1:]:
    k = key(path)
    if k is None:
        continue
    r, out = json.load(open(path)), rows[k]
    if "jointLogLikelihood" in r:
        out["log p(x)"].append(r["jointLogLikelihood"])
        out["log p(x_s | x_rest)"].append(r["conditionalLogLikelihoodBySize"][-1])
        if r.get("hmcAcceptanceRate") is not None:
            out["HMC acceptance"].append(r["hmcAcceptanceRate"])
    else:
        out["log p(x)"].append(r["logLikelihood"])
        conditional = [c["logLikelihood"] for c in r["conditional"] if c.get("logLikelihood") is not None]
        if conditional:
            out["log p(x_s | x_rest)"].append(statistics.mean(conditional))
    c = r.get("coherence")
    if c:
        sizes = max(sizes, len(c["conditionalBySize"]))
        for size, v in enumerate(c["conditionalBySize"]):
            out[f"coherence from {size + 1}"].append(v)
        if c.get("joint") is not None:
            out["joint coherence"].append(c["joint"])
        out["classifier accuracy"].append(statistics.mean(c["classifierAccuracy"]))

columns = (["log p(x)", "log p(x_s | x_rest)"] + [f"coherence from {k}" for k in range(1, sizes + 1)]
           + ["joint coherence", "HMC acceptance", "classifier accuracy"])


def cell(values, column):
    if not values:
        return "–"
    spec = "%.2f" if column.startswith("log") else "%.3f"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return (spec + " ± " + spec) % (statistics.mean(values), sd)


networks = sorted({n for n, _ in rows})
lead = "| network | model | seeds | " if networks != [""] else "| model | seeds | "
print(lead + " | ".join(c.replace("|", "\\|") for c in columns) + " |")
print("|---" * (lead.count("|") - 1) + "|" + "---|" * len(columns))
for network in networks:
    for model in ["PoE", "MoE", "MoPoE", "JNF", "JNF-Shared"]:
        r = rows.get((network, model))
        if r:
            first = f"| {network} | {model} | " if network else f"| {model} | "
            print(first + f"{len(r['log p(x)'])} | " + " | ".join(cell(r[c], c) for c in columns) + " |")
