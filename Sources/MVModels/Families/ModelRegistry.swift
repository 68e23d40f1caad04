import MVConfig
import MVData

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
        /// Whether the family builds convolutional networks (`model.encoder`/`model.decoder` type conv).
        public let convolutional: Bool
        let build: (ExperimentConfig, [Int], [ViewShapes.ImageSize]?) throws -> MultiViewModel
    }

    public static let entries: [Entry] = [
        Entry(type: .jpvae, views: 2...2, formerName: { _ in nil }, convolutional: true) { config, dimensions, images in
            JPVAE(config: config.model, dimensions: dimensions, images: images, seed: config.seed)
        },
        Entry(type: .aggregated, views: 2...Int.max, formerName: FormerParameterNames.aggregated, convolutional: true) {
            AggregatedVAE(config: $0.model, dimensions: $1, images: $2, seed: $0.seed)
        },
        Entry(type: .covae, views: 2...Int.max, formerName: FormerParameterNames.oneBased, convolutional: true) {
            config, dimensions, images in
            try CoVAE(config: config.model, dimensions: dimensions, images: images, seed: config.seed)
        },
        Entry(type: .jnf, views: 2...Int.max, formerName: FormerParameterNames.oneBased, convolutional: true) {
            config, dimensions, images in
            try JNF(config: config.model, dimensions: dimensions, images: images, seed: config.seed)
        },
        Entry(type: .stagedProbe, views: 2...2, formerName: { _ in nil }, convolutional: false) { config, dimensions, _ in
            StagedProbe(config: config.model, dimensions: dimensions, seed: config.seed)
        },
    ]

    public static func entry(_ type: ModelConfig.Kind) -> Entry {
        guard let e = entries.first(where: { $0.type == type }) else { preconditionFailure("model type \(type) is not registered") }
        return e
    }

    /// The model `config` names, for data with views of `dimensions` (images of `images`, when they are).
    public static func makeModel(
        _ config: ExperimentConfig, dimensions: [Int], images: [ViewShapes.ImageSize]? = nil
    ) throws -> MultiViewModel {
        let e = entry(config.model.type)
        guard e.views.contains(dimensions.count) else {
            let wanted =
                e.views.upperBound == Int.max
                ? "at least \(e.views.lowerBound)" : e.views.count == 1 ? "exactly \(e.views.lowerBound)" : "\(e.views)"
            throw ConfigError.invalidValue(
                key: "model.type", message: "\(config.model.type.rawValue) needs \(wanted) views; the data has \(dimensions.count)")
        }
        let categories = config.model.categories
        for k in dimensions.indices where config.model.likelihood(view: k) == .categorical && categories > 0 {
            guard dimensions[k] % categories == 0 else {
                throw ConfigError.invalidValue(
                    key: "model.categories",
                    message: "view \(k + 1) has \(dimensions[k]) features, not whole tokens of \(categories) classes")
            }
        }
        for (key, network, decoder) in [("model.encoder", config.model.encoder, false), ("model.decoder", config.model.decoder, true)] {
            guard network.type != .mlp else { continue }
            guard e.convolutional else {
                throw ConfigError.invalidValue(
                    key: key,
                    message:
                        "type conv is not available for model.type \(config.model.type.rawValue) (the papers' families have it)"
                )
            }
            if let problem = ViewNetwork.problem(network, images: images, decoder: decoder) {
                throw ConfigError.invalidValue(key: key, message: problem)
            }
        }
        return try e.build(config, dimensions, images)
    }
}
