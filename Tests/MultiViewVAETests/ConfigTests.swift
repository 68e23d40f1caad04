import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

final class ConfigTests: XCTestCase {
    let minimal = "model: {type: jpvae}\n"

    func testDefaultsFollowTheReferenceRecipe() throws {
        let c = try ExperimentConfig.parse(yaml: minimal)
        XCTAssertEqual(c.model.latent, [20])
        XCTAssertEqual(c.model.encoderHidden, [512, 512])
        XCTAssertEqual(c.model.jpvae.prior.cross, .scaledOrthogonal)
        XCTAssertEqual(c.model.jpvae.prior.alpha, 0.9)
        XCTAssertEqual(c.training.batchSize, 32)
        XCTAssertEqual(c.training.epochs, 30)
        XCTAssertEqual(c.training.learningRate, 1e-3)
        XCTAssertEqual(c.data.source, .fashionMNIST)
    }

    func testShippedConfigsParse() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../configs").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }
        XCTAssertGreaterThanOrEqual(files.count, 3)
        for f in files { XCTAssertNoThrow(try ExperimentConfig.load(path: dir.appendingPathComponent(f).path), f) }
    }

    func testUnknownKeyIsAnErrorNamingIt() {
        XCTAssertThrowsError(try ExperimentConfig.parse(yaml: "model: {type: jpvae, latnet: 4}\n")) { error in
            guard case let ConfigError.unknownKey(key, allowed) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(key, "model.latnet")
            XCTAssertTrue(allowed.contains("latent"))
        }
        XCTAssertThrowsError(try ExperimentConfig.parse(yaml: minimal + "training: {annealing: {cycle: 4}}\n")) { error in
            XCTAssertEqual(error as? ConfigError, .unknownKey(key: "training.annealing.cycle", allowed: ["cycles", "ratio"]))
        }
        XCTAssertThrowsError(try ExperimentConfig.parse(yaml: minimal + "trainig: {}\n")) { error in
            guard case let ConfigError.unknownKey(key, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(key, "trainig")
        }
    }

    func testBadValuesAreNamed() {
        func expectInvalid(_ yaml: String, _ key: String, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try ExperimentConfig.parse(yaml: yaml), file: file, line: line) { error in
                guard case let ConfigError.invalidValue(k, _) = error else { return XCTFail("\(error)", file: file, line: line) }
                XCTAssertEqual(k, key, file: file, line: line)
            }
        }
        expectInvalid("model: {type: jpvae, prior: {alpha: 1.0}}", "model.prior.alpha")
        expectInvalid(minimal + "training: {batchSize: 0}", "training.batchSize")
        expectInvalid(minimal + "training: {epochs: many}", "training.epochs")
        expectInvalid("model: {type: jpvae, latent: [4, 0]}", "model.latent")
        expectInvalid("model: {type: jpvae, likelihood: binomial}", "model.likelihood")
        expectInvalid("model: {type: jpvae, latent: [2, 3, 4]}", "model.latent")
        expectInvalid(minimal + "data: {source: npy, views: [a.npy]}", "data.views")
        expectInvalid("model: {type: aggregated, privateLatent: -1}", "model.privateLatent")
        expectInvalid(minimal + "training: {warmupSteps: -1}", "training.warmupSteps")
        expectInvalid("model: {type: jpvae, privateLatent: 2}", "model.privateLatent")
        expectInvalid("model: {type: aggregated, aggregator: sumPooling, mixtureComponents: 0}", "model.mixtureComponents")
        expectInvalid("model: {type: aggregated, aggregator: moe, mixtureComponents: 3}", "model.mixtureComponents")
        expectInvalid("model: {type: aggregated, aggregator: attention}", "model.aggregator")
        // A name outside a fixed set says which names there are.
        XCTAssertThrowsError(try ExperimentConfig.parse(yaml: "model: {type: covae, pretraining: foo}")) {
            XCTAssertEqual(
                $0 as? ConfigError, .invalidValue(key: "model.pretraining", message: "'foo' is not one of: cca, distanceCorrelation"))
        }
        XCTAssertThrowsError(try ExperimentConfig.parse(yaml: minimal + "data: {source: hdf5}")) {
            XCTAssertEqual(
                $0 as? ConfigError,
                .invalidValue(
                    key: "data.source",
                    message: "'hdf5' is not one of: fashion-mnist, npy, linear-gaussian, correlated, polyfashion, anndata, mudata"))
        }
        XCTAssertThrowsError(try ExperimentConfig.parse(yaml: "seed: 1\n")) {
            XCTAssertEqual($0 as? ConfigError, .missingKey(key: "model"))
        }
        XCTAssertThrowsError(try ExperimentConfig.parse(yaml: "model: {latent: 3}")) {
            XCTAssertEqual($0 as? ConfigError, .missingKey(key: "model.type"))
        }
    }

    func testSyntaxErrorsAndMissingFiles() {
        XCTAssertThrowsError(try ExperimentConfig.parse(yaml: "model: {type: jpvae\n", source: "x.yaml")) { error in
            guard case let ConfigError.syntax(path, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "x.yaml")
        }
        XCTAssertThrowsError(try ExperimentConfig.parse(yaml: "- a\n- b\n")) { XCTAssertTrue("\($0)".contains("mapping")) }
        // Found by fuzzing: Yams traps on a list or a mapping used as a key; refused with its line.
        for (yaml, kind) in [("name: a\nmodel: {type: jpvae, latent: 54 ,[]}\n", "list"), ("? {a: 1}\n: 2\n", "mapping")] {
            XCTAssertThrowsError(try ExperimentConfig.parse(yaml: yaml)) {
                XCTAssertTrue("\($0)".contains("is a \(kind), not a name"), "\($0)")
            }
        }
        // The same inside a --set value (found by fuzzing too).
        XCTAssertThrowsError(try ExperimentConfig.parse(yaml: "model: {type: jpvae}", overrides: ["model.latent=[2,3]: x"])) {
            guard case let ConfigError.badOverride(text, reason) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(text, "model.latent=[2,3]: x")
            XCTAssertTrue(reason.contains("is a list, not a name"), reason)
        }
        XCTAssertThrowsError(try ExperimentConfig.load(path: "/nonexistent/c.yaml")) {
            XCTAssertEqual($0 as? ConfigError, .fileUnreadable(path: "/nonexistent/c.yaml", reason: "no such file"))
        }
    }

    func testOverridesSetNestedValuesWithTypes() throws {
        let c = try ExperimentConfig.parse(
            yaml: minimal,
            overrides: [
                "training.epochs=5", "model.latent=[4, 6]", "model.prior.cross=bounded", "data.binarize=0.5", "seed=7",
            ])
        XCTAssertEqual(c.training.epochs, 5)
        XCTAssertEqual(c.model.latent, [4, 6])
        XCTAssertEqual(c.model.jpvae.prior.cross, .bounded)
        XCTAssertEqual(c.data.binarize, 0.5)
        XCTAssertEqual(c.seed, 7)
        let back = try ExperimentConfig.parse(yaml: minimal + "data: {binarize: 0.3}\n", overrides: ["data.binarize=null"])
        XCTAssertNil(back.data.binarize, "key=null restores the default")
        XCTAssertThrowsError(try ExperimentConfig.parse(yaml: minimal, overrides: ["training.epochs"])) {
            guard case ConfigError.badOverride = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try ExperimentConfig.parse(yaml: minimal, overrides: ["training.epoch=3"])) {
            guard case let ConfigError.unknownKey(key, _) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(key, "training.epoch")
        }
        XCTAssertThrowsError(try ExperimentConfig.parse(yaml: minimal + "seed: 2\n", overrides: ["seed.x=3"])) {
            guard case ConfigError.badOverride = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try ExperimentConfig.parse(yaml: minimal, overrides: ["seed.x=3"])) {
            XCTAssertEqual($0 as? ConfigError, .invalidValue(key: "seed", message: "expected a single value"))
        }
    }

    func testResolvedYAMLRoundTrips() throws {
        let c = try ExperimentConfig.parse(yaml: minimal, overrides: ["model.prior.cross=zero", "training.annealing.cycles=4"])
        let again = try ExperimentConfig.parse(yaml: try c.yaml())
        XCTAssertEqual(c, again)
        XCTAssertEqual(try c.fingerprint(), try again.fingerprint())
    }

    func testCyclicalAnnealingSchedule() throws {
        let a = try ExperimentConfig.parse(yaml: minimal + "training: {annealing: {cycles: 2, ratio: 0.5}}").training.annealing
        // 100 steps, 2 cycles of 50: β rises over the first 25 steps of each, then stays at the top.
        XCTAssertEqual(a.beta(step: 0, totalSteps: 100, top: 1), 0)
        XCTAssertEqual(a.beta(step: 10, totalSteps: 100, top: 1), 0.4, accuracy: 1e-6)
        XCTAssertEqual(a.beta(step: 30, totalSteps: 100, top: 1), 1)
        XCTAssertEqual(a.beta(step: 50, totalSteps: 100, top: 2), 0)
        XCTAssertEqual(a.beta(step: 60, totalSteps: 100, top: 2), 0.8, accuracy: 1e-6)
        let constant = try ExperimentConfig.parse(yaml: minimal).training.annealing
        XCTAssertEqual(constant.beta(step: 3, totalSteps: 100, top: 0.7), 0.7)
    }

    func testWarmupRampsTheLearningRateLinearly() throws {
        let arena = ParameterArena()
        arena.register("w", rows: 1, cols: 1, initializer: .zeros)
        arena.materialize(seed: 0)
        func stage(_ training: String) throws -> TrainingStage {
            let t = try ExperimentConfig.parse(yaml: minimal + training).training
            return try TrainingStage.resolve([StageDefinition(name: "train")], arena: arena, training: t)[0]
        }
        let t = try stage("training: {learningRate: 0.01, warmupSteps: 4}")
        XCTAssertEqual((0..<6).map { t.learningRate(step: $0) }, [0.0025, 0.005, 0.0075, 0.01, 0.01, 0.01])
        XCTAssertEqual(try stage("training: {learningRate: 0.01}").learningRate(step: 0), 0.01)
        // A stage's own rate replaces training.learningRate; the warm-up counts the stage's own steps.
        let own = try stage("training: {learningRate: 0.01, warmupSteps: 2, stages: {train: {learningRate: 0.1, epochs: 7}}}")
        XCTAssertEqual([own.learningRate(step: 0), own.learningRate(step: 1)], [0.05, 0.1])
        XCTAssertEqual(own.epochs, 7)
    }

    func testStageSettingsNameOnlyTheModelsStages() throws {
        let arena = ParameterArena()
        arena.register("w", rows: 1, cols: 1, initializer: .zeros)
        arena.materialize(seed: 0)
        let t = try ExperimentConfig.parse(yaml: minimal + "training: {stages: {pretrain: {epochs: 3}}}").training
        XCTAssertThrowsError(try TrainingStage.resolve([StageDefinition(name: "train")], arena: arena, training: t)) {
            XCTAssertTrue("\($0)".contains("training.stages.pretrain"), "\($0)")
            XCTAssertTrue("\($0)".contains("there is no stage 'pretrain'"), "\($0)")
        }
        for (bad, message) in [("{epochs: 0}", "must be ≥ 1"), ("{learningRate: -1}", "finite number > 0"), ("{epoch: 2}", "epoch")] {
            XCTAssertThrowsError(try ExperimentConfig.parse(yaml: minimal + "training: {stages: {train: \(bad)}}"), bad) {
                XCTAssertTrue("\($0)".contains(message), "\(bad): \($0)")
            }
        }
    }

    func testEachModelTypeReadsItsOwnSection() throws {
        // Another type's key set to a non-default value would be ignored: an error naming it.
        XCTAssertThrowsError(try ExperimentConfig.parse(yaml: "model: {type: jpvae, aggregator: moe}")) {
            XCTAssertTrue("\($0)".contains("model.aggregator"), "\($0)")
            XCTAssertTrue("\($0)".contains("apply to model.type aggregated only; this model is jpvae"), "\($0)")
        }
        XCTAssertThrowsError(try ExperimentConfig.parse(yaml: "model: {type: aggregated, latent: 4, prior: {cross: zero}}")) {
            XCTAssertTrue("\($0)".contains("apply to model.type jpvae only"), "\($0)")
        }
        // At its default it is accepted (configs saved before the sections existed hold every key).
        let jp = try ExperimentConfig.parse(yaml: "model: {type: jpvae, aggregator: poe, bound: masked, featureSize: 256}")
        // Only the model's own section is written back, and it reads back the same.
        let yaml = try jp.yaml()
        XCTAssertFalse(yaml.contains("aggregator"), yaml)
        XCTAssertTrue(yaml.contains("prior"), yaml)
        XCTAssertEqual(try ExperimentConfig.parse(yaml: yaml), jp)
        let agg = try ExperimentConfig.parse(yaml: "model: {type: aggregated, latent: 4, aggregator: moe, bound: mixture}")
        XCTAssertFalse(try agg.yaml().contains("prior"))
        XCTAssertEqual(try ExperimentConfig.parse(yaml: try agg.yaml()), agg)
        XCTAssertEqual(agg.model.aggregated.aggregator, .moe)
        // One component per row by default for MoE and MoPoE (it reached a given likelihood sooner),
        // every component for the learnt mixture heads; a saved config keeps what it resolved to.
        func sampling(_ model: String) throws -> AggregatedVAE.MixtureSampling {
            try ExperimentConfig.parse(yaml: "model: {type: aggregated, latent: 4, \(model)}").model.aggregated.mixtureSampling
        }
        XCTAssertEqual(try sampling("aggregator: moe"), .onePerRow)
        XCTAssertEqual(try sampling("aggregator: mopoe, bound: elbo"), .onePerRow)
        XCTAssertEqual(try sampling("aggregator: sumPooling, bound: mixture, mixtureComponents: 3"), .everyComponent)
        XCTAssertEqual(try sampling("aggregator: mopoe, mixtureSampling: everyComponent"), .everyComponent)
        let saved = try agg.yaml()
        XCTAssertTrue(saved.contains("mixtureSampling: onePerRow"), saved)
        // Saved before the sections existed: every type's keys at their defaults, JPVAE's prior included.
        let older = try ExperimentConfig.parse(
            yaml: """
                model: {type: aggregated, latent: 4, aggregator: moe, prior: {cross: scaledOrthogonal, alpha: 0.9, learnAlpha: false,
                        negativeSigns: 0}}
                """)
        XCTAssertEqual(older.model.aggregated.aggregator, .moe)
        XCTAssertNoThrow(try ExperimentConfig.parse(yaml: "model: {type: jpvae, lambda: 1, prior: {cross: zero}}"))
        XCTAssertThrowsError(try ExperimentConfig.parse(yaml: "model: {type: jpvae, lambda: 2}")) {
            XCTAssertTrue("\($0)".contains("apply to model.type covae only"), "\($0)")
        }
        // Unknown keys still list what is allowed.
        XCTAssertThrowsError(try ExperimentConfig.parse(yaml: "model: {type: jpvae, agregator: moe}")) {
            XCTAssertTrue("\($0)".contains("unknown config key 'model.agregator'"), "\($0)")
        }
    }
}
