import MVCore
import MVModels

/// A small MLP classifier trained with softmax cross-entropy and Adam: the downstream task of JPVAE
/// Table 3 (train on one kind of data, test on another), built from the project's own layers.
public final class Classifier {
    public let arena = ParameterArena()
    public let network: MLP
    public let classes: Int

    public init(inputs: Int, hidden: [Int], classes: Int, seed: UInt64) {
        self.classes = classes
        network = MLP("classifier", sizes: [inputs] + hidden + [classes], activation: .relu, arena: arena)
        arena.materialize(seed: seed)
    }

    /// How a `fit` went: the epochs it ran, the best epoch (whose parameters it kept) and the accuracies there.
    public struct Fit: Codable, Equatable {
        public var epochs: Int
        public var bestEpoch: Int
        public var trainAccuracy: Double
        public var validationAccuracy: Double
        public var validationRows: Int
    }

    /// Trains until the held-out cross-entropy has not improved for `patience` epochs (at most
    /// `maxEpochs`), then restores the best epoch's parameters: a fixed epoch count under-trains on small
    /// data sets and over-fits on others. The held-out rows are a fixed tenth of `x` (at least one row;
    /// none when `x` has fewer than 10 rows: then all `maxEpochs` run) and are not trained on.
    @discardableResult
    public func fit(
        _ x: Matrix, labels: [Int32], maxEpochs: Int, patience: Int, batchSize: Int = 128,
        learningRate: Float = 1e-3, seed: UInt64
    ) -> Fit {
        precondition(x.rows == labels.count)
        let order = epochPermutation(count: x.rows, seed: seed, epoch: 1 << 20)
        let held = x.rows >= 10 ? Swift.max(1, x.rows / 10) : 0
        let validation = Array(order.prefix(held)), training = Array(order.dropFirst(held))
        let adam = Adam(count: arena.count, learningRate: learningRate)
        let tape = Tape()
        var best = (loss: Double.infinity, epoch: 0, values: [Float]())
        var epoch = 0
        while epoch < maxEpochs {
            let shuffled = epochPermutation(count: training.count, seed: seed, epoch: epoch).map { training[$0] }
            var start = 0
            while start < shuffled.count {
                let rows = Array(shuffled[start..<Swift.min(shuffled.count, start + batchSize)])
                start += batchSize
                tape.reset()
                arena.zeroGradients()
                tape.backward(crossEntropy(x, labels: labels, rows: rows, tape: tape))
                adam.update(arena)
            }
            epoch += 1
            guard held > 0 else { continue }
            tape.reset()
            let loss = Double(tape.value(crossEntropy(x, labels: labels, rows: validation, tape: tape))[0, 0])
            if loss < best.loss {
                best = (loss, epoch, Array(UnsafeBufferPointer(start: arena.values, count: arena.count)))
            } else if epoch - best.epoch >= patience {
                break
            }
        }
        if held > 0, !best.values.isEmpty {
            best.values.withUnsafeBufferPointer { arena.values.update(from: $0.baseAddress!, count: arena.count) }
        }
        func subset(_ rows: [Int]) -> (Matrix, [Int32]) {
            (
                Matrix(rows: rows.count, cols: x.cols, rows.flatMap { Array(x.storage[($0 * x.cols)..<(($0 + 1) * x.cols)]) }),
                rows.map { labels[$0] }
            )
        }
        let (tx, ty) = subset(training), (vx, vy) = subset(validation)
        return Fit(
            epochs: epoch, bestEpoch: held > 0 ? best.epoch : epoch, trainAccuracy: accuracy(tx, labels: ty),
            validationAccuracy: held > 0 ? accuracy(vx, labels: vy) : .nan, validationRows: held)
    }

    /// Mean softmax cross-entropy of `rows`: log Σ_c e^{l_c} − l_label.
    func crossEntropy(_ x: Matrix, labels: [Int32], rows: [Int], tape: Tape) -> Var {
        let input = tape.input(rows: rows.count, cols: x.cols) { p in
            x.storage.withUnsafeBufferPointer { src in
                for (i, r) in rows.enumerated() { (p + i * x.cols).update(from: src.baseAddress! + r * x.cols, count: x.cols) }
            }
        }
        let onehot = tape.input(rows: rows.count, cols: classes) { p in
            p.update(repeating: 0, count: rows.count * classes)
            for (i, r) in rows.enumerated() { p[i * classes + Int(labels[r])] = 1 }
        }
        let logits = network(input, tape: tape, arena: arena)
        return tape.scale(tape.sub(tape.sum(tape.logsumexp(logits)), tape.sum(tape.mul(logits, onehot))), 1 / Float(rows.count))
    }

    /// Share of rows whose arg-max prediction equals the label.
    public func accuracy(_ x: Matrix, labels: [Int32]) -> Double {
        precondition(x.rows == labels.count)
        guard x.rows > 0 else { return 0 }
        return Double(zip(predict(x), labels).filter { $0 == $1 }.count) / Double(x.rows)
    }

    /// The arg-max class of each row.
    public func predict(_ x: Matrix) -> [Int32] {
        let tape = Tape()
        var out: [Int32] = [], start = 0
        out.reserveCapacity(x.rows)
        while start < x.rows {
            let r = start..<Swift.min(x.rows, start + 1000)
            tape.reset()
            let logits = tape.value(network(tape.constant(x.rows(r)), tape: tape, arena: arena))
            for i in 0..<r.count {
                let row = logits.row(i)
                out.append(Int32(row.indices.max(by: { row[$0] < row[$1] })!))
            }
            start = r.upperBound
        }
        return out
    }
}
