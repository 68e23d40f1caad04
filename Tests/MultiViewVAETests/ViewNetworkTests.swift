import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVModels

/// Convolutional view networks (`model.encoder`/`model.decoder` type conv): MultiVae's PolyMNIST sizes,
/// dense networks unchanged, a conv PoE that learns, and configs that cannot work refused with a reason.
final class ViewNetworkTests: XCTestCase {
    let polyMNIST = ViewShapes.ImageSize(height: 28, width: 28, channels: 3)

    func conv(_ channels: [Int], kernel: Int = 3, stride: Int = 2, padding: Int = 1) -> NetworkConfig {
        NetworkConfig(type: .conv, channels: channels, kernel: kernel, stride: stride, padding: padding)
    }

    /// MultiVae's EncoderConvMMNIST / DecoderConvMMNIST: 3→32→64→128 channels, 28 → 14 → 7 → 4 pixels,
    /// 2048 features; the decoder 2048 → 4×4×128 → 7×7×64 → 14×14×32 → 28×28×3; the same parameter counts.
    func testPolyMNISTNetworksHaveMultiVaesSizes() {
        let arena = ParameterArena()
        let encoder = ViewNetwork(
            encoder: "e", image: polyMNIST, inputs: 2352, hidden: [], outputs: 64, config: conv([32, 64, 128]), activation: .relu,
            arena: arena)
        XCTAssertEqual(encoder.convolutions.map(\.outputs), [14 * 14 * 32, 7 * 7 * 64, 4 * 4 * 128])
        XCTAssertEqual(encoder.mlp.inputs, 2048)
        let decoder = ViewNetwork(
            decoder: "d", inputs: 64, hidden: [], image: polyMNIST, outputs: 2352, config: conv([128, 64, 32]), activation: .relu,
            arena: arena)
        XCTAssertEqual(decoder.mlp.outputs, 2048)
        XCTAssertEqual(decoder.convolutions.map(\.outputs), [7 * 7 * 64, 14 * 14 * 32, 28 * 28 * 3])
        XCTAssertEqual(decoder.outputs, 2352)
        // PyTorch: Conv2d(3,32,3) 896, (32,64) 18 496, (64,128) 73 856, Linear(2048,64) 131 136;
        // Linear(64,2048) 133 120, ConvT(128,64) 73 792, (64,32) 18 464, (32,3) 867.
        arena.materialize(seed: 1)
        XCTAssertEqual(arena.views.map(\.count).reduce(0, +), 896 + 18_496 + 73_856 + 131_136 + 133_120 + 73_792 + 18_464 + 867)
        let tape = Tape()
        let x = tape.constant(Matrix.randomUniform(rows: 2, cols: 2352, seed: 1, low: 0, high: 1))
        let h = encoder(x, tape: tape, arena: arena)
        XCTAssertEqual(tape.shape(h).cols, 64)
        XCTAssertEqual(tape.shape(decoder(h, tape: tape, arena: arena)).cols, 2352)
    }

    /// pythae's Encoder_ResNet_VAE_MNIST / Decoder_ResNet_AE_MNIST (CoVAE's App. D), latent 16: the
    /// same map sizes and parameter counts (encoder 427 680 with both heads, decoder 339 009).
    func testResNetNetworksHavePythaesSizes() {
        let mnist = ViewShapes.ImageSize(height: 28, width: 28, channels: 1)
        let encoderArena = ParameterArena(), decoderArena = ParameterArena()
        let encoder = ViewNetwork(
            encoder: "e", image: mnist, inputs: 784, hidden: [], outputs: 32,
            config: NetworkConfig(type: .resnet, channels: [64, 128, 128], kernels: [4, 4, 3], stride: 2, padding: 1),
            activation: .relu, arena: encoderArena)
        XCTAssertEqual(encoder.convolutions.map(\.outputs), [14 * 14 * 64, 7 * 7 * 128, 4 * 4 * 128])
        XCTAssertEqual(encoder.blocks.count, 2)
        let decoder = ViewNetwork(
            decoder: "d", inputs: 16, hidden: [], image: mnist, outputs: 784,
            config: NetworkConfig(type: .resnet, channels: [128, 128, 64], kernel: 3, stride: 2, padding: 1), activation: .relu,
            arena: decoderArena)
        XCTAssertEqual(decoder.convolutions.map(\.outputs), [7 * 7 * 128, 14 * 14 * 64, 28 * 28])
        XCTAssertEqual(encoderArena.views.map(\.count).reduce(0, +), 427_680)
        XCTAssertEqual(decoderArena.views.map(\.count).reduce(0, +), 339_009)
        encoderArena.materialize(seed: 1)
        decoderArena.materialize(seed: 2)
        let tape = Tape()
        let x = tape.constant(Matrix.randomUniform(rows: 3, cols: 784, seed: 1, low: 0, high: 1))
        XCTAssertEqual(tape.shape(encoder(x, tape: tape, arena: encoderArena)).cols, 32)
        let z = tape.constant(Matrix.randomNormal(rows: 3, cols: 16, seed: 2))
        XCTAssertEqual(tape.shape(decoder(z, tape: tape, arena: decoderArena)).cols, 784)
    }

    /// A residual block is x + conv1×1(relu(conv3×3(relu(x)))): its gradient through every path.
    func testResidualBlockGradients() {
        let arena = ParameterArena()
        let block = ResidualBlock("b", height: 4, width: 3, channels: 2, inner: 3, arena: arena)
        arena.materialize(seed: 5)
        GradientCheck([awayFromZero(2, 24, seed: 8)]).run("residual block") { t, v in block(v[0], tape: t, arena: arena) }
    }

    /// `model.encoder.input: log1p`: an encoder reads log(1 + x) — the same outputs as the plain network on
    /// log1p(x) — and the setting survives a config round trip; a decoder refuses it.
    func testLog1pInputTransform() throws {
        var config = NetworkConfig.mlp
        config.input = [.log1p]
        // Two arenas initialised alike: the same weights, one network reading log1p.
        let arena = ParameterArena(), plainArena = ParameterArena()
        let transformed = ViewNetwork(
            encoder: "t", image: nil, inputs: 3, hidden: [4], outputs: 2, config: config, activation: .relu, arena: arena)
        let plain = ViewNetwork(
            encoder: "t", image: nil, inputs: 3, hidden: [4], outputs: 2, config: .mlp, activation: .relu, arena: plainArena)
        arena.materialize(seed: 3)
        plainArena.materialize(seed: 3)
        XCTAssertEqual(
            Array(UnsafeBufferPointer(start: arena.values, count: arena.count)),
            Array(UnsafeBufferPointer(start: plainArena.values, count: plainArena.count)))
        let counts = Matrix(rows: 2, cols: 3, [0, 4, 17, 250, 1, 0])
        var logged = counts
        for i in logged.storage.indices { logged.storage[i] = Foundation.log1p(logged.storage[i]) }
        let tape = Tape()
        let a = tape.value(transformed(tape.constant(counts), tape: tape, arena: arena))
        let b = tape.value(plain(tape.constant(logged), tape: tape, arena: plainArena))
        for (x, y) in zip(a.storage, b.storage) { XCTAssertEqual(x, y, accuracy: 1e-5) }
        let parsed = try ExperimentConfig.parse(yaml: "model: {type: aggregated, encoder: {input: log1p}}")
        XCTAssertEqual(parsed.model.encoder.input, [.log1p])
        let perView = try ExperimentConfig.parse(yaml: "model: {type: aggregated, encoder: {input: [log1p, none]}}")
        XCTAssertEqual(perView.model.encoder.forView(1).input, [.none])
        XCTAssertEqual(perView.model.encoder.forView(0).input, [.log1p])
        let again = try ExperimentConfig.parse(yaml: try parsed.yaml())
        XCTAssertEqual(again.model.encoder, parsed.model.encoder)
        XCTAssertThrowsError(try ExperimentConfig.parse(yaml: "model: {type: aggregated, decoder: {input: log1p}}")) {
            XCTAssertTrue("\($0)".contains("input applies to model.encoder"), "\($0)")
        }
    }

    func testDenseNetworksKeepTheirParameterNames() {
        let arena = ParameterArena()
        _ = ViewNetwork(
            encoder: "view1.encoder", image: nil, inputs: 10, hidden: [6], outputs: 4, config: .mlp, activation: .relu, arena: arena)
        XCTAssertEqual(
            arena.views.map(\.name),
            ["view1.encoder.layer0.weight", "view1.encoder.layer0.bias", "view1.encoder.layer1.weight", "view1.encoder.layer1.bias"])
    }

    func testConfigsThatCannotBuildAreRefusedWithAReason() throws {
        func config(_ model: String, data: String = "{source: npy, views: [a.npy, b.npy]}") throws -> ExperimentConfig {
            try ExperimentConfig.parse(yaml: "data: \(data)\nmodel: \(model)\ntraining: {epochs: 1, batchSize: 8}")
        }
        let images = [ViewShapes.ImageSize(height: 14, width: 28), ViewShapes.ImageSize(height: 14, width: 28)]
        let cases: [(String, [ViewShapes.ImageSize]?, String)] = [
            ("{type: aggregated, encoder: {type: conv}}", nil, "needs image views"),
            ("{type: aggregated, decoder: {type: conv, channels: [4], kernel: 31, padding: 1}}", images, "larger than the 14×28 image"),
            ("{type: stagedProbe, encoder: {type: conv}}", images, "not available for model.type stagedProbe"),
            ("{type: jnf, encoderHidden: [], encoder: {type: conv}}", images, "model.encoderHidden"),
        ]
        for (model, shapes, words) in cases {
            let cfg = try config(model)
            XCTAssertThrowsError(try ModelRegistry.makeModel(cfg, dimensions: [392, 392], images: shapes), model) { error in
                XCTAssertTrue("\(error)".contains(words), "\(error) should say \(words)")
            }
        }
        XCTAssertThrowsError(try config("{type: aggregated, encoder: {type: conv, channels: []}}")) { error in
            XCTAssertTrue("\(error)".contains("model.encoder.channels"), "\(error)")
        }
        XCTAssertThrowsError(try config("{type: aggregated, encoder: {type: conv, padding: 3}}")) { error in
            XCTAssertTrue("\(error)".contains("padding"), "\(error)")
        }
        XCTAssertThrowsError(try config("{type: aggregated, encoder: {type: mlp, channels: [3]}}"))
        XCTAssertThrowsError(try config("{type: aggregated, encoder: {type: conv, channels: [4, 8], kernel: [3, 3, 3]}}")) { error in
            XCTAssertTrue("\(error)".contains("one per convolution (2)"), "\(error)")
        }
        XCTAssertThrowsError(try config("{type: aggregated, encoder: {type: conv, residualBlocks: 1}}")) { error in
            XCTAssertTrue("\(error)".contains("applies to type resnet"), "\(error)")
        }
        XCTAssertThrowsError(try config("{type: aggregated, encoder: {type: resnet, residualChannels: 0}}"))
        XCTAssertThrowsError(try config("{type: aggregated}", data: "{source: polyfashion, modalities: 1}")) { error in
            XCTAssertTrue("\(error)".contains("data.modalities"), "\(error)")
        }
        XCTAssertThrowsError(try config("{type: aggregated, encoder: {type: conv, filters: [3]}}"))
    }

    /// A conv PoE on two 8×8 image views that share a latent pattern: the loss falls.
    func testConvolutionalPoELearns() throws {
        let cfg = try ExperimentConfig.parse(
            yaml: """
                seed: 4
                data: {source: npy, views: [a.npy, b.npy]}
                model: {type: aggregated, aggregator: poe, bound: masked, latent: 2, encoderHidden: [], featureSize: 8,
                        decoderHidden: [], encoder: {type: conv, channels: [4, 8]}, decoder: {type: conv, channels: [8, 4]},
                        likelihood: gaussian}
                training: {epochs: 1, batchSize: 16}
                """)
        let image = ViewShapes.ImageSize(height: 8, width: 8, channels: 2)
        let model = try XCTUnwrap(
            try ModelRegistry.makeModel(cfg, dimensions: [128, 128], images: [image, image]) as? AggregatedVAE)
        let batch = Batch(dimensions: [128, 128], capacity: 16, hasMask: false)
        let adam = Adam(count: model.arena.count, learningRate: 0.01)
        let tape = Tape()
        var losses: [Float] = []
        for step in 0..<120 {
            var rng = RandomStream(seed: 9, stream: UInt64(step % 8), block: 0)
            for r in 0..<16 {
                batch.indices[r] = (step % 8) * 16 + r
                let a = rng.nextUniform(), b = rng.nextUniform()
                for v in 0..<2 { for i in 0..<128 { batch.views[v][r * 128 + i] = a * Float(i % 8) / 8 + b * Float(i / 16) / 8 } }
            }
            batch.setRows(16, epoch: step / 8)
            tape.reset()
            model.arena.zeroGradients()
            let loss = tape.scale(try model.loss(batch, tape: tape, beta: 1, seed: 2).total, 1.0 / 16)
            tape.backward(loss)
            adam.update(model.arena)
            losses.append(tape.item(loss))
        }
        let first = losses.prefix(10).reduce(0, +) / 10, last = losses.suffix(10).reduce(0, +) / 10
        XCTAssertLessThan(last, first - 0.2 * abs(first), "conv PoE loss \(first) → \(last)")
    }
}
