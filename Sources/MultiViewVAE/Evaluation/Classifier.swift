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

    /// Mini-batch Adam over shuffled rows for `epochs` epochs.
    public func train(_ x: Matrix, labels: [Int32], epochs: Int, batchSize: Int = 128, learningRate: Float = 1e-3, seed: UInt64) {
        precondition(x.rows == labels.count)
        let adam = Adam(count: arena.count, learningRate: learningRate)
        let tape = Tape()
        for epoch in 0..<epochs {
            let order = epochPermutation(count: x.rows, seed: seed, epoch: epoch)
            var start = 0
            while start < x.rows {
                let rows = Array(order[start..<Swift.min(x.rows, start + batchSize)])
                start += batchSize
                tape.reset()
                arena.zeroGradients()
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
                // Cross-entropy: log Σ_c e^{l_c} − l_label, averaged over the batch.
                let loss = tape.scale(tape.sub(tape.sum(tape.logsumexp(logits)), tape.sum(tape.mul(logits, onehot))), 1 / Float(rows.count))
                tape.backward(loss)
                adam.update(arena)
            }
        }
    }

    /// Share of rows whose arg-max prediction equals the label.
    public func accuracy(_ x: Matrix, labels: [Int32]) -> Double {
        precondition(x.rows == labels.count)
        guard x.rows > 0 else { return 0 }
        let tape = Tape()
        var correct = 0, start = 0
        while start < x.rows {
            let r = start..<Swift.min(x.rows, start + 1000)
            tape.reset()
            let logits = tape.value(network(tape.constant(x.rows(r)), tape: tape, arena: arena))
            for i in 0..<r.count {
                let row = logits.row(i)
                if row.indices.max(by: { row[$0] < row[$1] }) == Int(labels[r.lowerBound + i]) { correct += 1 }
            }
            start = r.upperBound
        }
        return Double(correct) / Double(x.rows)
    }
}
