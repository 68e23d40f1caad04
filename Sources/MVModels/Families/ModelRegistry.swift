import MVConfig

/// One place per model type: `model.type` → how many views it reads and how it is built. Adding a
/// model touches Models/, Objectives/ and Config/ only: the trainer, checkpoints and the CLI go through
/// `MultiViewModel`, its recipe and this registry.
public enum ModelRegistry {
    public struct Entry {
        public let type: ModelConfig.Kind
        /// The numbers of views the model can read.
        public let views: ClosedRange<Int>
        /// The name a parameter had in checkpoints written before every family named its views alike
        /// (`view1`, `view2`, …), or nil where it has not changed (`FormerParameterNames`).
        public let formerName: (String) -> String?
        let build: (ExperimentConfig, [Int]) throws -> MultiViewModel
    }

    public static let entries: [Entry] = [
        Entry(type: .jpvae, views: 2...2, formerName: { _ in nil }) { JPVAE(config: $0.model, dimensions: $1, seed: $0.seed) },
        Entry(type: .aggregated, views: 2...Int.max, formerName: FormerParameterNames.aggregated) {
            AggregatedVAE(config: $0.model, dimensions: $1, seed: $0.seed)
        },
        Entry(type: .covae, views: 2...Int.max, formerName: FormerParameterNames.oneBased) {
            try CoVAE(config: $0.model, dimensions: $1, seed: $0.seed)
        },
        Entry(type: .jnf, views: 2...Int.max, formerName: FormerParameterNames.oneBased) {
            try JNF(config: $0.model, dimensions: $1, seed: $0.seed)
        },
        Entry(type: .stagedProbe, views: 2...2, formerName: { _ in nil }) { StagedProbe(config: $0.model, dimensions: $1, seed: $0.seed) },
    ]

    public static func entry(_ type: ModelConfig.Kind) -> Entry {
        guard let e = entries.first(where: { $0.type == type }) else { preconditionFailure("model type \(type) is not registered") }
        return e
    }

    /// The model `config` names, for data with views of `dimensions`.
    public static func makeModel(_ config: ExperimentConfig, dimensions: [Int]) throws -> MultiViewModel {
        let e = entry(config.model.type)
        guard e.views.contains(dimensions.count) else {
            let wanted =
                e.views.upperBound == Int.max
                ? "at least \(e.views.lowerBound)" : e.views.count == 1 ? "exactly \(e.views.lowerBound)" : "\(e.views)"
            throw ConfigError.invalidValue(
                key: "model.type", message: "\(config.model.type.rawValue) needs \(wanted) views; the data has \(dimensions.count)")
        }
        return try e.build(config, dimensions)
    }
}
