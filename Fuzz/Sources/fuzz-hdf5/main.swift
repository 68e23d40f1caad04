import FuzzSupport
import MultiViewVAE

// An AnnData or MuData file (HDF5) as `data.source: anndata` / `mudata` reads it: every array, dense, CSR or
// CSC, a categorical obs column as labels, obs read back by rows as `encode --output x.h5ad` does, and the
// modalities of a MuData file through its obsmap.
FuzzDriver.run(fileExtension: "h5ad") { _, path in
    defer { HDF5File.releaseLibraryMemory() }
    _ = try? MultiViewDataset(annData: path, views: ["X", "layers/counts", "obsm/protein"], labels: "obs/kind")
    _ = try? MultiViewDataset(muData: path, views: ["rna", "prot"], labels: nil)
    do {
        let file = try HDF5File(path: path)
        _ = try? AnnDataFrame.read(file: file, element: "obs", rows: [0, 1, 2])
        _ = try? AnnDataFrame.read(file: file, element: "var", rows: [0])
    }
}
