import Foundation
import MVConfig
import MVCore
import MVData
import MVModels
import MVTraining

// Each family's evaluation (`mvvae evaluate`) and imputation (`mvvae impute`), so that the tool reaches
// every model through `EvaluableModel` and `ImputableModel` alone.

/// JPVAE: the paper's metrics (JPVAEEvaluation).
extension JPVAE: EvaluableModel, ImputableModel {
    public func evaluate(_ request: EvaluationRequest) throws -> EvaluationReport {
        let evaluation = JPVAEEvaluation(model: self, seed: request.config.seed, config: request.config.evaluation)
        let report = try evaluation.run(
            train: request.trainRows, test: request.data.test, classify: request.classifiers, progress: request.log)
        let title =
            "\(request.run) (C: \(request.config.model.jpvae.prior.cross.rawValue), step \(request.step), \(report.testRows) test rows)"
        return try EvaluationReport(report, markdown: JPVAEEvaluation.markdown(report, title: title))
    }

    /// The conditional `evaluation.imputation` names; Eq. 12 is fitted on the training split's latents.
    public func imputer(config: ExperimentConfig, trainingSplit: () throws -> DataSubset) throws -> ConditionalImputer {
        let evaluation = JPVAEEvaluation(model: self, seed: config.seed, config: config.evaluation)
        var trainPosteriors: [(mean: Matrix, logVar: Matrix)] = []
        if config.evaluation.imputation == .empirical {
            let train: DataSubset
            do { train = try trainingSplit() } catch {
                throw ImputationError(
                    description:
                        "JPVAE's empirical imputation (evaluation.imputation: empirical, Eq. 12) is fitted on the run's training "
                        + "split, which cannot be read (\(error)); put the data back where the run's config says, or impute "
                        + "from the learnt prior's conditional with --set evaluation.imputation=priorMean (or priorSamples)"
                )
            }
            let inference = JPVAEInference(model: self, seed: config.seed)
            trainPosteriors = (0..<2).map { inference.encode(view: $0, train.matrix(view: $0)) }
        }
        return JPVAEImputer(model: self, conditional: try evaluation.conditional(trainPosteriors: trainPosteriors))
    }
}

/// The aggregated VAE: the importance-sampled evaluation, a cross-generation grid for image data,
/// generation statistics with two modalities, coherence on labelled data, and the exact evaluation
/// when the data is the linear-Gaussian simulation.
extension AggregatedVAE: EvaluableModel, ImputableModel {
    public func evaluate(_ request: EvaluationRequest) throws -> EvaluationReport {
        let config = request.config, data = request.data, train = request.trainRows
        var report = try AggregatedEvaluation(model: self, config: config.evaluation, seed: config.seed)
            .run(train: train, test: data.test, unmaskedTest: data.unmaskedTest, classify: request.classifiers, progress: request.log)
        if let cut = data.imageCut, request.gridImages > 0 {
            let path = (request.folder as NSString).appendingPathComponent("cross-generation.png")
            let grid = CrossGenerationGrid(model: self, layout: .init(height: cut.height, width: cut.width, pixels: cut.pixels))
            report.crossGenerationGrid = try grid.write(test: data.test, truth: data.unmaskedTest, images: request.gridImages, to: path)
                .path
        }
        var file = AggregatedEvaluationFile(general: report)
        if viewDimensions.count == 2, privateLatents == nil {
            // An extra section: with too few rows observing both views (partially paired data, a small test
            // split) it is left out with a note, and the rest of the evaluation stands.
            let paired = (data.test.completeRows().count, train.completeRows().count)
            if paired.0 >= 2 && paired.1 >= 1 {
                request.log("generation statistics (decoder-input correlations, spreads, conditional and joint −log p)")
                file.generation = try GenerationStatistics.report(self, request)
            } else {
                request.log(
                    "generation statistics skipped: \(paired.0) test and \(paired.1) training rows observe both views (2 and 1 needed)")
            }
        }
        if request.classifiers, data.train.labels != nil {
            request.log("coherence (a classifier per modality, conditional from every subset, joint from the prior)")
            let complete = data.test.completeRows()
            if complete.count > 0 {
                file.coherence = try Coherence(train: train.completeRows(), config: config.evaluation, seed: config.seed)
                    .run(imputer: self, generator: self, test: complete, progress: request.log)
            }
        }
        if let sim = data.simulation {
            // The exact evaluation fits PPCA on complete rows: the training rows before any simulated drops.
            let rows = DataSubset(dataset: sim.dataset, indices: data.train.indices)
            do {
                file.linearGaussian = try AggregatedLinearGaussianEvaluation(model: self).run(rows: rows, trueLatents: sim.latents)
            } catch let e as AggregatedLinearGaussianEvaluation.Failure {
                file.linearGaussianSkipped = "\(e)"
            }
        }
        let aggregated = config.model.aggregated
        let title = "\(request.run) (\(aggregated.aggregator.rawValue), \(aggregated.bound.rawValue) bound, step \(request.step))"
        return try EvaluationReport(file, markdown: file.markdown(title: title))
    }
}

/// JNF: importance-sampled log-likelihoods for every subset and coherence (JNFEvaluation).
extension JNF: EvaluableModel, ImputableModel {
    public func evaluate(_ request: EvaluationRequest) throws -> EvaluationReport {
        let report = try JNFEvaluation(model: self, config: request.config.evaluation, seed: request.config.seed)
            .run(train: request.trainRows, test: request.data.test, coherence: request.classifiers, progress: request.log)
        let title = "\(request.run) (jnf \(settings.variant.rawValue), \(modalities) views, step \(request.step))"
        return try EvaluationReport(report, markdown: JNFEvaluation.markdown(report, title: title))
    }

    /// Hamiltonian Monte Carlo for two or more observed modalities (JNFInference).
    public func imputer(config: ExperimentConfig, trainingSplit: () throws -> DataSubset) throws -> ConditionalImputer {
        JNFImputer(model: self)
    }
}

/// CoVAE: the paper's generation statistics with two modalities, leave-one-out imputation with more.
extension CoVAE: EvaluableModel, ImputableModel {
    public func evaluate(_ request: EvaluationRequest) throws -> EvaluationReport {
        let data = request.data
        if modalities > 2 {
            let report = try CoVAESubsetEvaluation(
                model: self, seed: request.config.seed, samples: request.config.evaluation.importanceSamples
            )
            .run(train: data.train, test: data.test)
            let title = "\(request.run) (covae, \(modalities) views, step \(request.step))"
            return try EvaluationReport(report, markdown: CoVAESubsetEvaluation.markdown(report, title: title))
        }
        let report = try GenerationStatistics.report(self, request)
        return try EvaluationReport(
            report, markdown: GenerationStatistics.markdown(report, title: "\(request.run) (covae, step \(request.step))"))
    }
}

extension GenerationStatistics {
    /// The CoVAE paper's statistics of generated pairs on the test split, with the ground-truth
    /// correlation when the data is `correlated`.
    static func report(_ model: PairGenerationModel, _ request: EvaluationRequest) throws -> Report {
        let samples = request.config.evaluation.importanceSamples
        var report = try GenerationStatistics(model: model, seed: request.config.seed, samples: samples, importanceSamples: samples)
            .run(train: request.data.train, test: request.data.test)
        report.dataCorrelation = request.data.pairs?.groundTruthCorrelation
        return report
    }
}
