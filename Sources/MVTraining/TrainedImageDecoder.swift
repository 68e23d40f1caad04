import Foundation
import MVCore
import MVIO
import MVConfig
import MVData
import MVModels

/// A trained run's decoders as one map z → whole image: the generator behind `data.source: correlated`
/// (the CoVAE paper's §3.1 "pre-trained decoders"). The run must train an aggregated model (one shared
/// latent, no private latents) on Fashion-MNIST cut into views; decoding z through every view's decoder
/// and putting each view's pixels back where the layout took them gives the whole 28×28 image, as the
/// likelihood's mean (grey levels in [0, 1] for Bernoulli).
public struct TrainedImageDecoder {
    public let run: String
    public let checkpoint: String
    public let latent: Int
    public let height: Int, width: Int
    let model: AggregatedVAE
    let pixels: [[Int]]

    public var features: Int { height * width }

    /// Opens the newest valid checkpoint of `run`; every refusal names the run and what is wrong.
    public init(run: String) throws {
        self.run = run
        func refuse(_ why: String) -> DataError { .badGenerator(run: run, reason: why) }
        let (found, skipped) = Checkpoint.newestValid(run: run)
        guard let found else {
            let why =
                skipped.first.map { "no valid checkpoint (\($0.path): \($0.reason))" }
                ?? "no checkpoint under \(Checkpoint.folder(run: run)); train one first, e.g. mvvae train --config "
                + "configs/fashion-generator.yaml --run \(run)"
            throw refuse(why)
        }
        let config: ExperimentConfig
        do { config = try ExperimentConfig.parse(yaml: found.state.config, source: "\(found.path)/state.json") } catch {
            throw refuse("\(error)")
        }
        guard config.model.type == .aggregated, config.model.aggregated.privateLatent == 0 else {
            throw refuse(
                "the generator must be an aggregated model without private latents; this run trains '\(config.model.type.rawValue)'")
        }
        guard config.data.source == .fashionMNIST else {
            throw refuse(
                "the generator must be trained on Fashion-MNIST images cut into views; this run reads '\(config.data.source.rawValue)' data"
            )
        }
        let layout = config.data.imageViews.layout
        pixels = layout.pixelIndices(height: FashionMNIST.height, width: FashionMNIST.width)
        do {
            guard let m = try ModelRegistry.makeModel(config, dimensions: pixels.map(\.count)) as? AggregatedVAE else {
                throw refuse("not an aggregated model")
            }
            try Checkpoint.loadParameters(found, into: m.arena)
            model = m
        } catch let e as DataError { throw e } catch { throw refuse("\(error)") }
        checkpoint = found.path
        latent = model.latent
        height = FashionMNIST.height
        width = FashionMNIST.width
    }

    /// Images (rows × height·width) for latents z (rows × latent), `chunk` rows per forward pass.
    public func images(_ z: Matrix, chunk: Int = 1000) -> Matrix {
        precondition(z.cols == latent, "the generator reads \(latent) latents, got \(z.cols)")
        var out = Matrix(rows: z.rows, cols: features)
        var start = 0
        while start < z.rows {
            let rows = start..<Swift.min(start + chunk, z.rows)
            let tape = Tape()
            let input = tape.constant(z.rows(rows))
            for (s, decoder) in model.decoders.enumerated() {
                let view = tape.value(model.likelihoods[s].mean(output: decoder(input, tape: tape, arena: model.arena), tape: tape))
                for (i, r) in rows.enumerated() {
                    for (j, p) in pixels[s].enumerated() { out[r, p] = view[i, j] }
                }
            }
            start = rows.upperBound
        }
        return out
    }
}
