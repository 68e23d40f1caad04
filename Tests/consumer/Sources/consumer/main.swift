import MultiViewVAE

// Two views of a simulated linear-Gaussian data set, a product-of-experts VAE, one epoch on one process;
// then the latent of every row from view 1 alone and view 2 imputed from view 1.
let config = try ExperimentConfig.parse(
    yaml: """
        name: consumer
        seed: 7
        data: {source: linear-gaussian, modalities: 2, latentDimension: 2, dimensions: [5, 4], samples: 300}
        model: {type: aggregated, aggregator: poe, latent: 2, encoderHidden: [8], featureSize: 8, decoderHidden: [], likelihood: gaussian}
        training: {epochs: 2, batchSize: 30, learningRate: 0.01, validate: false}
        """)
let data = try ExperimentData(config: config.data, seed: config.seed)
let model = try ModelRegistry.makeModel(config, dimensions: data.dimensions)
let trainer = try Trainer(config: config, model: model, train: data.train, validation: nil, comm: LocalCommunicator())
var losses: [Double] = []
trainer.observer = { if case let .epochFinished(summary) = $0 { losses.append(summary.trainLoss) } }
guard try trainer.run() == .completed, losses.count == 2, losses[1] < losses[0] else {
    fatalError("training did not lower the loss: \(losses)")
}
guard let embedder = model as? EmbeddingModel, let imputer = model as? ImputableModel else { fatalError("no capabilities") }
let rows = data.test.matrix(view: 0)
let embedding = try embedder.embed([0: rows], seed: config.seed)
let imputed = try imputer.imputer(config: config) { data.train }
    .impute(observed: [0: rows], samples: 4, seed: config.seed, truth: [:])
print(
    "consumer: loss \(losses[0]) → \(losses[1]); \(embedding.mean.rows)×\(embedding.mean.cols) latent means; view 2 imputed as "
        + "\(imputed[0].mean.rows)×\(imputed[0].mean.cols)"
)
