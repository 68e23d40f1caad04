import CKernels
import CMPI
import Foundation

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
/// use a fixed cyclic order, the same bits at two ranks — and clears them). On one node its Adam pass does that sum itself; with several nodes the block's sum is first
/// allreduced (a ring) among the ranks with local rank l on every node, so each node computes the same
/// update for block l. Adam writes the shared parameters; a second barrier, and the next forward pass
/// may read. Every node thus holds one copy of the parameters and moments, and between nodes each rank
/// sends 2(N−1)/N of its block per step instead of 2(P−1)/P of the whole buffer.
///
/// Used when every node runs the same number of ranks; otherwise (and with `MVVAE_EXCHANGE=rings` or
/// `MVVAE_COLLECTIVES=library`) the trainer uses the flat rings. `MVVAE_RANKS_PER_NODE=k` groups
/// consecutive ranks k at a time as if they were nodes (to test the multi-node path on one machine).
public final class SharedMemoryExchange {
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
    /// The parameter block this rank sums and updates.
    public let block: Range<Int>
    /// The ranks with this local rank on every node, ordered by node (nil on one node).
    private let cross: MPICommunicator?
    /// Block-sized sum of the node's gradients before the cross-node ring (multi-node only).
    private let blockSum: UnsafeMutablePointer<Float>
    /// Every local rank's gradient buffer from `block.lowerBound` on, for the C kernels.
    private let sourceTable: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    private let nodeComm: MPI_Comm
    private var windows: [MPI_Win?] = []
    private let communicator: MPICommunicator

    init(communicator: MPICommunicator, nodeComm: MPI_Comm, crossComm: MPI_Comm?, parameterCount: Int, gradientCount: Int) throws {
        self.communicator = communicator
        self.nodeComm = nodeComm
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(nodeComm, &r)
        MPI_Comm_size(nodeComm, &s)
        localRank = Int(r)
        localSize = Int(s)
        cross = crossComm.map { MPICommunicator(subset: $0) }
        nodes = cross?.size ?? 1
        block = rankSlice(count: parameterCount, rank: localRank, size: localSize)
        blockSum = .allocate(capacity: Swift.max(block.count, 1))
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
            try communicator.check(MPI_Win_allocate_shared(MPI_Aint(floats(Int(r)) * floatBytes), Int32(floatBytes), info, nodeComm,
                                                           &base, &win), "MPI_Win_allocate_shared(\(what))")
            windows.append(win)
            return try (0..<Int(s)).compactMap { owner -> UnsafeMutablePointer<Float>? in
                let wanted = floats(owner)
                guard wanted > 0 else { return nil }
                var bytes: MPI_Aint = 0, unit: Int32 = 0
                var shared: UnsafeMutableRawPointer? = nil
                try communicator.check(MPI_Win_shared_query(win, Int32(owner), &bytes, &unit, &shared), "MPI_Win_shared_query(\(what))")
                guard let segment = shared, Int(bytes) >= wanted * floatBytes else {
                    throw MPIError(call: "MPI_Win_shared_query(\(what))", code: -1, message: "local rank \(owner)'s segment is missing or too small")
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
        for (l, g) in gradients.enumerated() { sourceTable[l] = g + block.lowerBound }
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

    /// `count` floats at `offset` of every rank's gradient buffer summed over the whole job, into `out`
    /// (the control scalars). Call after `synchronize`.
    public func sumOverRanks(offset: Int, count: Int, into out: UnsafeMutablePointer<Float>) throws {
        for c in 0..<count {
            var sum: Float = 0
            for g in gradients { sum += g[offset + c] }
            out[c] = sum
        }
        try cross?.allreduceSum(out, count: count)
    }

    /// The Adam step of this rank's block from the job's summed gradients (their local copies cleared),
    /// written into the shared parameters. Returns the coordinates left out as non-finite. Call after
    /// `synchronize`.
    public func optimizerStep(_ adam: Adam, gradScale: Float) throws -> Int {
        guard let cross else {
            return adam.update(shard: block, params: parameters, gradientSources: UnsafePointer(sourceTable), sourceCount: localSize,
                               gradScale: gradScale, zeroGradients: true)
        }
        mvvae_sum_sources(blockSum, sourceTable, Int32(localSize), block.count, 1)
        try cross.allreduceSum(blockSum, count: block.count)
        return adam.update(shard: block, params: parameters, grads: blockSum, gradScale: gradScale)
    }

    /// Frees the windows and communicators (collective over the node and across nodes; nothing may
    /// touch the shared buffers after).
    public func free() throws {
        for i in windows.indices where windows[i] != nil {
            MPI_Win_unlock_all(windows[i])
            try communicator.check(MPI_Win_free(&windows[i]), "MPI_Win_free")
        }
        windows = []
        try cross?.freeSubset()
        var node: MPI_Comm? = nodeComm
        try communicator.check(MPI_Comm_free(&node), "MPI_Comm_free(node)")
    }
}

extension MPICommunicator {
    public func makeSharedMemoryExchange(parameterCount: Int, gradientCount: Int) throws -> SharedMemoryExchange? {
        let env = ProcessInfo.processInfo.environment
        let choice = env["MVVAE_EXCHANGE"] ?? "shared"
        guard ["shared", "rings"].contains(choice) else {
            throw ExchangeSettingError("MVVAE_EXCHANGE must be 'shared' (the default) or 'rings', got '\(choice)'")
        }
        var ranksPerNode: Int?
        if let text = env["MVVAE_RANKS_PER_NODE"] {
            guard let k = Int(text), k >= 1 else {
                throw ExchangeSettingError("MVVAE_RANKS_PER_NODE must be a whole number ≥ 1, got '\(text)'")
            }
            ranksPerNode = k
        }
        guard size > 1, !usesLibraryCollectives, choice == "shared" else { return nil }
        // Nodes: ranks that share memory, or (testing) groups of MVVAE_RANKS_PER_NODE consecutive ranks.
        var node: MPI_Comm? = nil
        if let k = ranksPerNode {
            try check(MPI_Comm_split(comm, Int32(rank / k), Int32(rank), &node), "MPI_Comm_split(node)")
        } else {
            try check(MPI_Comm_split_type(comm, Int32(mvvae_comm_type_shared()), Int32(rank), mvvae_info_null(), &node),
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
            exchange = try SharedMemoryExchange(communicator: self, nodeComm: nodeComm, crossComm: cross, parameterCount: parameterCount,
                                                gradientCount: gradientCount)
        } catch {
            failure = error
        }
        var anyFailed: Double = failure == nil ? 0 : 1
        try allreduceMax(&anyFailed, count: 1)
        guard anyFailed == 0 else {
            if cross != nil { MPI_Comm_free(&cross) }
            if let failure { FileHandle.standardError.write("mvvae: rank \(rank): shared-memory exchange unavailable (\(failure)); using rings\n".data(using: .utf8)!) }
            // Not freed: MPI_Win_free is collective and the failed rank holds no window to free with us.
            return nil
        }
        return exchange
    }
}

/// An environment setting of the gradient exchange that is not one of its values (the same on every
/// rank, so every rank stops with it).
public struct ExchangeSettingError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
