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

            Aggregated models: importance-sampled log p(x_M) (N = evaluation.importanceSamples draws from
            q(z|x_M)), log p(x_s | x_rest) per modality, full and cross reconstruction, dropped-view imputation
            (data.missingRate), latent linear-classification accuracy, and for images a cross-generation grid
            <run>/cross-generation.png; on labelled data coherence (as for JNF, below); on linear-gaussian data
            also the exact log-likelihood gap and MCC.

            JNF: importance-sampled log p(x) and log p(x_M | x_S) for every subset S, and on labelled data
            coherence (a classifier per modality; conditional from every subset, joint from the prior) with
            the HMC acceptance rate of the subsets it samples.
            """)

    @Option(name: .customLong("run"), help: "Run folder (as given to mvvae train --run).")
    var runFolder: String

    @Option(help: "A checkpoint folder (default: the run's newest valid checkpoint).")
    var checkpoint: String?

    @Option(name: .customLong("set"), help: "Override a config value, e.g. --set evaluation.imputation=priorSamples (repeatable).")
    var overrides: [String] = []

    @Option(help: "Where to write the JSON report (default: <run>/evaluation.json).")
    var output: String?

    @Flag(help: "Skip the classifiers (JPVAE: Table 3; aggregated: the latent linear classifier; JNF: coherence).")
    var noClassifiers = false

    @Option(help: "Aggregated models on images: test images of each kind in the cross-generation grid (0: no grid).")
    var gridImages: Int = 12

    @Option(help: "BLAS threads.")
    var threads: Int = 1

    func run() throws {
        guard gridImages >= 0 else { throw ValidationError("--grid-images must be 0 (no grid) or more, got \(gridImages)") }
        BLASThreads.set(max(threads, 1))
        do {
            let ctx = try RunContext(run: runFolder, checkpoint: checkpoint, overrides: overrides)
            let data = try ExperimentData(config: ctx.config.data, seed: ctx.config.seed)
            if let aggregated = ctx.model as? AggregatedVAE {
                try evaluateAggregated(aggregated, ctx: ctx, data: data)
                return
            }
            if let jnf = ctx.model as? JNF {
                let start = monotonicSeconds()
                let report = try JNFEvaluation(model: jnf, config: ctx.config.evaluation, seed: ctx.config.seed)
                    .run(train: trainRows(data, ctx.config.evaluation), test: data.test, coherence: !noClassifiers) { print("evaluate: \($0)") }
                let title = "\(runFolder) (jnf \(jnf.settings.variant.rawValue), \(jnf.modalities) views, step \(ctx.checkpoint.state.training.step))"
                try write(report, markdown: JNFEvaluation.markdown(report, title: title), since: start)
                return
            }
            if let covae = ctx.model as? CoVAE {
                let start = monotonicSeconds(), step = ctx.checkpoint.state.training.step
                if covae.modalities > 2 {
                    let report = try CoVAESubsetEvaluation(model: covae, seed: ctx.config.seed, samples: ctx.config.evaluation.importanceSamples)
                        .run(train: data.train, test: data.test)
                    try write(report, markdown: CoVAESubsetEvaluation.markdown(report, title: "\(runFolder) (covae, \(covae.modalities) views, step \(step))"), since: start)
                } else {
                    let report = try generationStatistics(covae, ctx: ctx, data: data)
                    try write(report, markdown: GenerationStatistics.markdown(report, title: "\(runFolder) (covae, step \(step))"), since: start)
                }
                return
            }
            let model = try ctx.jpvae(for: "evaluate")
            let evalConfig = ctx.config.evaluation
            let trainSubset = trainRows(data, evalConfig)
            let evaluation = JPVAEEvaluation(model: model, seed: ctx.config.seed, config: evalConfig)
            let start = monotonicSeconds()
            let report = try evaluation.run(train: trainSubset, test: data.test, classify: !noClassifiers) { print("evaluate: \($0)") }
            let path = output ?? (runFolder as NSString).appendingPathComponent("evaluation.json")
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: path), options: .atomic)
            print(markdown(report, step: ctx.checkpoint.state.training.step, cross: ctx.config.model.jpvae.prior.cross.rawValue))
            print(String(format: "evaluation took %.1f s; written to %@", monotonicSeconds() - start, path))
        } catch let e as ValidationError {
            throw e
        } catch {
            FileHandle.standardError.write("mvvae evaluate: \(error)\n".data(using: .utf8)!)
            throw ExitCode(1)
        }
    }

    /// Aggregated models: the importance-sampled evaluation on the test split, a cross-generation grid
    /// for image data, and the exact linear-Gaussian evaluation when the data is that simulation.
    func evaluateAggregated(_ model: AggregatedVAE, ctx: RunContext, data: ExperimentData) throws {
        let start = monotonicSeconds()
        let evalConfig = ctx.config.evaluation
        let train = trainRows(data, evalConfig)
        let path = output ?? (runFolder as NSString).appendingPathComponent("evaluation.json")
        let folder = (path as NSString).deletingLastPathComponent
        var report = try AggregatedEvaluation(model: model, config: evalConfig, seed: ctx.config.seed)
            .run(train: train, test: data.test, unmaskedTest: data.unmaskedTest, classify: !noClassifiers) { print("evaluate: \($0)") }
        if let layout = data.imageLayout, gridImages > 0 {
            let gridPath = (folder as NSString).appendingPathComponent("cross-generation.png")
            let grid = CrossGenerationGrid(model: model, layout: .init(height: layout.height, width: layout.width, pixels: layout.pixels))
            report.crossGenerationGrid = try grid.write(test: data.test, truth: data.unmaskedTest, images: gridImages, to: gridPath).path
        }
        var file = AggregatedEvaluationFile(general: report)
        if model.viewDimensions.count == 2, model.privateLatents == nil {
            print("evaluate: generation statistics (decoder-input correlations, spreads, conditional and joint −log p)")
            file.generation = try generationStatistics(model, ctx: ctx, data: data)
        }
        if !noClassifiers, data.train.labels != nil {
            print("evaluate: coherence (a classifier per modality, conditional from every subset, joint from the prior)")
            let complete = data.test.completeRows()
            if complete.count > 0 {
                file.coherence = try Coherence(train: train.completeRows(), config: evalConfig, seed: ctx.config.seed)
                    .run(imputer: model, generator: model, test: complete) { print("evaluate: \($0)") }
            }
        }
        if let sim = data.simulation {
            // The exact evaluation fits PPCA on complete rows: the training rows before any simulated drops.
            let rows = DataSubset(dataset: sim.dataset, indices: data.train.indices)
            do {
                file.linearGaussian = try AggregatedLinearGaussianEvaluation(model: model).run(rows: rows, trueLatents: sim.latents)
            } catch let e as AggregatedLinearGaussianEvaluation.Failure {
                file.linearGaussianSkipped = "\(e)"
            }
        }
        let title = "\(runFolder) (\(ctx.config.model.aggregated.aggregator.rawValue), \(ctx.config.model.aggregated.bound.rawValue) bound, step \(ctx.checkpoint.state.training.step))"
        try write(file, markdown: file.markdown(title: title), since: start)
    }

    /// The training rows statistics and classifiers are fitted on: the first `evaluation.trainLimit` (0: all).
    func trainRows(_ data: ExperimentData, _ config: EvaluationConfig) -> DataSubset {
        config.trainLimit > 0 && config.trainLimit < data.train.count
            ? DataSubset(dataset: data.train.dataset, indices: Array(data.train.indices.prefix(config.trainLimit))) : data.train
    }

    /// The report as JSON (--output, default <run>/evaluation.json) and its Markdown beside it (.md), printed.
    func write<Report: Encodable>(_ report: Report, markdown text: String, since start: Double) throws {
        let path = output ?? (runFolder as NSString).appendingPathComponent("evaluation.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: URL(fileURLWithPath: path), options: .atomic)
        let markdownPath = (path as NSString).deletingPathExtension + ".md"
        try text.write(toFile: markdownPath, atomically: true, encoding: .utf8)
        print(text)
        print(String(format: "evaluation took %.1f s; written to %@ and %@", monotonicSeconds() - start, path, markdownPath))
    }

    /// The CoVAE paper's statistics of generated pairs on the test split, with the ground-truth
    /// correlation when the data is `correlated`.
    func generationStatistics(_ model: PairGenerationModel, ctx: RunContext, data: ExperimentData) throws -> GenerationStatistics.Report {
        var report = try GenerationStatistics(model: model, seed: ctx.config.seed, samples: ctx.config.evaluation.importanceSamples,
                                              importanceSamples: ctx.config.evaluation.importanceSamples)
            .run(train: data.train, test: data.test)
        report.dataCorrelation = data.pairs?.groundTruthCorrelation
        return report
    }

    func markdown(_ r: JPVAEEvaluation.Report, step: Int, cross: String) -> String {
        var out = "\n### \(runFolder) (C: \(cross), step \(step), \(r.testRows) test rows)\n\n"
        out += "| X̃1 recon | X̃2 recon | X̃1\\|2 imputed | X̃2\\|1 imputed | X̃1\\|2 train-mean | X̃2\\|1 train-mean | AU % | ‖corr‖_F |\n"
        out += "|---|---|---|---|---|---|---|---|\n"
        out += String(format: "| %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f | %.3f |\n", r.reconstruction[0], r.reconstruction[1],
                      r.imputation[0], r.imputation[1], r.imputationTrainingMean[0], r.imputationTrainingMean[1],
                      r.activeUnits, r.crossCorrelationFrobenius)
        if let ridge = r.imputationRidge, let predictive = r.imputationPredictive {
            out += "\n| −log p of the missing view, per row | X1\\|2 | X2\\|1 |\n|---|---|---|\n"
            out += String(format: "| the model, point estimate (as above) | %.2f | %.2f |\n", r.imputation[0], r.imputation[1])
            out += String(format: "| the model, mixture of decoded draws (evaluation.samples) | %.2f | %.2f |\n", predictive[0], predictive[1])
            out += String(format: "| ridge regression on the other view | %.2f | %.2f |\n", ridge[0], ridge[1])
            out += String(format: "| training mean | %.2f | %.2f |\n", r.imputationTrainingMean[0], r.imputationTrainingMean[1])
        }
        if let c = r.classification {
            out += "\n| classifier (train, test) | test accuracy % | train % | held-out % | epochs (best) |\n|---|---|---|---|---|\n"
            for k in c.keys.sorted() {
                let name = k.replacingOccurrences(of: "|", with: "\\|")
                if let fit = r.classifierFits?[k] {
                    out += String(format: "| %@ | %.2f | %.2f | %.2f | %d (%d) |\n", name, c[k]!, 100 * fit.trainAccuracy, 100 * fit.validationAccuracy, fit.epochs, fit.bestEpoch)
                } else {
                    out += String(format: "| %@ | %.2f | – | – | – |\n", name, c[k]!)
                }
            }
        }
        return out
    }
}
