// The library product: one `import MultiViewVAE` brings every layer's public API.
@_exported import MVConfig
@_exported import MVCore
@_exported import MVData
@_exported import MVDistributed
@_exported import MVEvaluation
@_exported import MVIO
@_exported import MVModels
@_exported import MVTraining
