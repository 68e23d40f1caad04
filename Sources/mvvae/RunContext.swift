import ArgumentParser
import Foundation
import MultiViewVAE

/// A trained run opened for evaluation or imputation: its checkpoint, config, model and views.
struct RunContext {
    let run: String
    let checkpoint: Checkpoint.Loaded
    let config: ExperimentConfig
    let model: MultiViewModel
    /// The views the model was trained on, as its checkpoint records them (older checkpoints: read
    /// from the data set, which must then still be where the config says).
    let views: ViewShapes

    /// Opens `checkpoint` (or the run's newest valid one) and rebuilds the model from its config.
    init(run: String, checkpoint path: String?, overrides: [String]) throws {
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
        if let recorded = checkpoint.state.views {
            views = recorded
        } else {
            views = try ExperimentData(config: config.data, seed: config.seed).shapes
        }
        model = try makeModel(config, views: views)
        try Checkpoint.loadParameters(checkpoint, into: model.arena)
    }
}
