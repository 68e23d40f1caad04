import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

final class AggregatedTrainingTests: XCTestCase {
    /// Three modalities x_s = z W_s + noise from a 2-d latent, some modalities missing per row.
    func dataset(rows n: Int, missing: Double) throws -> MultiViewDataset {
        let z = Matrix.randomNormal(rows: n, cols: 2, seed: 1)
        let views = [5, 4, 3].enumerated().map { s, d in
            z * Matrix.randomNormal(rows: 2, cols: d, seed: 10 + UInt64(s))
                + Matrix.randomNormal(rows: n, cols: d, seed: 20 + UInt64(s), scale: 0.3)
        }
        var rng = RandomStream(seed: 5)
        var mask = [UInt8](repeating: 1, count: n * 3)
        for r in 0..<n where Double(rng.nextUniform()) < missing { mask[r * 3 + rng.nextInt(below: 3)] = 0 }
        return try MultiViewDataset(views: views.map { ViewSource.matrix($0) }, mask: try ViewMask(rows: n, views: 3, values: mask))
    }

    func testEveryAggregatorAndBoundTrains() throws {
        let data = try dataset(rows: 400, missing: 0.2)
        let train = DataSubset.all(data)
        // (aggregator, mixture components, private latent size)
        let variants = AggregatedConfig.AggregatorKind.allCases.map { ($0, 1, 0) } + [(.sumPooling, 3, 0), (.poe, 1, 2), (.moe, 1, 2)]
        for (aggregator, components, privateLatent) in variants {
            for bound in AggregatedVAE.Bound.allCases {
                let config = try ExperimentConfig.parse(
                    yaml: """
                        seed: 2
                        data: {source: npy, views: [a.npy, b.npy, c.npy]}
                        model: {type: aggregated, aggregator: \(aggregator.rawValue), bound: \(bound.rawValue), latent: 2,
                                encoderHidden: [16], featureSize: 8, poolingSize: 8, aggregatorHidden: [8], decoderHidden: [16],
                                mixtureComponents: \(components), privateLatent: \(privateLatent),
                                likelihood: gaussian}
                        training: {epochs: 4, batchSize: 40, learningRate: 0.01, validate: false}
                        """)
                let model = AggregatedVAE(config: config.model, dimensions: data.dimensions, seed: 2)
                let trainer = try Trainer(config: config, model: model, train: train, validation: nil, comm: LocalCommunicator())
                var losses: [Double] = []
                trainer.observer = { if case let .epochFinished(s) = $0 { losses.append(s.trainLoss) } }
                XCTAssertEqual(try trainer.run(), .completed)
                XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(aggregator)×\(components)+\(privateLatent) \(bound)")
                XCTAssertLessThan(losses.last!, losses.first! - 1, "\(aggregator)×\(components)+\(privateLatent) \(bound): \(losses)")
            }
        }
    }

    /// Private latents are permutation-equivariant: q(z̃_s | x_s) reads modality s's features only.
    func testPrivatePosteriorsReadOnlyTheirOwnModality() throws {
        let config = try ExperimentConfig.parse(
            yaml: """
                data: {source: npy, views: [a.npy, b.npy, c.npy]}
                model: {type: aggregated, aggregator: poe, latent: 2, privateLatent: 3, encoderHidden: [6], featureSize: 5,
                        decoderHidden: []}
                """)
        let model = AggregatedVAE(config: config.model, dimensions: [4, 3, 2], seed: 1)
        var x = [4, 3, 2].enumerated().map { s, d in uniform(5, d, seed: 30 + UInt64(s)) }
        func privates() -> [Matrix] {
            let tape = Tape()
            let h = model.features(x.map { tape.constant($0) }, tape: tape)
            return model.privateLatents!.posteriors(h, tape: tape, arena: model.arena).map { tape.concatColumns($0.mean, $0.logVar) }.map {
                tape.value($0)
            }
        }
        let before = privates()
        x[1] = uniform(5, 3, seed: 99)
        let after = privates()
        XCTAssertEqual(before[0], after[0])
        XCTAssertEqual(before[2], after[2])
        XCTAssertGreaterThan(before[1].maxAbsDifference(after[1]), 1e-3)
        XCTAssertEqual(model.decoders[0].mlp.layers[0].inputs, 2 + 3, "decoder s reads [z, z̃_s]")
    }
}
