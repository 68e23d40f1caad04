// swift-tools-version:6.1
import PackageDescription

// The library in layers, each a target that may use only the ones above it in this list (the compiler
// refuses a cycle): Core ← IO ← Config ← Distributed ← Data ← Models ← Training ← Evaluation.
// `MultiViewVAE` re-exports them all as one library; `mvvae` is the command-line tool on top.
let layers: [Target.Dependency] = [
    "MVCore", "MVIO", "MVConfig", "MVDistributed", "MVData", "MVModels", "MVTraining", "MVEvaluation",
]

let package = Package(
    name: "MultiViewVAE",
    products: [
        .library(name: "MultiViewVAE", targets: ["MultiViewVAE"]),
        .executable(name: "mvvae", targets: ["mvvae"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // System libraries: each module map wraps one C library found through pkg-config.
        .systemLibrary(
            name: "CMPI", pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .systemLibrary(
            name: "CLinearAlgebra", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        // The step's elementwise kernels (AVX-512 where the CPU has it, chosen at run time).
        .target(name: "CKernels"),
        // Tensors, BLAS/LAPACK, random streams, the tape and its ops, the parameter arena, Adam, the
        // Communicator protocol.
        .target(name: "MVCore", dependencies: ["CLinearAlgebra", "CKernels"]),
        // Files: POSIX I/O, safetensors, .npy, IDX + gzip, PNG, TensorBoard event files, HDF5 (AnnData).
        .target(name: "MVIO", dependencies: ["MVCore", "CZlib", "CPNG", "CHDF5"]),
        // The strict YAML configuration.
        .target(name: "MVConfig", dependencies: ["MVCore", .product(name: "Yams", package: "Yams")]),
        // MPI and the gradient exchanges.
        .target(name: "MVDistributed", dependencies: ["MVCore", "CMPI", "CKernels"]),
        // Data sets, splits, the batch, the simulated sets.
        .target(name: "MVData", dependencies: ["MVCore", "MVIO", "MVConfig", "CKernels"]),
        // Layers, distributions, priors, aggregators, objectives and the papers' models.
        .target(name: "MVModels", dependencies: ["MVCore", "MVConfig", "MVData"]),
        // The trainer, stages, checkpoints, metrics, a run's data.
        .target(
            name: "MVTraining",
            dependencies: ["MVCore", "MVIO", "MVConfig", "MVDistributed", "MVData", "MVModels"]),
        // Metrics, embeddings, imputation, generation, yardsticks.
        .target(
            name: "MVEvaluation",
            dependencies: ["MVCore", "MVIO", "MVConfig", "MVDistributed", "MVData", "MVModels", "MVTraining"]),
        // The library product: every layer re-exported.
        .target(name: "MultiViewVAE", dependencies: layers),
        .executableTarget(
            name: "mvvae",
            dependencies: ["MultiViewVAE", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "MultiViewVAETests", dependencies: ["MultiViewVAE", "CLinearAlgebra", "CKernels"] + layers),
    ],
    swiftLanguageModes: [.v5]
)
