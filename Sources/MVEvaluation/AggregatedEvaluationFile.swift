import Foundation

/// What `mvvae evaluate` writes for an aggregated run: the general (importance-sampled) report's keys at
/// the top level and, on linear-Gaussian data, the exact report nested under `linearGaussian` (both have
/// a `fullRate`, over different rows; scripts/summarize_lineargaussian.py reads the nested one).
public struct AggregatedEvaluationFile: Codable {
    public var general: AggregatedEvaluation.Report
    public var linearGaussian: AggregatedLinearGaussianEvaluation.Report?
    /// Why the exact evaluation did not run on linear-Gaussian data (nonlinear decoders, say).
    public var linearGaussianSkipped: String?
    /// Two modalities: the CoVAE paper's generation statistics (`GenerationStatistics`).
    public var generation: GenerationStatistics.Report?
    /// Labelled data: coherence (`Coherence`).
    public var coherence: Coherence.Report?

    public init(general: AggregatedEvaluation.Report) { self.general = general }

    enum Keys: String, CodingKey { case linearGaussian, linearGaussianSkipped, generation, coherence }

    public func encode(to encoder: Encoder) throws {
        try general.encode(to: encoder)
        var c = encoder.container(keyedBy: Keys.self)
        try c.encodeIfPresent(linearGaussian, forKey: .linearGaussian)
        try c.encodeIfPresent(linearGaussianSkipped, forKey: .linearGaussianSkipped)
        try c.encodeIfPresent(generation, forKey: .generation)
        try c.encodeIfPresent(coherence, forKey: .coherence)
    }

    public init(from decoder: Decoder) throws {
        general = try AggregatedEvaluation.Report(from: decoder)
        let c = try decoder.container(keyedBy: Keys.self)
        linearGaussian = try c.decodeIfPresent(AggregatedLinearGaussianEvaluation.Report.self, forKey: .linearGaussian)
        linearGaussianSkipped = try c.decodeIfPresent(String.self, forKey: .linearGaussianSkipped)
        generation = try c.decodeIfPresent(GenerationStatistics.Report.self, forKey: .generation)
        coherence = try c.decodeIfPresent(Coherence.Report.self, forKey: .coherence)
    }

    /// The report as Markdown tables.
    public func markdown(title: String) -> String {
        let r = general
        func f(_ v: Double?, _ spec: String = "%.2f") -> String { v.map { String(format: spec, $0) } ?? "–" }
        var out = "\n### \(title)\n\n"
        out += "Test split, \(r.testRows) rows, importance sampling with N = \(r.importanceSamples) draws from q(z | x_M), "
        out += "M = each row's observed modalities.\n\n"
        out +=
            "| log p(x_M) per row | per observed feature | full rate KL(q(z\\|x_M) ‖ p) | linear classifier accuracy % | majority "
            + "class % |\n"
        out += "|---|---|---|---|---|\n"
        out +=
            "| \(f(r.logLikelihood)) | \(f(r.logLikelihoodPerFeature, "%.4f")) | \(f(r.fullRate)) | "
            + "\(f(r.classificationAccuracy)) | \(f(r.classificationBaseline)) |\n\n"
        if let fit = r.classifierFit {
            out += String(
                format:
                    "The linear classifier (logistic regression on E_q[z | x_M]) trained %d epochs, keeping epoch %d: %.2f %% on "
                    + "its training rows, %.2f %% on the %d rows it held out.\n\n",
                fit.epochs, fit.bestEpoch, 100 * fit.trainAccuracy, 100 * fit.validationAccuracy, fit.validationRows)
        }
        out += "| modality | rows | log p(x_s \\| x_rest) | per feature | cross-rec. MSE | cross-rec. NLL | full-rec. MSE | full-rec. NLL |"
        if r.missingImputation != nil { out += " dropped rows | dropped: imputation MSE | dropped: NLL |" }
        out += "\n|---|---|---|---|---|---|---|---|" + (r.missingImputation != nil ? "---|---|---|" : "") + "\n"
        for (s, c) in r.conditional.enumerated() {
            let full = r.fullReconstruction[s]
            out += "| \(c.modality) | \(c.rows) | \(f(c.logLikelihood)) | \(f(c.logLikelihoodPerFeature, "%.4f")) | "
            out += "\(f(c.crossReconstruction.mse, "%.4f")) | \(f(c.crossReconstruction.nll)) | \(f(full.mse, "%.4f")) | \(f(full.nll)) |"
            if let m = r.missingImputation?[s] { out += " \(m.rows) | \(f(m.mse, "%.4f")) | \(f(m.nll)) |" }
            out += "\n"
        }
        out += "\nlog p(x_s | x_rest) = log p(x_M) − log p(x_{M∖s}) on rows observing s and another modality; "
        out += "cross-reconstruction decodes s from z ~ q(z | x_{M∖s}), full reconstruction from z ~ q(z | x_M).\n"
        if let ridge = r.ridgeCrossReconstruction {
            out += "\nThe linear yardstick for the cross-reconstruction: ridge regression of each modality on the others "
            out +=
                "(λ chosen on a held-out tenth of the complete training rows; NLL under its own Gaussian residual variance, or "
                + "clipped cross-entropy).\n\n"
            out +=
                "| modality | complete test rows | ridge MSE | ridge NLL | the model's cross-rec. MSE | the model's cross-rec. "
                + "NLL |\n|---|---|---|---|---|---|\n"
            for (s, b) in ridge.enumerated() {
                let c = r.conditional[s].crossReconstruction
                out += "| \(b.modality) | \(b.rows) | \(f(b.mse, "%.4f")) | \(f(b.nll)) | \(f(c.mse, "%.4f")) | \(f(c.nll)) |\n"
            }
        }
        if let grid = r.crossGenerationGrid {
            out += "\nCross-generation grid: \(grid) (per image: observed views with the others grey | generated | truth).\n"
        }
        if let lg = linearGaussian {
            out += "\nExact (linear-Gaussian decoders), \(lg.rows) training rows:\n\n"
            out += "| LLH model | LLH MLE (PPCA) | relative gap | weak MCC | strong MCC | full rate |\n|---|---|---|---|---|---|\n"
            out += String(
                format: "| %.4f | %.4f | %.3e | %.4f | %.4f | %.3f |\n", lg.modelLogLikelihood, lg.mleLogLikelihood,
                lg.relativeGap, lg.weakMCC, lg.strongMCC, lg.fullRate)
            if let rd = lg.rateDistortion {
                out += String(
                    format:
                        "\nRate–distortion (training rows): full reconstruction %.3f, full rate %.3f, cross reconstruction %.3f, "
                        + "cross rate %.3f\n",
                    rd.fullReconstruction, rd.fullRate, rd.crossReconstruction, rd.crossRate)
            }
        }
        if let why = linearGaussianSkipped { out += "\nExact linear-Gaussian evaluation skipped: \(why)\n" }
        if let g = generation { out += GenerationStatistics.markdown(g, title: "Generated pairs") }
        if let c = coherence { out += "\nCoherence on the \(c.testRows) test rows with every modality:\n\n" + Coherence.markdown(c) }
        return out
    }
}
