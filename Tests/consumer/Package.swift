// swift-tools-version:6.1
// A package of a user's: it depends on MultiViewVAE as any package would and trains, encodes and imputes
// with it (Tests/consumer/check.sh copies it outside the repository and points the dependency here).
import PackageDescription

let package = Package(
    name: "consumer",
    dependencies: [.package(name: "MultiViewVAE", path: "MULTIVIEWVAE_PATH")],
    targets: [.executableTarget(name: "consumer", dependencies: [.product(name: "MultiViewVAE", package: "MultiViewVAE")])]
)
