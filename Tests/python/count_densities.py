"""log p(x) of the count likelihoods by scipy.stats, the reference CountLikelihoodTests compares with
(Python only in tests). Reads JSON {"x": [...], "mu": [...], "theta": [...], "pi": [...]} on stdin (theta empty:
Poisson; pi given: the negative binomial inflated with zeros of probability pi), prints JSON [logpmf, ...]. Exit 3 when scipy is missing."""
import json
import sys

try:
    import numpy as np
    from scipy import stats
except ImportError as error:
    print(error, file=sys.stderr)
    sys.exit(3)

grid = json.load(sys.stdin)
if grid.get("pi"):
    # A zero with probability π, else the negative binomial: p(0) = π + (1 − π)·NB(0), p(x) = (1 − π)·NB(x).
    out = []
    for x, m, t, pi in zip(grid["x"], grid["mu"], grid["theta"], grid["pi"]):
        nb = stats.nbinom.pmf(x, t, t / (t + m))
        out.append(float(np.log(pi * (x == 0) + (1 - pi) * nb)))
elif grid["theta"]:
    # scipy's nbinom(n, p): n = θ, p = θ / (θ + μ) gives mean μ and variance μ + μ²/θ.
    out = [float(stats.nbinom.logpmf(x, t, t / (t + m))) for x, m, t in zip(grid["x"], grid["mu"], grid["theta"])]
else:
    out = [float(stats.poisson.logpmf(x, m)) for x, m in zip(grid["x"], grid["mu"])]
print(json.dumps(out))
