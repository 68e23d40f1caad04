"""Writes the AnnData files HDF5ReaderTests reads, and the values it must find, with the reference
libraries (anndata, h5py; Python only in tests).

  python3 anndata_files.py FOLDER      writes FOLDER/current.h5ad, FOLDER/old.h5ad, FOLDER/paired.h5mu,
                                      FOLDER/wide.h5mu and the expected arrays as FOLDER/<name>.npy
Exit 3 when anndata, h5py or mudata is missing (run launch/setup)."""
import sys

try:
    import anndata
    import h5py
    import mudata
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp
except ImportError as error:
    print(error, file=sys.stderr)
    sys.exit(3)

folder = sys.argv[1]
rng = np.random.default_rng(7)
n, genes, proteins = 23, 11, 4
counts = rng.poisson(0.6, size=(n, genes)).astype(np.int64)          # mostly zeros, as counts are
normalised = np.log1p(counts / np.maximum(counts.sum(1, keepdims=True), 1) * 1e4).astype(np.float32)
protein = rng.integers(0, 500, size=(n, proteins)).astype(np.int64)
latent = rng.normal(size=(n, 3)).astype(np.float64)
kinds = np.array(["B", "T", "NK"])[rng.integers(0, 3, size=n)]

# anndata ≥ 0.8: X a CSR float32 array, a CSR count layer (int64 data), a CSC layer, dense obsm arrays,
# a categorical obs column.
a = anndata.AnnData(X=sp.csr_matrix(normalised), obs=pd.DataFrame({"cell_type": pd.Categorical(kinds), "batch": rng.integers(0, 2, size=n)},
                                                                  index=[f"c{i}" for i in range(n)]),
                  var=pd.DataFrame({"highly_variable": np.arange(genes) % 2 == 0, "mean": np.arange(genes) / 2.0},
                                   index=[f"g{j}" for j in range(genes)]))
a.layers["counts"] = sp.csr_matrix(counts)
a.layers["counts_csc"] = sp.csc_matrix(counts.astype(np.float32))
a.layers["dense"] = normalised
a.obsm["protein_expression"] = protein
a.obsm["X_latent"] = latent
a.write_h5ad(f"{folder}/current.h5ad")

# anndata 0.7's layout, written with h5py: a dense X, an h5sparse CSR layer, no encoding attributes.
with h5py.File(f"{folder}/old.h5ad", "w") as f:
    f["X"] = normalised
    g = f.create_group("layers/counts")
    s = sp.csr_matrix(counts)
    g["data"], g["indices"], g["indptr"] = s.data, s.indices, s.indptr
    g.attrs["h5sparse_format"] = "csr"
    g.attrs["h5sparse_shape"] = np.array(s.shape)
    f["obs/cell_type"] = np.array([0, 1] * (n // 2) + [0], dtype=np.int8)

for name, values in {"counts": counts, "normalised": normalised, "protein": protein, "latent": latent}.items():
    np.save(f"{folder}/{name}.npy", values.astype(np.float32))

# MuData, partially paired: RNA counts (CSR) for cells 0-19, proteins (dense) for every third cell, ATAC
# only for cells 20-22 (so with views [rna, prot] those three cells observe nothing and are left out).
# Global cell order c0…c22; a categorical label in the global obs.
import warnings
warnings.filterwarnings("ignore")
names = [f"c{i}" for i in range(n)]
prot_cells = list(range(0, n, 3))
rna = anndata.AnnData(X=sp.csr_matrix(counts[:20].astype(np.float32)), obs=pd.DataFrame(index=names[:20]))
prot = anndata.AnnData(X=protein[prot_cells].astype(np.float32), obs=pd.DataFrame(index=[names[i] for i in prot_cells]))
atac = anndata.AnnData(X=np.ones((3, 2), dtype=np.float32), obs=pd.DataFrame(index=names[20:]))
m = mudata.MuData({"rna": rna, "prot": prot, "atac": atac})
m = m[names].copy() if list(m.obs_names) != names else m
m.obs["cell_type"] = pd.Categorical(kinds[[int(c[1:]) for c in m.obs_names]])
m.write(f"{folder}/paired.h5mu")
np.save(f"{folder}/paired_order.npy", np.array([int(c[1:]) for c in m.obs_names], dtype=np.float32))

# wide.h5mu: the same pairing with 300 genes at about 5 % non-zeros, wide and sparse enough for the first
# layer's sparse path (Tests/mpi/counts.sh).
wide = sp.random(20, 300, density=0.05, format="csr", random_state=np.random.default_rng(8),
                 data_rvs=lambda k: np.random.default_rng(9).integers(1, 6, size=k)).astype(np.float32)
rna_wide = anndata.AnnData(X=wide, obs=pd.DataFrame(index=names[:20]))
w = mudata.MuData({"rna": rna_wide, "prot": prot.copy(), "atac": atac.copy()})
w = w[names].copy() if list(w.obs_names) != names else w
w.write(f"{folder}/wide.h5mu")
