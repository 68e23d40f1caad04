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
}
