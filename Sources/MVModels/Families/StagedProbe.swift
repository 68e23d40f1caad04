import MVCore
import MVConfig
import MVData

/// A two-stage model that exercises the trainer's recipes (the stage tests train it at several world
/// sizes and resume it mid-stage); not one of the papers' models.
///
/// Stage `encoder`: a denoising autoencoder of view 1, h = f(x₁ + 0.1ε), loss ½‖x₁ − g(h)‖² per row.
/// Its end measures the mean and standard deviation of each feature of f(x₁) over the whole training
/// split (sums allreduced over ranks) and stores them as frozen parameters.
/// Stage `head`: f frozen, Adam restarted; a linear head reads the standardised features
/// u = (f(x₁) − mean) / sd and predicts view 2: loss ½‖x₂ − Wu − b‖² per row.
public final class StagedProbe: MultiViewModel {
    public let arena = ParameterArena()
    public let viewDimensions: [Int]
    let encoder: MLP, decoder: MLP, head: Dense
    let mean: ParameterView, inverseDeviation: ParameterView
    public var features: Int { encoder.outputs }

    public var recipe: [StageDefinition] {
        [
            StageDefinition(name: "encoder", groups: ["encoder"], defaultEpochs: 2),
            StageDefinition(name: "head", groups: ["head"], defaultEpochs: 2, restartsOptimizer: true),
        ]
    }

    public init(config: ModelConfig, dimensions: [Int], seed: UInt64) {
        precondition(dimensions.count == 2, "StagedProbe reads two views")
        viewDimensions = dimensions
        let width = config.latent(view: 0)
        arena.beginGroup("encoder")
        encoder = MLP("encoder", sizes: [dimensions[0]] + config.encoderHidden + [width], activation: config.activation, arena: arena)
        decoder = MLP("decoder", sizes: [width] + config.decoderHidden + [dimensions[0]], activation: config.activation, arena: arena)
        arena.beginGroup("statistics")
        mean = arena.register("statistics.mean", rows: 1, cols: width, initializer: .zeros)
        inverseDeviation = arena.register("statistics.inverseDeviation", rows: 1, cols: width, initializer: .constant(1))
        arena.beginGroup("head")
        head = Dense("head", inputs: width, outputs: dimensions[1], init: .xavier, arena: arena)
        arena.materialize(seed: seed)
    }

    public func loss(_ batch: Batch, tape: Tape, beta: Float, seed: UInt64, stage: Int) throws -> LossTerms {
        let b = batch.rows, d = viewDimensions
        let x1 = tape.input(rows: b, cols: d[0]) { $0.update(from: batch.views[0], count: b * d[0]) }
        let error: Var
        if stage == 0 {
            let noise = tape.input(rows: b, cols: d[0]) { batch.fillNoise($0, view: 0, width: d[0], seed: seed) }
            let h = encoder(tape.add(x1, tape.scale(noise, 0.1)), tape: tape, arena: arena)
            error = tape.sub(x1, decoder(h, tape: tape, arena: arena))
        } else {
            let x2 = tape.input(rows: b, cols: d[1]) { $0.update(from: batch.views[1], count: b * d[1]) }
            error = tape.sub(x2, head(standardised(x1, tape: tape), tape: tape, arena: arena))
        }
        let reconstruction = tape.scale(tape.sum(tape.square(error)), 0.5)
        return LossTerms(total: reconstruction, reconstruction: reconstruction, kl: tape.scalar(0))
    }

    /// u = (f(x₁) − mean) ⊙ (1 / sd), rows × features.
    func standardised(_ x1: Var, tape: Tape) -> Var {
        let h = encoder(x1, tape: tape, arena: arena)
        return tape.mul(tape.sub(h, tape.parameter(mean, in: arena)), tape.parameter(inverseDeviation, in: arena))
    }

    /// After `encoder`: Σ h and Σ h² per feature over the training split → mean and 1 / sd.
    public func finishStage(_ stage: Int, split: TrainingSplitSums) throws -> [ParameterAssignment] {
        guard stage == 0 else { return [] }
        let n = features
        let sums = try split.sum(count: 2 * n + 1) { batch, tape, sums in
            let x1 = tape.input(rows: batch.rows, cols: viewDimensions[0]) {
                $0.update(from: batch.views[0], count: batch.rows * viewDimensions[0])
            }
            let h = tape.valuePointer(encoder(x1, tape: tape, arena: arena))
            for r in 0..<batch.rows {
                for j in 0..<n {
                    let v = Double(h[r * n + j])
                    sums[j] += v
                    sums[n + j] += v * v
                }
            }
            sums[2 * n] += Double(batch.rows)
        }
        let rows = Swift.max(sums[2 * n], 1)
        var means = [Float](repeating: 0, count: n), inverse = [Float](repeating: 1, count: n)
        for j in 0..<n {
            let m = sums[j] / rows
            let variance = Swift.max(sums[n + j] / rows - m * m, 0)
            means[j] = Float(m)
            inverse[j] = Float(1 / (variance + 1e-6).squareRoot())
        }
        return [ParameterAssignment(mean, means), ParameterAssignment(inverseDeviation, inverse)]
    }
}
