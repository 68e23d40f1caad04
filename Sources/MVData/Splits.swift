import MVCore
import MVIO

/// The size of a held-out part: a fraction of the available samples or an exact count.
public enum SplitSize: Equatable, Sendable {
    case fraction(Double)
    case count(Int)

    public static let none = SplitSize.count(0)

    /// The number of samples out of `total`; fractions round to the nearest integer.
    func resolve(total: Int, part: String) throws -> Int {
        switch self {
        case .fraction(let f):
            guard f.isFinite, f >= 0, f < 1 else {
                throw DataError.badSplit(reason: "the \(part) fraction is \(f); use a value in [0, 1), e.g. 0.1")
            }
            return Int((f * Double(total)).rounded())
        case .count(let c):
            guard c >= 0, c <= total else {
                throw DataError.badSplit(
                    reason: "the \(part) count is \(c) but only \(total) samples are available; use a count between 0 and \(total)")
            }
            return c
        }
    }
}

/// Train / validation / test subsets drawn reproducibly from a seed.
///
/// The held-out parts are taken from one permutation of the sample indices drawn from the `split`
/// random stream, so the same seed gives the same split on every machine and world size.
public struct DataSplits: Sendable {
    public let train: DataSubset
    public let validation: DataSubset
    public let test: DataSubset

    /// One data set (e.g. .npy files) carved into three parts: test first, then validation, the rest trains.
    public init(dataset: MultiViewDataset, validation: SplitSize, test: SplitSize, seed: UInt64) throws {
        let n = dataset.count
        guard n > 0 else { throw DataError.badSplit(reason: "the data set has no samples") }
        let nTest = try test.resolve(total: n, part: "test")
        let nValidation = try validation.resolve(total: n, part: "validation")
        guard nTest + nValidation < n else {
            throw DataError.badSplit(
                reason:
                    "test (\(nTest)) and validation (\(nValidation)) samples leave nothing of the \(n) samples to train on; make "
                    + "them smaller"
            )
        }
        let order = Self.permutation(n, seed: seed)
        self.test = DataSubset(dataset: dataset, indices: order[0..<nTest].sorted())
        self.validation = DataSubset(dataset: dataset, indices: order[nTest..<(nTest + nValidation)].sorted())
        self.train = DataSubset(dataset: dataset, indices: order[(nTest + nValidation)...].sorted())
    }

    /// A separate test set (e.g. Fashion-MNIST t10k); the validation part is carved out of `train`.
    public init(train: MultiViewDataset, test: MultiViewDataset, validation: SplitSize, seed: UInt64) throws {
        guard train.dimensions == test.dimensions else {
            throw DataError.badSplit(
                reason:
                    "the test set's view dimensions \(test.dimensions) differ from the training set's \(train.dimensions); use "
                    + "data with the same views"
            )
        }
        let n = train.count
        guard n > 0 else { throw DataError.badSplit(reason: "the training set has no samples") }
        let nValidation = try validation.resolve(total: n, part: "validation")
        guard nValidation < n else {
            throw DataError.badSplit(
                reason: "validation (\(nValidation)) samples leave nothing of the \(n) training samples to train on; make it smaller")
        }
        let order = Self.permutation(n, seed: seed)
        self.validation = DataSubset(dataset: train, indices: order[0..<nValidation].sorted())
        self.train = DataSubset(dataset: train, indices: order[nValidation...].sorted())
        self.test = DataSubset.all(test)
    }

    private static func permutation(_ n: Int, seed: UInt64) -> [Int] {
        var rng = RandomStream(seed: seed, stream: RandomPurpose.split.stream())
        return rng.permutation(n)
    }
}

extension DataSplits {
    /// Splits assembled from parts already chosen (e.g. limited to their first rows).
    package init(train: DataSubset, validation: DataSubset, test: DataSubset) {
        self.train = train
        self.validation = validation
        self.test = test
    }
}
