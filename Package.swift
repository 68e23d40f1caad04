// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "MultiViewVAE",
    products: [
        .library(name: "MultiViewVAE", targets: ["MultiViewVAE"]),
        .executable(name: "mvvae", targets: ["mvvae"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
    ],
    targets: [
        // System libraries: each module map wraps one C library found through pkg-config.
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .systemLibrary(name: "CLinearAlgebra", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        // The step's elementwise kernels (AVX-512 where the CPU has it, chosen at run time).
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-ffp-contract=off"])]),
        .target(
            name: "MultiViewVAE",
            dependencies: [
                "CMPI", "CLinearAlgebra", "CKernels", "CZlib", "CPNG",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]
        ),
        .executableTarget(
            name: "mvvae",
            dependencies: [
                "MultiViewVAE",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "MultiViewVAETests", dependencies: ["MultiViewVAE", "CLinearAlgebra", "CKernels"]),
    ],
    swiftLanguageModes: [.v5]
)
