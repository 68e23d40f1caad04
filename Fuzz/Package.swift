// swift-tools-version:6.1
// Coverage-guided fuzz targets for the readers of user-supplied files (see README.md here).
// A package of its own so that the product's build never needs libFuzzer: build it with
// scripts/fuzz.sh, which instruments everything (this package and MultiViewVAE) for libFuzzer and ASan.
import PackageDescription

let readers = ["npy", "idx", "safetensors", "state", "yaml", "hdf5"]

let package = Package(
    name: "MultiViewVAEFuzz",
    dependencies: [.package(name: "MultiViewVAE", path: "..")],
    targets: [
        // libFuzzer's entry point, declared for Swift (its main is not used: SwiftPM owns main).
        .target(name: "CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"]),
    ]
        + readers.map { reader in
            .executableTarget(
                name: "fuzz-\(reader)",
                dependencies: [
                    "FuzzSupport", .product(name: "MultiViewVAE", package: "MultiViewVAE"),
                ])
        },
    swiftLanguageModes: [.v5]
)
