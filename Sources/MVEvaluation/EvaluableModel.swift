import Foundation
import MVConfig
import MVCore
import MVData
import MVModels
import MVTraining

/// What `mvvae evaluate` asks of a trained model: its report on the test split. Each family answers
/// in its own way (ModelEvaluations.swift); the tool needs no knowledge of which family it holds.
public protocol EvaluableModel: MultiViewModel {
    func evaluate(_ request: EvaluationRequest) throws -> EvaluationReport
}

/// A trained run's evaluation: its config, its data, and what the user asked for.
public struct EvaluationRequest {
    public let config: ExperimentConfig
    public let data: ExperimentData
    /// Names the run in report titles (its folder).
    public let run: String
    /// The checkpoint's step.
    public let step: Int
    /// Train the classifiers some reports include (false: skip them).
    public let classifiers: Bool
    /// Images of each kind in an image grid (0: no grid).
    public let gridImages: Int
    /// Where files beside the report go (a cross-generation grid).
    public let folder: String
    /// Progress lines.
    public let log: (String) -> Void

    public init(
        config: ExperimentConfig, data: ExperimentData, run: String, step: Int, classifiers: Bool, gridImages: Int,
        folder: String, log: @escaping (String) -> Void
    ) {
        self.config = config
        self.data = data
        self.run = run
        self.step = step
        self.classifiers = classifiers
        self.gridImages = gridImages
        self.folder = folder
        self.log = log
    }

    /// The training rows statistics and classifiers are fitted on: the first `evaluation.trainLimit` (0: all).
    public var trainRows: DataSubset {
        let limit = config.evaluation.trainLimit, train = data.train
        return limit > 0 && limit < train.count ? DataSubset(dataset: train.dataset, indices: Array(train.indices.prefix(limit))) : train
    }
}

/// A report: the JSON document (`evaluation.json`) and its Markdown tables (`evaluation.md`).
public struct EvaluationReport {
    public let json: Data
    public let markdown: String

    public init<Report: Encodable>(_ report: Report, markdown: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        json = try encoder.encode(report)
        self.markdown = markdown
    }
}

/// What `mvvae impute` asks of a trained model: the conditional that imputes missing views from observed ones.
public protocol ImputableModel: MultiViewModel {
    /// `trainingSplit` reads the run's training rows, for a conditional fitted on them.
    func imputer(config: ExperimentConfig, trainingSplit: () throws -> DataSubset) throws -> ConditionalImputer
}

extension ImputableModel where Self: ConditionalImputer {
    /// A model that imputes by itself.
    public func imputer(config: ExperimentConfig, trainingSplit: () throws -> DataSubset) throws -> ConditionalImputer { self }
}
