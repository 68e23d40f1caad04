import MVConfig
import MVData
import MVIO

/// The annotations (`obs`) of chosen rows of a run's data, for results written back as AnnData: an AnnData or
/// MuData file's own obs — cell names and columns — for those cells; for other data the row numbers as names
/// and the class labels, if any, as a `label` column.
public enum CellAnnotations {
    /// `rows` index the run's data set (`DataSubset.indices`). `skipped` names obs columns not carried over.
    public static func obs(config: DataConfig, dataset: MultiViewDataset, rows: [Int]) throws -> (frame: AnnDataFrame, skipped: [String]) {
        switch config.source {
        case .anndata:
            return try AnnDataFrame.read(file: HDF5File(path: config.file ?? ""), element: "obs", rows: rows)
        case .mudata:
            let path = config.file ?? ""
            let cells = try MultiViewDataset.muDataCells(path: path, views: config.views)
            return try AnnDataFrame.read(file: HDF5File(path: path), element: "obs", rows: rows.map { cells[$0] })
        default:
            var frame = AnnDataFrame(index: rows.map(String.init))
            if let labels = dataset.labels { frame.columns.append(("label", .integers(rows.map { Int64(labels[$0]) }))) }
            return (frame, [])
        }
    }

    /// The variables (`var`: names and columns) of view `k`, `count` features, when it is an AnnData `X` or
    /// layer (or a MuData modality's); otherwise the feature numbers as names.
    public static func variables(config: DataConfig, view k: Int, count: Int) throws -> AnnDataFrame {
        let numbers = AnnDataFrame(index: (0..<count).map(String.init))
        guard k < config.views.count, let path = config.file else { return numbers }
        let element: String
        switch config.source {
        case .anndata: element = config.views[k]
        case .mudata: element = MultiViewDataset.muDataElement(config.views[k]).element
        default: return numbers
        }
        // X and layers share the file's (or the modality's) var; obsm arrays have no variables.
        let parts = element.split(separator: "/").map(String.init)
        let prefix = config.source == .mudata ? parts.prefix(2).joined(separator: "/") + "/" : ""
        let local = config.source == .mudata ? Array(parts.dropFirst(2)) : parts
        guard local == ["X"] || local.first == "layers" else { return numbers }
        let file = try HDF5File(path: path)
        let frame = try AnnDataFrame.read(file: file, element: prefix + "var", rows: Array(0..<count)).frame
        return frame
    }
}
