"""log p(x) of the count likelihoods by scipy.stats, the reference CountLikelihoodTests compares with
(Python only in tests). Reads JSON {"x": [...], "mu": [...], "theta": [...]} on stdin (theta empty: Poisson),
prints JSON [logpmf, ...]. Exit 3 when scipy is missing."""
import json
import sys

try:
    from scipy import stats
except ImportError as error:
    print(error, file=sys.stderr)
    sys.exit(3)

grid = json.load(sys.stdin)
if grid["theta"]:
    # scipy's nbinom(n, p): n = θ, p = θ / (θ + μ) gives mean μ and variance μ + μ²/θ.
    out = [float(stats.nbinom.logpmf(x, t, t / (t + m))) for x, m, t in zip(grid["x"], grid["mu"], grid["theta"])]
else:
    out = [float(stats.poisson.logpmf(x, m)) for x, m in zip(grid["x"], grid["mu"])]
print(json.dumps(out))
