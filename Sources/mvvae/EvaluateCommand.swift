import ArgumentParser
import Foundation
import MultiViewVAE

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a trained run on its test split; writes <run>/evaluation.json and prints a Markdown table.",
        discussion: """
            Reports JPVAE's paper metrics: reconstruction and imputation cross-entropy per view (Table 1),
            active units (Table 2), the latent cross-correlation and its Frobenius norm (Fig. 4), and the
            accuracy of MLP classifiers trained and tested on reconstructed and imputed views (Table 3).
            """)

    @Option(name: .customLong("run"), help: "Run folder (as given to mvvae train --run).")
    var runFolder: String

    @Option(help: "A checkpoint folder (default: the run's newest valid checkpoint).")
    var checkpoint: String?

    @Option(name: .customLong("set"), help: "Override a config value, e.g. --set evaluation.imputation=priorSamples (repeatable).")
    var overrides: [String] = []

    @Option(help: "Where to write the JSON report (default: <run>/evaluation.json).")
    var output: String?

    @Flag(help: "Skip the classifiers of Table 3 (faster).")
    var noClassifiers = false

    @Option(help: "BLAS threads.")
    var threads: Int = 1

    func run() throws {
        BLASThreads.set(max(threads, 1))
        do {
            let ctx = try RunContext(run: runFolder, checkpoint: checkpoint, overrides: overrides)
            let data = try ExperimentData(config: ctx.config.data, seed: ctx.config.seed)
            if let aggregated = ctx.model as? AggregatedVAE {
                try evaluateAggregated(aggregated, ctx: ctx, data: data)
                return
            }
            let model = try ctx.jpvae(for: "evaluate")
            let evalConfig = ctx.config.evaluation
            let trainSubset = evalConfig.trainLimit > 0 && evalConfig.trainLimit < data.train.count
                ? DataSubset(dataset: data.train.dataset, indices: Array(data.train.indices.prefix(evalConfig.trainLimit))) : data.train
            let evaluation = JPVAEEvaluation(model: model, seed: ctx.config.seed, config: evalConfig)
            let start = monotonicSeconds()
            let report = try evaluation.run(train: trainSubset, test: data.test, classify: !noClassifiers) { print("evaluate: \($0)") }
            let path = output ?? (runFolder as NSString).appendingPathComponent("evaluation.json")
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: path), options: .atomic)
            print(markdown(report, step: ctx.checkpoint.state.training.step, cross: ctx.config.model.prior.cross.rawValue))
            print(String(format: "evaluation took %.1f s; written to %@", monotonicSeconds() - start, path))
        } catch let e as ValidationError {
            throw e
        } catch {
            FileHandle.standardError.write("mvvae evaluate: \(error)\n".data(using: .utf8)!)
            throw ExitCode(1)
        }
    }

    /// Aggregated models: the exact linear-Gaussian evaluation when the data is the simulation.
    func evaluateAggregated(_ model: AggregatedVAE, ctx: RunContext, data: ExperimentData) throws {
        guard let sim = data.simulation else {
            throw ValidationError("mvvae evaluate supports aggregated models on data.source linear-gaussian so far (exact log-likelihood); other data comes with the importance-sampled evaluation")
        }
        let report = try AggregatedLinearGaussianEvaluation(model: model).run(rows: data.train, trueLatents: sim.latents)
        let path = output ?? (runFolder as NSString).appendingPathComponent("evaluation.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: URL(fileURLWithPath: path), options: .atomic)
        print("\n### \(runFolder) (\(ctx.config.model.aggregator.rawValue), \(ctx.config.model.bound.rawValue) bound, \(report.rows) training rows)\n")
        print("| LLH model | LLH MLE (PPCA) | relative gap | weak MCC | strong MCC | full rate |\n|---|---|---|---|---|---|")
        print(String(format: "| %.4f | %.4f | %.3e | %.4f | %.4f | %.3f |", report.modelLogLikelihood, report.mleLogLikelihood,
                     report.relativeGap, report.weakMCC, report.strongMCC, report.fullRate))
        print("written to \(path)")
    }

    func markdown(_ r: JPVAEEvaluation.Report, step: Int, cross: String) -> String {
        var out = "\n### \(runFolder) (C: \(cross), step \(step), \(r.testRows) test rows)\n\n"
        out += "| X̃1 recon | X̃2 recon | X̃1\\|2 imputed | X̃2\\|1 imputed | X̃1\\|2 train-mean | X̃2\\|1 train-mean | AU % | ‖corr‖_F |\n"
        out += "|---|---|---|---|---|---|---|---|\n"
        out += String(format: "| %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f | %.3f |\n", r.reconstruction[0], r.reconstruction[1],
                      r.imputation[0], r.imputation[1], r.imputationTrainingMean[0], r.imputationTrainingMean[1],
                      r.activeUnits, r.crossCorrelationFrobenius)
        if let c = r.classification {
            out += "\n| classifier (train, test) | accuracy % |\n|---|---|\n"
            for k in c.keys.sorted() { out += String(format: "| %@ | %.2f |\n", k.replacingOccurrences(of: "|", with: "\\|"), c[k]!) }
        }
        return out
    }
}
