import CKernels
import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// The single-stage models keep their trajectories bit for bit across changes to the trainer: 20 steps
/// of small JPVAE and aggregated runs end with the parameters and Adam moments recorded from the code
/// before the trainer learnt stages (commit 2614633), stored under Tests/fixtures/trajectories/.
///
/// Bits depend on the BLAS kernels and the CPU path of the C kernels: where those differ from the
/// recording's (named in the fixture's metadata), the comparison falls back to a relative tolerance.
/// `MVVAE_RECORD_TRAJECTORIES=1 swift test --filter RecordedTrajectoryTests` rewrites the fixtures.
final class RecordedTrajectoryTests: XCTestCase {
    static let cases: [(name: String, yaml: String)] = [
        (
            "jpvae-bounded",
            """
            name: fixture-jpvae
            seed: 21
            data: {source: fashion-mnist, imageViews: top-bottom, validationSize: 100, trainLimit: 200, testLimit: 50}
            model: {type: jpvae, latent: [3, 4], encoderHidden: [8], decoderHidden: [8], prior: {cross: bounded}}
            training: {epochs: 2, batchSize: 20, learningRate: 0.003, validate: false, logEvery: 1000}
            """
        ),
        (
            "jpvae-orthogonal-missing",
            """
            name: fixture-jpvae-missing
            seed: 22
            data: {source: fashion-mnist, imageViews: left-right, validationSize: 100, trainLimit: 200, testLimit: 50, missingRate: 0.3}
            model: {type: jpvae, latent: 4, encoderHidden: [8], decoderHidden: [8], prior: {cross: scaledOrthogonal, learnAlpha: true}}
            training: {epochs: 2, batchSize: 20, learningRate: 0.003, validate: false, logEvery: 1000, annealing: {cycles: 1}}
            """
        ),
        (
            "aggregated-moe-masked",
            """
            name: fixture-moe
            seed: 23
            data: {source: linear-gaussian, modalities: 3, latentDimension: 2, dimensions: [6, 5, 4], samples: 300, missingRate: 0.2}
            model: {type: aggregated, aggregator: moe, bound: masked, mixtureSampling: everyComponent, latent: 2, encoderHidden: [16],
                    featureSize: 8, decoderHidden: [], likelihood: gaussian}
            training: {epochs: 2, batchSize: 24, learningRate: 0.003, validate: false, logEvery: 1000}
            """
        ),
        (
            "aggregated-selfattention-mixture",
            """
            name: fixture-attention
            seed: 24
            data: {source: linear-gaussian, modalities: 3, latentDimension: 2, dimensions: [6, 5, 4], samples: 300}
            model: {type: aggregated, aggregator: selfAttention, bound: mixture, mixtureComponents: 2, privateLatent: 1, latent: 2,
                    encoderHidden: [8], featureSize: 8, poolingSize: 8, attentionHeads: 2, attentionBlocks: 1, aggregatorHidden: [8],
                    decoderHidden: [8], likelihood: gaussian}
            training: {epochs: 2, batchSize: 24, learningRate: 0.002, warmupSteps: 5, validate: false, logEvery: 1000}
            """
        ),
    ]
    static let steps = 20

    static var fixtureFolder: String {
        ((#filePath as NSString).deletingLastPathComponent as NSString).appendingPathComponent("../fixtures/trajectories")
    }

    /// Where the bits come from: the C kernels' path and OpenBLAS's kernel family.
    static var environment: String { "lanes=\(mvvae_kernel_lanes()) blas=\(BLASKernel.coreName)" }

    /// Trains `yaml` for `steps` steps on one rank; returns the arena's tensors and Adam's.
    func train(_ yaml: String) throws -> (tensors: [(name: String, shape: [Int], values: [Float])], adamStep: Int) {
        let config = try ExperimentConfig.parse(yaml: yaml)
        let data = try ExperimentData(config: config.data, seed: config.seed)
        let model: MultiViewModel =
            config.model.type == .jpvae
            ? JPVAE(config: config.model, dimensions: data.dimensions, seed: config.seed)
            : AggregatedVAE(config: config.model, dimensions: data.dimensions, seed: config.seed)
        let trainer = try Trainer(config: config, model: model, train: data.train, validation: nil, comm: LocalCommunicator())
        let outcome = try trainer.run(shouldStop: { trainer.state.step + 1 >= Self.steps })
        XCTAssertEqual(outcome, .stopped(step: Self.steps))
        let arena = model.arena, adam = trainer.optimizer
        var out: [(String, [Int], [Float])] = []
        for (prefix, base) in [("", arena.values), ("adam.m.", adam.m), ("adam.v.", adam.v)] {
            for v in arena.views {
                out.append((prefix + v.name, [v.rows, v.cols], Array(UnsafeBufferPointer(start: base + v.offset, count: v.count))))
            }
        }
        return (out, adam.step)
    }

    func testTwentyStepsEqualTheRecordedTrajectories() throws {
        let record = ProcessInfo.processInfo.environment["MVVAE_RECORD_TRAJECTORIES"] == "1"
        for c in Self.cases {
            let (tensors, adamStep) = try train(c.yaml)
            let path = (Self.fixtureFolder as NSString).appendingPathComponent("\(c.name).safetensors")
            if record {
                try FileManager.default.createDirectory(atPath: Self.fixtureFolder, withIntermediateDirectories: true)
                var writer = SafeTensorsWriter()
                for t in tensors { writer.add(name: t.name, shape: t.shape, values: t.values) }
                _ = try writer.write(
                    to: path, metadata: ["environment": Self.environment, "adamStep": "\(adamStep)", "steps": "\(Self.steps)"])
                continue
            }
            let recorded = try SafeTensorsFile(path: path)
            // Recorded before every family named its views alike: parameters are read under their former names.
            let family = ModelRegistry.entry(try ExperimentConfig.parse(yaml: c.yaml).model.type)
            func stored(_ name: String) -> String {
                Checkpoint.storedName(name, has: { recorded.shape($0) != nil }, formerName: family.formerName)
            }
            XCTAssertEqual(recorded.metadata["adamStep"], "\(adamStep)", "\(c.name): Adam's step count")
            XCTAssertEqual(Set(recorded.names), Set(tensors.map { stored($0.name) }), "\(c.name): the same parameters")
            let exact = recorded.metadata["environment"] == Self.environment
            var differing = 0, worst = 0.0
            for t in tensors {
                let r = try recorded.tensor(stored(t.name), expectedShape: t.shape).values
                for (a, b) in zip(t.values, r) where a.bitPattern != b.bitPattern {
                    differing += 1
                    worst = max(worst, Double(abs(a - b)) / max(Double(abs(b)), 1e-3))
                }
            }
            if exact {
                XCTAssertEqual(
                    differing, 0, "\(c.name): \(differing) coordinates differ from the recorded trajectory (worst relative \(worst))")
            } else {
                XCTAssertLessThan(
                    worst, 1e-3, "\(c.name): recorded under \(recorded.metadata["environment"] ?? "?"), here \(Self.environment)")
            }
        }
    }
}
