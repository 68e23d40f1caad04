import MVCore

/// How the ranks of a data-parallel run combine their gradients and apply the optimizer step
/// (README, "Training on a cluster"). The exchange owns the order of a step's second half (`step`):
/// after the trainer's forward pass it runs the backward pass, sums gradients and the step's totals
/// over ranks, lets the trainer check them, and applies the optimizer. Implementations:
/// - `LocalExchange`: one process, nothing to combine: the control scalars are checked first and Adam
///   steps each parameter during the backward pass, as its gradient completes;
/// - `RingExchange`: a reduce-scatter of the gradients (rank r receives the sum of its block), Adam on
///   that block, an allgather of the updated parameters;
/// - `SharedMemoryExchange`: ranks of one node share parameters, moments and gradient buffers;
/// - `TwoLevelExchange`: shared memory within each node, a ring per block between nodes.
/// Every rank ends a step with the same parameter bits, whatever the implementation.
///
/// The exchange works on the arena's trainable range only (`train(_:)`): a training stage that
/// freezes most parameters exchanges and updates only the rest.
public protocol GradientExchange: AnyObject {
    /// What the training log says: "none", "rings", "shared memory", "shared memory on N nodes of …".
    var description: String { get }
    /// The coordinates whose Adam update this rank computes.
    var optimizerBlock: Range<Int> { get }
    /// Restricts the exchange and the optimizer to `range` of the arena (a stage's trainable
    /// parameters), with every rank's optimizer moments complete first. Collective. Gradients outside
    /// it must stay zero (the tape writes none there).
    func train(_ range: Range<Int>) throws
    /// One step after the forward pass, in the order this exchange needs: `backward` runs the tape's
    /// reverse pass into the arena's gradient buffer (handing it the observer to report finished
    /// parameters to, when the exchange updates during the pass); the `count` control scalars after
    /// the gradients (`arena.control`) are summed over ranks into `summed`; `check` reads them and
    /// returns the gradient scale, or throws to stop before any parameter changes; then the optimizer
    /// step. Afterwards every rank reads the updated parameters and every gradient is zero.
    func step(
        control count: Int, into summed: UnsafeMutablePointer<Float>,
        backward: (ParameterGradientObserver?) throws -> Void,
        check: (UnsafeMutablePointer<Float>) throws -> Float
    ) throws -> ExchangeStep
    /// After the backward pass: the `count` control scalars after the gradients (`arena.control`),
    /// summed over ranks into `summed`, and the trainable gradients summed as `update` needs them.
    func sumGradients(control count: Int, into summed: UnsafeMutablePointer<Float>) throws
    /// The optimizer's step of this rank's block from the summed gradients times `gradScale`; afterwards
    /// every rank reads the updated parameters and every gradient is zero. Returns how many coordinates
    /// had a non-finite summed gradient anywhere (left unchanged) and the seconds of the optimizer pass
    /// itself (the rest of the call is exchange).
    func update(gradScale: Float) throws -> (skipped: Int, optimizerSeconds: Double)
    /// Every rank's copy of the optimizer moments made complete (before a checkpoint, which rank 0
    /// writes). Collective.
    func gatherOptimizerState() throws
    /// Adam's moments zeroed and its step count reset, on every rank (a stage that restarts it). Collective.
    func restartOptimizer() throws
    /// Writes `values` into the parameters from `offset` on, given the same values on every rank (the
    /// result of an end-of-stage computation). Collective.
    func assign(_ values: [Float], at offset: Int) throws
    /// Ends the run's exchange: the arena and the optimizer hold private copies again. Collective.
    func finish() throws
    /// After an error that other ranks may not share: private copies again, nothing collective.
    func abandon()
}

/// What a step of the exchange did: coordinates with a non-finite summed gradient anywhere (left
/// unchanged), and where its time went.
public struct ExchangeStep {
    public var skipped = 0
    public var backwardSeconds = 0.0, exchangeSeconds = 0.0, optimizerSeconds = 0.0
}

extension GradientExchange {
    public func step(
        control count: Int, into summed: UnsafeMutablePointer<Float>,
        backward: (ParameterGradientObserver?) throws -> Void,
        check: (UnsafeMutablePointer<Float>) throws -> Float
    ) throws -> ExchangeStep {
        try stepAfterBackward(control: count, into: summed, backward: backward, check: check)
    }

    /// The order of every exchange that needs the summed gradients before the optimizer: backward,
    /// sum over ranks, check, update.
    public func stepAfterBackward(
        control count: Int, into summed: UnsafeMutablePointer<Float>,
        backward: (ParameterGradientObserver?) throws -> Void,
        check: (UnsafeMutablePointer<Float>) throws -> Float
    ) throws -> ExchangeStep {
        var done = ExchangeStep()
        let start = monotonicSeconds()
        try backward(nil)
        let reduceStart = monotonicSeconds()
        try sumGradients(control: count, into: summed)
        let reduceEnd = monotonicSeconds()
        let gradScale = try check(summed)
        let updateStart = monotonicSeconds()
        let update = try update(gradScale: gradScale)
        done.skipped = update.skipped
        done.backwardSeconds = reduceStart - start
        done.optimizerSeconds = update.optimizerSeconds
        done.exchangeSeconds = reduceEnd - reduceStart + monotonicSeconds() - updateStart - update.optimizerSeconds
        return done
    }
}

/// The settings of the exchange, read once from the environment. A value that is not one of the
/// allowed ones is an error naming the variable (the same on every rank, so every rank stops).
public struct ExchangeSettings: Equatable {
    public enum Kind: String, Equatable { case shared, rings }
    /// `MVVAE_EXCHANGE`: shared memory within a node (the default), or the flat rings.
    public var kind: Kind = .shared
    /// `MVVAE_RANKS_PER_NODE`: treat consecutive groups of this many ranks as nodes (tests).
    public var ranksPerNode: Int?
    /// One process: Adam steps each parameter during the backward pass, as its gradient completes
    /// (false: one pass afterwards, the same bits; for tests).
    public var updatesDuringBackward = true
    /// Steps between the checks that every rank holds the same parameters (a checksum compared over ranks).
    public var replicaCheckEvery = 100

    public init(kind: Kind = .shared, ranksPerNode: Int? = nil, updatesDuringBackward: Bool = true, replicaCheckEvery: Int = 100) {
        self.kind = kind
        self.ranksPerNode = ranksPerNode
        self.updatesDuringBackward = updatesDuringBackward
        self.replicaCheckEvery = replicaCheckEvery
    }

    public static func fromEnvironment(_ env: [String: String]) throws -> ExchangeSettings {
        var settings = ExchangeSettings()
        if let text = env["MVVAE_EXCHANGE"] {
            guard let kind = Kind(rawValue: text) else {
                throw ExchangeSettingError("MVVAE_EXCHANGE must be 'shared' (the default) or 'rings', got '\(text)'")
            }
            settings.kind = kind
        }
        if let text = env["MVVAE_RANKS_PER_NODE"] {
            guard let k = Int(text), k >= 1 else {
                throw ExchangeSettingError("MVVAE_RANKS_PER_NODE must be a whole number ≥ 1, got '\(text)'")
            }
            settings.ranksPerNode = k
        }
        return settings
    }
}

/// An environment setting of the gradient exchange that is not one of its values.
public struct ExchangeSettingError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The exchange for `comm`: one process → local; ranks that share memory (and `settings` allow it) →
/// shared memory, two-level across nodes of equal size; otherwise the rings. Collective.
public func makeGradientExchange(
    comm: Communicator, arena: ParameterArena, optimizer: Adam, settings: ExchangeSettings,
    controlCount: Int
) throws -> GradientExchange {
    guard comm.size > 1 else {
        return LocalExchange(arena: arena, optimizer: optimizer, updatesDuringBackward: settings.updatesDuringBackward)
    }
    if settings.kind == .shared, let mpi = comm as? MPICommunicator, !mpi.usesLibraryCollectives,
        let shared = try SharedMemoryExchange.make(
            on: mpi, arena: arena, optimizer: optimizer, ranksPerNode: settings.ranksPerNode,
            controlCount: controlCount)
    {
        return shared
    }
    return RingExchange(comm: comm, arena: arena, optimizer: optimizer)
}
