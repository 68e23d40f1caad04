import MVCore

/// Writes an AnnData file (`.h5ad`) in anndata ≥ 0.8's encoding (`../shared/anndata-on-disk.md`), which
/// anndata, scanpy and MuData open: obs and var dataframes, an optional dense X, dense layers and obsm
/// arrays, and string arrays under uns. Written whole to a temporary name and renamed into place.
public struct AnnDataWriter {
    public var obs: AnnDataFrame
    public var variables: AnnDataFrame
    public var x: Matrix?
    public var layers: [String: Matrix] = [:]
    public var obsm: [String: Matrix] = [:]
    /// uns entries: each a 1-D string array.
    public var uns: [String: [String]] = [:]

    public init(obs: AnnDataFrame, variables: AnnDataFrame, x: Matrix? = nil) {
        self.obs = obs
        self.variables = variables
        self.x = x
    }

    private static let dict = ["encoding-type": "dict", "encoding-version": "0.1.0"]
    private static let array = ["encoding-type": "array", "encoding-version": "0.2.0"]
    private static let stringArray = ["encoding-type": "string-array", "encoding-version": "0.2.0"]

    public func write(to path: String) throws {
        let n = obs.index.count, d = variables.index.count
        for (name, m) in [("X", x)] + layers.map({ ("layers/\($0.key)", $0.value) }) {
            guard let m else { continue }
            precondition(m.rows == n && m.cols == d, "\(name) is \(m.rows)×\(m.cols); obs × var is \(n)×\(d)")
        }
        for (name, m) in obsm { precondition(m.rows == n, "obsm/\(name) has \(m.rows) rows; obs has \(n)") }
        let file = try HDF5Writer(path: path)
        try file.attribute("encoding-type", "anndata", of: "/")
        try file.attribute("encoding-version", "0.1.0", of: "/")
        try write(obs, "obs", file)
        try write(variables, "var", file)
        if let x { try file.floats("X", x, attributes: Self.array) }
        for (group, arrays) in [("layers", layers), ("obsm", obsm)] {
            try file.group(group, attributes: Self.dict)
            for (name, m) in arrays.sorted(by: { $0.key < $1.key }) { try file.floats("\(group)/\(name)", m, attributes: Self.array) }
        }
        for group in ["varm", "obsp", "varp"] { try file.group(group, attributes: Self.dict) }
        try file.group("uns", attributes: Self.dict)
        for (name, values) in uns.sorted(by: { $0.key < $1.key }) { try file.strings("uns/\(name)", values, attributes: Self.stringArray) }
        try file.finish()
    }

    private func write(_ frame: AnnDataFrame, _ element: String, _ file: HDF5Writer) throws {
        try file.group(element, attributes: ["encoding-type": "dataframe", "encoding-version": "0.2.0", "_index": "_index"])
        try file.attribute("column-order", frame.columns.map(\.name), of: element)
        try file.strings("\(element)/_index", frame.index, attributes: Self.stringArray)
        for (name, column) in frame.columns {
            let path = "\(element)/\(name)"
            switch column {
            case .categorical(let codes, let categories):
                try file.group(path, attributes: ["encoding-type": "categorical", "encoding-version": "0.2.0"])
                try file.attribute("ordered", Int64(0), of: path)
                try file.codes("\(path)/codes", codes, attributes: Self.array)
                try file.strings("\(path)/categories", categories, attributes: Self.stringArray)
            case .integers(let values):
                try file.integers(path, values, attributes: Self.array)
            case .floats(let values):
                try file.floats(path, values, attributes: Self.array)
            case .strings(let values):
                try file.strings(path, values, attributes: Self.stringArray)
            }
        }
    }
}
