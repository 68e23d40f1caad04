import CKernels
import CMPI
import Foundation
import MVCore

// `@exclusivity(unchecked)` on the properties the step touches: README, "The training step and the exchange".

/// Data-parallel exchange through shared memory for ranks on one node (MPI-3 shared windows), and
/// between nodes a ring over one rank per node and block.
///
/// With the rings alone, every step moves the gradients twice through MPI (reduce-scatter, then
/// allgather of the updated parameters): within a node that is two copies of the whole buffer plus the
/// waiting, about 2 ms of an 8–10 ms step for the reference workload at two ranks. Here the ranks of a
/// node instead share
///   - one parameter buffer (every rank's forward pass reads it) and the Adam moments,
///   - every rank's gradient buffer (each rank's backward pass writes its own),
/// and the node's parameters are split into one block per local rank. After the backward pass a
/// barrier; local rank l then sums block l of every local rank's gradients (in rank order — the rings
/// use a fixed cyclic order, the same bits at two ranks — and clears them). On one node its Adam pass
/// does that sum itself; with several nodes the block's sum is first
/// allreduced (a ring) among the ranks with local rank l on every node, so each node computes the same
/// update for block l. Adam writes the shared parameters; a second barrier, and the next forward pass
/// may read. Every node thus holds one copy of the parameters and moments, and between nodes each rank
/// sends 2(N−1)/N of its block per step instead of 2(P−1)/P of the whole buffer.
///
/// Used when every node runs the same number of ranks; otherwise (and with `MVVAE_EXCHANGE=rings` or
/// `MVVAE_COLLECTIVES=library`) the trainer uses the flat rings. `MVVAE_RANKS_PER_NODE=k` groups
/// consecutive ranks k at a time as if they were nodes (to test the multi-node path on one machine).
class SharedMemoryExchange: GradientExchange {
    /// The node's shared parameter buffer (`parameterCount` floats).
    public let parameters: UnsafeMutablePointer<Float>
    /// The node's shared Adam moments (`parameterCount` floats each).
    public let moments: (m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>)
    /// Every local rank's gradient buffer (`gradientCount` floats each), by local rank.
    public let gradients: [UnsafeMutablePointer<Float>]
    public let localRank: Int
    public let localSize: Int
    /// Nodes in the job (1: no cross-node ring).
    public let nodes: Int
    /// The parameter block this rank sums and updates: its local rank's share of the trainable range.
    @exclusivity(unchecked) public private(set) var block: Range<Int> = 0..<0
    /// The ranks with this local rank on every node, ordered by node (nil on one node).
    let cross: MPICommunicator?
    /// Block-sized sum of the node's gradients before the cross-node ring (multi-node only; sized for
    /// the largest block of the whole arena).
    let blockSum: UnsafeMutablePointer<Float>
    /// Every local rank's gradient buffer from `block.lowerBound` on, for the C kernels.
    let sourceTable: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    private let nodeComm: MPI_Comm
    @exclusivity(unchecked) private var windows: [MPI_Win?] = []
    private let communicator: MPICommunicator
    /// The arena and optimizer, on the node's buffers from `lend` to `finish`/`abandon`.
    @exclusivity(unchecked) private var loan: StorageLoan?
    @exclusivity(unchecked) private var arena: ParameterArena?, adam: Adam?
    /// Where each rank publishes its count of skipped coordinates: after the control scalars in its
    /// gradient buffer (written after the first barrier of a step, read after the second).
    @exclusivity(unchecked) private var skippedSlot = 0

    var optimizerBlock: Range<Int> { block }
    var description: String { "shared memory" }

    required init(communicator: MPICommunicator, nodeComm: MPI_Comm, crossComm: MPI_Comm?, parameterCount: Int, gradientCount: Int) throws {
        self.communicator = communicator
        self.nodeComm = nodeComm
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(nodeComm, &r)
        MPI_Comm_size(nodeComm, &s)
        localRank = Int(r)
        localSize = Int(s)
        cross = crossComm.map { MPICommunicator(subset: $0) }
        nodes = cross?.size ?? 1
        blockSum = .allocate(capacity: Swift.max(rankSlice(count: parameterCount, rank: 0, size: localSize).count, 1))
        sourceTable = .allocate(capacity: localSize)
        // Each rank's segment starts on its own page (no false sharing between ranks' gradients).
        var info: MPI_Info? = nil
        try communicator.check(MPI_Info_create(&info), "MPI_Info_create")
        defer { MPI_Info_free(&info) }
        try communicator.check(MPI_Info_set(info, "alloc_shared_noncontig", "true"), "MPI_Info_set")
        let floatBytes = MemoryLayout<Float>.stride
        var windows: [MPI_Win?] = []
        /// A window where each local rank contributes `floats(localRank)`; returns every rank's segment.
        func allocate(_ what: String, floats: (Int) -> Int) throws -> [UnsafeMutablePointer<Float>] {
            var base: UnsafeMutableRawPointer? = nil
            var win: MPI_Win? = nil
            try communicator.check(
                MPI_Win_allocate_shared(
                    MPI_Aint(floats(Int(r)) * floatBytes), Int32(floatBytes), info, nodeComm,
                    &base, &win), "MPI_Win_allocate_shared(\(what))")
            windows.append(win)
            return try (0..<Int(s)).compactMap { owner -> UnsafeMutablePointer<Float>? in
                let wanted = floats(owner)
                guard wanted > 0 else { return nil }
                var bytes: MPI_Aint = 0, unit: Int32 = 0
                var shared: UnsafeMutableRawPointer? = nil
                try communicator.check(MPI_Win_shared_query(win, Int32(owner), &bytes, &unit, &shared), "MPI_Win_shared_query(\(what))")
                guard let segment = shared, Int(bytes) >= wanted * floatBytes else {
                    throw MPIError(
                        call: "MPI_Win_shared_query(\(what))", code: -1, message: "local rank \(owner)'s segment is missing or too small")
                }
                return segment.bindMemory(to: Float.self, capacity: wanted)
            }
        }
        let n = Swift.max(parameterCount, 1)
        // Parameters and moments: one buffer each, allocated by local rank 0; gradients: one per rank.
        parameters = try allocate("parameters") { $0 == 0 ? n : 0 }[0]
        let m = try allocate("Adam moments") { $0 == 0 ? 2 * n : 0 }[0]
        moments = (m, m + n)
        gradients = try allocate("gradients") { _ in Swift.max(gradientCount, 1) }
        self.windows = windows
        // Errors are returned (not fatal) so that a failure falls back to the rings. Passive-target epochs
        // for the whole lifetime: MPI_Win_sync then orders the loads and stores.
        for win in windows {
            try communicator.check(MPI_Win_set_errhandler(win, mvvae_errors_return()), "MPI_Win_set_errhandler")
            try communicator.check(MPI_Win_lock_all(Int32(mvvae_mode_nocheck()), win), "MPI_Win_lock_all")
        }
        // Own gradients start at zero; the caller's first `synchronize` publishes them. (No barrier here:
        // a rank that failed above must reach the job-wide agreement in the factory, not a node barrier.)
        gradients[localRank].initialize(repeating: 0, count: gradientCount)
    }

    deinit {
        blockSum.deallocate()
        sourceTable.deallocate()
    }

    /// Every local rank's stores before this call are visible to every local rank's loads after it.
    public func synchronize() throws {
        for win in windows { MPI_Win_sync(win) }
        try communicator.check(MPI_Barrier(nodeComm), "MPI_Barrier(node)")
        for win in windows { MPI_Win_sync(win) }
    }

    /// Moves the arena's parameters and gradients and the optimizer's moments into the node's buffers
    /// (local rank 0's values: every rank holds the same ones, broadcast at start or loaded from one
    /// checkpoint) and splits the trainable range into blocks.
    func lend(arena: ParameterArena, optimizer: Adam, controlCount: Int) throws {
        self.arena = arena
        adam = optimizer
        skippedSlot = arena.count + controlCount
        loan = StorageLoan(
            arena: arena, adam: optimizer, values: parameters, gradients: gradients[localRank], m: moments.m,
            v: moments.v, copyIn: localRank == 0)
        try train(arena.trainable)
        do { try synchronize() } catch {
            abandon()  // the trainer never saw this exchange: give the arena its own buffers back here
            throw error
        }
    }

    /// The moments are the node's, complete once every rank's last update has passed its barrier.
    func train(_ range: Range<Int>) throws {
        let share = rankSlice(count: range.count, rank: localRank, size: localSize)
        block = (range.lowerBound + share.lowerBound)..<(range.lowerBound + share.upperBound)
        for (l, g) in gradients.enumerated() { sourceTable[l] = g + block.lowerBound }
    }

    /// Once every local rank's gradients are final (the barrier), the control scalars of every rank summed.
    func sumGradients(control count: Int, into summed: UnsafeMutablePointer<Float>) throws {
        try synchronize()
        guard let arena else { return }
        for c in 0..<count {
            var sum: Float = 0
            for g in gradients { sum += g[arena.count + c] }
            summed[c] = sum
        }
        try sumAcrossNodes(summed, count: count)
    }

    /// Multi-node: the node's sums allreduced between nodes (one node: nothing to do).
    func sumAcrossNodes(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {}

    /// This rank sums its block of every local rank's gradients (clearing them) and takes the Adam step
    /// there, in the shared parameters; a second barrier, and every rank may read them.
    func update(gradScale: Float) throws -> (skipped: Int, optimizerSeconds: Double) {
        guard let adam else { return (0, 0) }
        let start = monotonicSeconds()
        let skipped = try updateBlock(adam, gradScale: gradScale)
        let seconds = monotonicSeconds() - start
        gradients[localRank][skippedSlot] = Float(skipped)
        try synchronize()
        // Every node updates every block identically, so the node's sum counts the whole job.
        var everywhere: Float = 0
        for g in gradients { everywhere += g[skippedSlot] }
        return (Int(everywhere), seconds)
    }

    /// The Adam step of this rank's block from the node's gradients (added in local-rank order).
    func updateBlock(_ adam: Adam, gradScale: Float) throws -> Int {
        adam.update(
            shard: block, params: parameters, gradientSources: UnsafePointer(sourceTable), sourceCount: localSize,
            gradScale: gradScale, zeroGradients: true)
    }

    /// Shared moments: every block is in the node's buffer once every rank has finished its step.
    func gatherOptimizerState() throws { try synchronize() }

    func restartOptimizer() throws {
        guard let adam else { return }
        let share = rankSlice(count: adam.count, rank: localRank, size: localSize)
        adam.restart(share)  // this rank's share of the node's moments; every rank resets its step count
        try synchronize()
    }

    func assign(_ values: [Float], at offset: Int) throws {
        try synchronize()  // every local rank has finished reading the parameters
        if localRank == 0 { values.withUnsafeBufferPointer { (parameters + offset).update(from: $0.baseAddress!, count: $0.count) } }
        try synchronize()
    }

    /// Private copies again, then the windows and communicators are freed (collective over the node and
    /// across nodes; nothing may touch the shared buffers after).
    func finish() throws {
        try synchronize()
        loan?.repay()
        loan = nil
        try synchronize()
        for i in windows.indices where windows[i] != nil {
            MPI_Win_unlock_all(windows[i])
            try communicator.check(MPI_Win_free(&windows[i]), "MPI_Win_free")
        }
        windows = []
        try cross?.freeSubset()
        var node: MPI_Comm? = nodeComm
        try communicator.check(MPI_Comm_free(&node), "MPI_Comm_free(node)")
    }

    /// Other ranks may not have failed, so nothing collective: the windows stay (the tool aborts the job).
    func abandon() {
        loan?.repay()
        loan = nil
    }
}

/// Shared memory within each node and, between nodes, a ring per block among the ranks with the same
/// local rank: each node sums block l of its ranks' gradients, the ring adds the nodes' sums, and every
/// node applies the same update to its copy.
final class TwoLevelExchange: SharedMemoryExchange {
    override var description: String {
        "shared memory on \(nodes) nodes of \(localSize == 1 ? "1 rank" : "\(localSize) ranks"), rings between them"
    }

    override func sumAcrossNodes(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {
        try cross?.allreduceSum(buffer, count: count)
    }

    override func updateBlock(_ adam: Adam, gradScale: Float) throws -> Int {
        mvvae_sum_sources(blockSum, sourceTable, Int32(localSize), block.count, 1)
        try cross?.allreduceSum(blockSum, count: block.count)
        return adam.update(shard: block, params: parameters, grads: blockSum, gradScale: gradScale)
    }
}

extension SharedMemoryExchange {
    /// The exchange over nodes of `comm` (ranks sharing memory, or groups of `ranksPerNode`), with the
    /// arena and optimizer lent to it; nil when nodes differ in size or shared windows are unavailable
    /// on any rank (every rank then takes the rings). Collective.
    static func make(
        on mpi: MPICommunicator, arena: ParameterArena, optimizer: Adam, ranksPerNode: Int?,
        controlCount: Int
    ) throws -> SharedMemoryExchange? {
        guard
            let exchange = try mpi.sharedWindows(
                parameterCount: arena.count,
                gradientCount: arena.count + ParameterArena.controlCapacity,
                ranksPerNode: ranksPerNode)
        else { return nil }
        try exchange.lend(arena: arena, optimizer: optimizer, controlCount: controlCount)
        return exchange
    }
}

extension MPICommunicator {
    func sharedWindows(parameterCount: Int, gradientCount: Int, ranksPerNode: Int?) throws -> SharedMemoryExchange? {
        // Nodes: ranks that share memory, or (testing) groups of MVVAE_RANKS_PER_NODE consecutive ranks.
        var node: MPI_Comm? = nil
        if let k = ranksPerNode {
            try check(MPI_Comm_split(comm, Int32(rank / k), Int32(rank), &node), "MPI_Comm_split(node)")
        } else {
            try check(
                MPI_Comm_split_type(comm, Int32(mvvae_comm_type_shared()), Int32(rank), mvvae_info_null(), &node),
                "MPI_Comm_split_type(shared)")
        }
        guard let nodeComm = node else { return nil }
        var localRank: Int32 = 0, localSize: Int32 = 0
        MPI_Comm_rank(nodeComm, &localRank)
        MPI_Comm_size(nodeComm, &localSize)
        // Every rank must take the same path: do all nodes run the same number of ranks?
        var sizes: [Double] = [Double(localSize), -Double(localSize)]
        try allreduceMax(&sizes, count: 2)
        guard sizes[0] == -sizes[1] else {
            MPI_Comm_free(&node)
            return nil
        }
        MPI_Comm_set_errhandler(nodeComm, mvvae_errors_return())
        // Across nodes: the ranks with the same local rank, ordered by node (world rank).
        var cross: MPI_Comm? = nil
        if Int(localSize) < size {
            try check(MPI_Comm_split(comm, localRank, Int32(rank), &cross), "MPI_Comm_split(cross-node)")
        }
        // An MPI without working shared windows is not an error: every rank falls back to the rings.
        var exchange: SharedMemoryExchange?
        var failure: Error?
        do {
            let kind: SharedMemoryExchange.Type = cross == nil ? SharedMemoryExchange.self : TwoLevelExchange.self
            exchange = try kind.init(
                communicator: self, nodeComm: nodeComm, crossComm: cross, parameterCount: parameterCount,
                gradientCount: gradientCount)
        } catch {
            failure = error
        }
        var anyFailed: Double = failure == nil ? 0 : 1
        try allreduceMax(&anyFailed, count: 1)
        guard anyFailed == 0 else {
            if cross != nil { MPI_Comm_free(&cross) }
            if let failure {
                FileHandle.standardError.write(
                    "mvvae: rank \(rank): shared-memory exchange unavailable (\(failure)); using rings\n".data(using: .utf8)!)
            }
            // Not freed: MPI_Win_free is collective and the failed rank holds no window to free with us.
            return nil
        }
        return exchange
    }
}
