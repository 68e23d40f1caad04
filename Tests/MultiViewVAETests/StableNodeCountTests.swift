import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVModels

/// The tape keeps one buffer per node position: a loop that records a varying number of nodes (the
/// components a batch lacks vary) is one `withStableNodeCount` region, so the nodes after it keep their
/// positions and a step allocates nothing once every region has held its largest graph.
final class StableNodeCountTests: XCTestCase {
    func testRegionsPadToTheirLargestAndKeepLaterNodesInPlace() {
        let tape = Tape()
        var counts: [Int] = []
        var bytes: [Int] = []
        // Inner loops of 3, 1, 2, 0 terms inside an outer loop of as many; then a node of a fixed size.
        for (outer, inner) in [(3, 3), (1, 1), (2, 2), (0, 0), (3, 1)] {
            tape.reset()
            let x = tape.input(rows: 4, cols: 5) { $0.update(repeating: 1, count: 20) }
            tape.withStableNodeCount {
                for _ in 0..<outer {
                    tape.withStableNodeCount { for _ in 0..<inner { _ = tape.exp(x) } }
                    _ = tape.scale(x, 2)
                }
            }
            tape.withStableNodeCount { for _ in 0..<inner { _ = tape.square(x) } }
            let last = tape.input(rows: 30, cols: 30) { $0.update(repeating: 0, count: 900) }
            counts.append(last.id)
            bytes.append(tape.allocatedBytes)
        }
        // The first step held the largest loops: every later step's last node stands where the first's did.
        XCTAssertEqual(Set(counts).count, 1, "\(counts)")
        XCTAssertEqual(Set(bytes).count, 1, "a smaller graph must not allocate: \(bytes)")
    }

    func testWithoutRegionsLaterNodesWouldMove() {
        // The property above is the regions' doing: the same loops unwrapped move the last node.
        let tape = Tape()
        var counts: [Int] = []
        for inner in [3, 1] {
            tape.reset()
            let x = tape.input(rows: 4, cols: 5) { $0.update(repeating: 1, count: 20) }
            for _ in 0..<inner { _ = tape.exp(x) }
            counts.append(tape.input(rows: 30, cols: 30) { $0.update(repeating: 0, count: 900) }.id)
        }
        XCTAssertNotEqual(counts[0], counts[1])
    }

    func testRewindEntersTheSameRegionsAgain() {
        let tape = Tape()
        let x = tape.input(rows: 2, cols: 2) { $0.update(repeating: 1, count: 4) }
        let mark = tape.count
        var ids: [Int] = []
        for inner in [2, 1, 0] {
            tape.rewind(to: mark)
            tape.withStableNodeCount { for _ in 0..<inner { _ = tape.exp(x) } }
            ids.append(tape.exp(x).id)
        }
        XCTAssertEqual(ids, [ids[0], ids[0], ids[0]])
    }

    /// A mixture model over batches that lack different components: the tape's node count and its
    /// buffers are the same at every step after the first few.
    func testMixtureTrainingStepsKeepTheirNodeCount() throws {
        let dims = [4, 3, 2]
        for (aggregator, sampling) in [("mopoe", "everyComponent"), ("mopoe", "onePerRow"), ("moe", "everyComponent")] {
            let config = try ExperimentConfig.parse(
                yaml: """
                    seed: 2
                    data: {source: npy, views: [a.npy, b.npy, c.npy]}
                    model: {type: aggregated, aggregator: \(aggregator), bound: masked, mixtureSampling: \(sampling), latent: 2,
                            encoderHidden: [], featureSize: 4, decoderHidden: [], likelihood: gaussian}
                    training: {epochs: 1, batchSize: 4}
                    """)
            let model = AggregatedVAE(config: config.model, dimensions: dims, seed: 2)
            let batch = Batch(dimensions: dims, capacity: 4, hasMask: true)
            let tape = Tape()
            var counts: [Int] = [], bytes: [Int] = []
            for step in 0..<40 {
                // Masks drawn per step: which subsets (components) appear in some row varies.
                var rng = RandomStream(seed: 5, stream: UInt64(step), block: 0)
                for r in 0..<4 {
                    batch.indices[r] = step * 4 + r
                    var any = false
                    for s in 0..<3 {
                        let seen: Float = rng.nextUniform() < 0.5 ? 1 : 0
                        batch.mask![r * 3 + s] = seen
                        any = any || seen == 1
                    }
                    if !any { batch.mask![r * 3] = 1 }
                }
                for s in 0..<3 { for i in 0..<4 * dims[s] { batch.views[s][i] = rng.nextUniform() } }
                batch.setRows(4, epoch: 0)
                tape.reset()
                let loss = try model.loss(batch, tape: tape, beta: 1, seed: 3)
                XCTAssertTrue(tape.item(loss.total).isFinite)
                counts.append(tape.count)
                bytes.append(tape.allocatedBytes)
            }
            let settled = counts.dropFirst(20)
            XCTAssertEqual(Set(settled).count, 1, "\(aggregator) \(sampling): node counts \(counts)")
            XCTAssertEqual(Set(bytes.dropFirst(20)).count, 1, "\(aggregator) \(sampling): tape bytes \(bytes)")
        }
    }
}
