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
            guard let model = ctx.model as? EvaluableModel else {
                throw ValidationError("mvvae evaluate does not support '\(ctx.config.model.type.rawValue)' runs")
            }
            let data = try ExperimentData(config: ctx.config.data, seed: ctx.config.seed)
            let path = output ?? (runFolder as NSString).appendingPathComponent("evaluation.json")
            let start = monotonicSeconds()
            let request = EvaluationRequest(
                config: ctx.config, data: data, run: runFolder, step: ctx.checkpoint.state.training.step,
                classifiers: !noClassifiers, gridImages: gridImages,
                folder: (path as NSString).deletingLastPathComponent
            ) { print("evaluate: \($0)") }
            let report = try model.evaluate(request)
            // The tables first: a report that cannot be written (a read-only folder, a full disk) is not lost.
            print(report.markdown)
            let markdownPath = (path as NSString).deletingPathExtension + ".md"
            do {
                try report.json.write(to: URL(fileURLWithPath: path), options: .atomic)
                try report.markdown.write(toFile: markdownPath, atomically: true, encoding: .utf8)
            } catch {
                let reason = (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
                throw ReportNotWritten(
                    description: "the report is printed above but could not be written to \(path) and \(markdownPath): \(reason) "
                        + "(give --output in a writable folder)")
            }
            print(String(format: "evaluation took %.1f s; written to %@ and %@", monotonicSeconds() - start, path, markdownPath))
        } catch let e as ValidationError {
            throw e
        } catch {
            FileHandle.standardError.write("mvvae evaluate: \(error)\n".data(using: .utf8)!)
            throw ExitCode(1)
        }
    }
}

/// The evaluation ran and was printed; only writing it failed.
struct ReportNotWritten: Error, CustomStringConvertible {
    let description: String
}
