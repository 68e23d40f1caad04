#!/usr/bin/env python3
"""Summarises scripts/covae-correlated-results.sh: one Markdown table per measurement, a row per model,
a column per ρ, mean ± sd over seeds. Reads runs/correlated-<model>-r<ρ>-e<E>-s<seed>/evaluation.json
(CoVAE: the generation statistics at the top level; aggregated: under "generation")."""
import json, re, statistics, sys
from collections import defaultdict

runs = defaultdict(list)  # (model, rho) -> [report]
for path in sys.argv[1:]:
    name = re.search(r"correlated-([a-z]+)-(learnt-|dcor-)?r([0-9.]+)-e\d+-s(\d+)/", path)
    if not name:
        continue
    model = name.group(1) + ("-" + name.group(2)[:-1] if name.group(2) else "")
    rho = float(name.group(3))
    report = json.load(open(path))
    report = report.get("generation", report)
    if "jointCorrelation" not in report:
        continue
    runs[(model, rho)].append(report)

models = [m for m in ["covae", "covae-learnt", "covae-dcor", "poe", "moe"] if any(k[0] == m for k in runs)]
rhos = sorted({k[1] for k in runs})

def mean(v): return sum(v) / len(v)
measures = [
    ("ground-truth correlation (mean canonical correlation of the generating latents)", lambda r: r.get("dataCorrelation"), "%.3f"),
    ("prior correlation (mean singular value of C)", lambda r: mean(r["priorCorrelations"]) if r["priorCorrelations"] else None, "%.3f"),
    ("joint generation: decoder-input correlation", lambda r: r["jointCorrelation"], "%.3f"),
    ("conditional generation: decoder-input correlation (mean of both directions)", lambda r: mean(r["conditionalCorrelation"]), "%.3f"),
    ("std of the conditioning modality's decoder input, per dimension (Fig. 6 left; mean of both directions)", lambda r: mean(r["conditioningLatentStandardDeviation"]), "%.3f"),
    ("std of the missing modality's decoder input, per dimension (Fig. 6 right; mean of both directions)", lambda r: mean(r["missingLatentStandardDeviation"]), "%.3f"),
    ("std of the decoded conditioning modality (mean of both directions)", lambda r: mean(r["conditioningStandardDeviation"]), "%.4f"),
    ("std of the decoded missing modality (mean of both directions)", lambda r: mean(r["missingStandardDeviation"]), "%.4f"),
    ("joint −log p(x₁, x₂), importance sampled", lambda r: r["jointNLL"], "%.1f"),
    ("conditional −log p(x_missing | x_given), mixture of draws (mean of both directions)", lambda r: mean(r["predictiveNLL"]), "%.1f"),
    ("conditional −log p(x_missing), training-mean baseline", lambda r: mean(r["predictiveNLLTrainingMean"]), "%.1f"),
]
seeds = sorted({len(v) for v in runs.values()})
print(f"Seeds per cell: {seeds}; test rows per run: {sorted({r['testRows'] for v in runs.values() for r in v})}; "
      f"draws: {sorted({r['samples'] for v in runs.values() for r in v})}; importance samples: {sorted({r['importanceSamples'] for v in runs.values() for r in v})}\n")
for title, get, fmt in measures:
    print(f"**{title}**\n")
    print("| model | " + " | ".join(f"ρ = {r:g}" for r in rhos) + " |")
    print("|---|" + "---|" * len(rhos))
    for model in models:
        cells = []
        for rho in rhos:
            values = [get(r) for r in runs.get((model, rho), [])]
            values = [v for v in values if v is not None]
            if not values:
                cells.append("–")
            elif len(values) == 1:
                cells.append(fmt % values[0])
            else:
                cells.append(f"{fmt % statistics.mean(values)} ± {fmt % statistics.stdev(values)}")
        print(f"| {model} | " + " | ".join(cells) + " |")
    print()
