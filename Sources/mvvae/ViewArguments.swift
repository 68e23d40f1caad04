import ArgumentParser
import MultiViewVAE

/// What `encode` and `impute` share about the views a user names and hands over.
enum ViewArguments {
    /// "1" or "1,3" → [1, 3]; nil unless every part is a whole number ≥ 1.
    static func parse(_ text: String) -> [Int]? {
        let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        return parts.contains(where: { $0 == nil || $0! < 1 }) ? nil : parts.map { $0! }
    }

    /// A view's rows from a .npy, refused (naming the file, row and column) if a value is not finite:
    /// a NaN would otherwise flow through the encoders into every output without a word.
    static func readFinite(_ path: String) throws -> Matrix {
        let x = try NPYFile(path: path).matrix()
        if let i = x.storage.firstIndex(where: { !$0.isFinite }) {
            throw ValidationError(
                "\(path): row \(i / max(x.cols, 1)), column \(i % max(x.cols, 1)) is \(x.storage[i]), not a finite number")
        }
        return x
    }

    /// Refuses rows of `rows` whose `views` (0-based) are missing (data.mask, data.missingRate, a MuData
    /// modality a cell lacks): their values are placeholders, not data.
    static func requireObserved(_ rows: DataSubset, views: [Int], names: [String], what: String) throws {
        guard let mask = rows.dataset.mask else { return }
        for k in views {
            let missing = rows.indices.filter { !mask.isObserved(row: $0, view: k) }.count
            if missing > 0 {
                throw ValidationError(
                    "view \(k + 1) ('\(names[k])') is missing in \(missing) of the \(rows.count) rows (\(what)); give only views every "
                        + "row has (--given), or those rows' views with --input")
            }
        }
    }
}
