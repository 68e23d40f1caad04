import ArgumentParser
import Foundation
import MultiViewVAE

/// A trained run opened for evaluation or imputation: its checkpoint, config and model.
struct RunContext {
    let run: String
    let checkpoint: Checkpoint.Loaded
    let config: ExperimentConfig
    let model: MultiViewModel

    /// Opens `checkpoint` (or the run's newest valid one) and rebuilds the model from its config.
    init(run: String, checkpoint path: String?, overrides: [String], dimensions: [Int]? = nil) throws {
        self.run = run
        if let path {
            checkpoint = try Checkpoint.load(path)
        } else {
            let (found, skipped) = Checkpoint.newestValid(run: run)
            for s in skipped { FileHandle.standardError.write("skipping \(s.path): \(s.reason)\n".data(using: .utf8)!) }
            guard let found else {
                throw ValidationError("no valid checkpoint under \(Checkpoint.folder(run: run)); train first with mvvae train --run \(run)")
            }
            checkpoint = found
        }
        config = try ExperimentConfig.parse(yaml: checkpoint.state.config, source: "\(checkpoint.path)/state.json", overrides: overrides)
        let dims = try dimensions ?? ExperimentData(config: config.data, seed: config.seed).dimensions
        model = try makeModel(config, dimensions: dims)
        try Checkpoint.loadParameters(checkpoint, into: model.arena)
    }
}

extension RunContext {
    /// The run's model as a JPVAE, or a clear error for other model types.
    func jpvae(for command: String) throws -> JPVAE {
        guard let m = model as? JPVAE else {
            let supported = command == "evaluate" ? "jpvae, aggregated, covae and jnf" : "jpvae and covae"
            throw ValidationError("mvvae \(command) supports \(supported) runs; this run trains '\(config.model.type.rawValue)'")
        }
        return m
    }
}
