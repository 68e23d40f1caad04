import MVConfig
import MVData

/// Why a run's loss can be non-finite from its first steps: views whose encoders read values far from the
/// unit scale (raw counts, 0–255 pixels) drive the first layer's outputs, and the log-variances made from
/// them, past what `exp` can hold. Checked only after such a failure, to say which view and what to do.
extension ExperimentData {
    /// Views (name, largest |value| in the training rows) over `limit` whose encoder takes them as they are.
    public func largeInputs(_ network: NetworkConfig, limit: Float = 50) -> [(name: String, largest: Float)] {
        let dataset = train.dataset
        return (0..<dataset.viewCount).compactMap { k -> (String, Float)? in
            guard network.forView(k).input == [.none] else { return nil }
            let largest: Float
            switch dataset.views[k] {
            case .generated: return nil
            case .sparse(let s): largest = s.values.reduce(0) { max($0, abs($1)) }
            default:
                let cols = dataset.views[k].cols, chunk = max(1, 4096 / max(cols, 1) + 1)
                var buffer = [Float](repeating: 0, count: chunk * cols), top: Float = 0, start = 0
                while start < dataset.count {
                    let n = min(chunk, dataset.count - start)
                    buffer.withUnsafeMutableBufferPointer {
                        dataset.gather(view: k, rows: Array(start..<(start + n)), into: $0.baseAddress!)
                    }
                    for v in buffer[0..<(n * cols)] { top = max(top, abs(v)) }
                    start += n
                }
                largest = top
            }
            return largest > limit ? (dataset.names[k], largest) : nil
        }
    }
}

/// A non-finite loss early in a run whose views `large` reach the encoders unscaled.
public struct InputScaleError: Error, CustomStringConvertible {
    public let cause: Error
    public let large: [(name: String, largest: Float)]

    public init(cause: Error, large: [(name: String, largest: Float)]) {
        self.cause = cause
        self.large = large
    }

    public var description: String {
        let views = large.map { "'\($0.name)' (values up to \($0.largest))" }.joined(separator: ", ")
        return
            "\(cause)\nlikely cause: view(s) \(views) reach the encoder unscaled, which overflows its log-variances. For counts set "
            + "model.encoder.input: log1p (one for every view, or one per view, e.g. [log1p, none]); otherwise standardise the view"
    }
}
