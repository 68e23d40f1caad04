import MVCore

/// How the ranks of a data-parallel run combine their gradients and apply the optimizer step
/// (README, "Training on a cluster"). The trainer's step is: forward, backward into the arena's
/// gradient buffer, `sumGradients`, its own checks, `update` (or, for an `IncrementalUpdate`: forward,
/// `sumGradients` of the control scalars, checks, then the backward pass with the update inside). Implementations:
/// - `LocalExchange`: one process, nothing to combine;
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
    /// parameters). Collective. Gradients outside it must stay zero (the tape writes none there).
    func train(_ range: Range<Int>) throws
    /// After the backward pass: the `count` control scalars after the gradients (`arena.control`),
    /// summed over ranks into `summed`, and the trainable gradients summed as `update` needs them.
    func sumGradients(control count: Int, into summed: UnsafeMutablePointer<Float>) throws
    /// The optimizer's step of this rank's block from the summed gradients times `gradScale`; afterwards
    /// every rank reads the updated parameters and every gradient is zero. Returns how many coordinates
    /// had a non-finite summed gradient anywhere (left unchanged) and the seconds of the optimizer pass
    /// itself (the rest of the call is exchange).
    func update(gradScale: Float) throws -> (skipped: Int, optimizerSeconds: Double)
    /// Every rank's copy of the optimizer moments made complete (before a checkpoint, which rank 0
    /// writes, and at the end of a stage). Collective.
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

/// An exchange that takes the optimizer step block by block during the backward pass, as the tape
/// reports each parameter's gradient complete (`LocalExchange`: one process has nothing to combine
/// first). The trainer then runs its checks before the backward pass (they need only the loss), and
/// the step's parameter bits are those of `update(gradScale:)` after the pass.
public protocol IncrementalUpdate: GradientExchange, ParameterGradientObserver {
    /// Starts a step: blocks reported from now on are updated with gradients times `gradScale`.
    func beginUpdate(gradScale: Float)
    /// Updates the coordinates of the optimizer block that no report covered (parameters this step's
    /// graph did not use: their moments still move), then returns what `update(gradScale:)` returns.
    func finishUpdate() -> (skipped: Int, optimizerSeconds: Double)
}

/// The settings of the exchange, read once from the environment. A value that is not one of the
/// allowed ones is an error naming the variable (the same on every rank, so every rank stops).
public struct ExchangeSettings: Equatable {
    public enum Kind: String, Equatable { case shared, rings }
    /// `MVVAE_EXCHANGE`: shared memory within a node (the default), or the flat rings.
    public var kind: Kind = .shared
    /// `MVVAE_RANKS_PER_NODE`: treat consecutive groups of this many ranks as nodes (tests).
    public var ranksPerNode: Int?

    public init(kind: Kind = .shared, ranksPerNode: Int? = nil) {
        self.kind = kind
        self.ranksPerNode = ranksPerNode
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
public func makeGradientExchange(comm: Communicator, arena: ParameterArena, optimizer: Adam, settings: ExchangeSettings,
                                 controlCount: Int) throws -> GradientExchange {
    guard comm.size > 1 else { return LocalExchange(arena: arena, optimizer: optimizer) }
    if settings.kind == .shared, let mpi = comm as? MPICommunicator, !mpi.usesLibraryCollectives,
       let shared = try SharedMemoryExchange.make(on: mpi, arena: arena, optimizer: optimizer, ranksPerNode: settings.ranksPerNode,
                                                  controlCount: controlCount) {
        return shared
    }
    return RingExchange(comm: comm, arena: arena, optimizer: optimizer)
}
