import CMPI
import Foundation

/// Data-parallel exchange without copies for ranks that share one node's memory (MPI-3 shared windows).
///
/// With the rings, every step moves the gradients twice through MPI (reduce-scatter, then allgather of
/// the updated parameters): on one node that is two copies of the whole buffer plus the waiting, about
/// 2 ms of an 8–10 ms step for the reference workload at two ranks. Here the ranks instead share
///   - one parameter buffer (every rank's forward pass reads it; rank r's optimizer writes block r), and
///   - every rank's gradient buffer (each rank's backward pass writes its own),
/// so a step needs only two barriers: after the backward pass (all gradients are final), rank r sums
/// block r of every rank's gradients inside its Adam pass (in rank order, as the rings do, and clears
/// them there); after the optimizer (all parameter blocks are updated) the next forward pass may read.
/// The sums, and so the trajectory, are the rings' (bit-identical at two ranks, where a + b = b + a).
///
/// Only when every rank is on one node (`MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)` returns the whole
/// world); across nodes the rings run. `MVVAE_EXCHANGE=rings` (or `MVVAE_COLLECTIVES=library`) turns it off.
public final class SharedMemoryExchange {
    /// The shared parameter buffer (`parameterCount` floats).
    public let parameters: UnsafeMutablePointer<Float>
    /// Every rank's gradient buffer (`gradientCount` floats each), by rank.
    public let gradients: [UnsafeMutablePointer<Float>]
    /// The same pointers for C (Adam's summed sources), offset by `shardStart` via `sources(from:)`.
    private let sourceTable: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    private let nodeComm: MPI_Comm
    private var parameterWindow: MPI_Win?
    private var gradientWindow: MPI_Win?
    private let communicator: MPICommunicator

    init(communicator: MPICommunicator, nodeComm: MPI_Comm, parameterCount: Int, gradientCount: Int) throws {
        self.communicator = communicator
        self.nodeComm = nodeComm
        let rank = communicator.rank, size = communicator.size
        // Each rank's segment starts on its own page (no false sharing between ranks' gradients).
        var info: MPI_Info? = nil
        try communicator.check(MPI_Info_create(&info), "MPI_Info_create")
        defer { MPI_Info_free(&info) }
        try communicator.check(MPI_Info_set(info, "alloc_shared_noncontig", "true"), "MPI_Info_set")
        let floatBytes = MemoryLayout<Float>.stride
        // Parameters: one buffer, allocated by rank 0.
        var base: UnsafeMutableRawPointer? = nil
        var win: MPI_Win? = nil
        let parameterBytes = rank == 0 ? Swift.max(parameterCount, 1) * floatBytes : 0
        try communicator.check(MPI_Win_allocate_shared(MPI_Aint(parameterBytes), Int32(floatBytes), info, nodeComm, &base, &win),
                               "MPI_Win_allocate_shared(parameters)")
        parameterWindow = win
        var bytes: MPI_Aint = 0, unit: Int32 = 0
        var shared: UnsafeMutableRawPointer? = nil
        try communicator.check(MPI_Win_shared_query(win, 0, &bytes, &unit, &shared), "MPI_Win_shared_query(parameters)")
        guard let parameterBase = shared, Int(bytes) >= parameterCount * floatBytes else {
            throw MPIError(call: "MPI_Win_shared_query(parameters)", code: -1, message: "rank 0's segment is missing or too small")
        }
        parameters = parameterBase.bindMemory(to: Float.self, capacity: Swift.max(parameterCount, 1))
        // Gradients: one buffer per rank, each allocated by its owner.
        var gradientWin: MPI_Win? = nil
        base = nil
        try communicator.check(MPI_Win_allocate_shared(MPI_Aint(Swift.max(gradientCount, 1) * floatBytes), Int32(floatBytes), info,
                                                       nodeComm, &base, &gradientWin), "MPI_Win_allocate_shared(gradients)")
        gradientWindow = gradientWin
        var pointers: [UnsafeMutablePointer<Float>] = []
        for r in 0..<size {
            shared = nil
            try communicator.check(MPI_Win_shared_query(gradientWin, Int32(r), &bytes, &unit, &shared), "MPI_Win_shared_query(gradients)")
            guard let g = shared, Int(bytes) >= gradientCount * floatBytes else {
                throw MPIError(call: "MPI_Win_shared_query(gradients)", code: -1, message: "rank \(r)'s segment is missing or too small")
            }
            pointers.append(g.bindMemory(to: Float.self, capacity: Swift.max(gradientCount, 1)))
        }
        gradients = pointers
        sourceTable = .allocate(capacity: size)
        // Passive-target epochs for the whole lifetime: MPI_Win_sync then orders the loads and stores.
        try communicator.check(MPI_Win_lock_all(Int32(mvvae_mode_nocheck()), parameterWindow), "MPI_Win_lock_all(parameters)")
        try communicator.check(MPI_Win_lock_all(Int32(mvvae_mode_nocheck()), gradientWindow), "MPI_Win_lock_all(gradients)")
        // Own gradients start at zero (the trainer accumulates into them).
        pointers[rank].initialize(repeating: 0, count: gradientCount)
        try synchronize()
    }

    deinit { sourceTable.deallocate() }

    /// Every rank's stores before this call are visible to every rank's loads after it.
    public func synchronize() throws {
        MPI_Win_sync(parameterWindow)
        MPI_Win_sync(gradientWindow)
        try communicator.check(MPI_Barrier(nodeComm), "MPI_Barrier(node)")
        MPI_Win_sync(parameterWindow)
        MPI_Win_sync(gradientWindow)
    }

    /// Every rank's gradient buffer from `offset` on, in rank order, for `Adam.update(gradientSources:)`.
    public func sources(from offset: Int) -> UnsafePointer<UnsafeMutablePointer<Float>?> {
        for (r, g) in gradients.enumerated() { sourceTable[r] = g + offset }
        return UnsafePointer(sourceTable)
    }

    /// Frees the windows (collective: every rank calls it; nothing may touch the shared buffers after).
    public func free() throws {
        if parameterWindow != nil {
            MPI_Win_unlock_all(parameterWindow)
            try communicator.check(MPI_Win_free(&parameterWindow), "MPI_Win_free(parameters)")
            parameterWindow = nil
        }
        if gradientWindow != nil {
            MPI_Win_unlock_all(gradientWindow)
            try communicator.check(MPI_Win_free(&gradientWindow), "MPI_Win_free(gradients)")
            gradientWindow = nil
        }
    }
}

extension MPICommunicator {
    /// Whether this job may use a `SharedMemoryExchange` (it also needs every rank on one node).
    var wantsSharedMemoryExchange: Bool {
        size > 1 && !usesLibraryCollectives && ProcessInfo.processInfo.environment["MVVAE_EXCHANGE"] != "rings"
    }

    public func makeSharedMemoryExchange(parameterCount: Int, gradientCount: Int) throws -> SharedMemoryExchange? {
        guard wantsSharedMemoryExchange else { return nil }
        var node: MPI_Comm? = nil
        try check(MPI_Comm_split_type(comm, Int32(mvvae_comm_type_shared()), Int32(rank), mvvae_info_null(), &node),
                  "MPI_Comm_split_type(shared)")
        guard let nodeComm = node else { return nil }
        var nodeSize: Int32 = 0
        MPI_Comm_size(nodeComm, &nodeSize)
        // Every rank must take the same path: does any rank see fewer ranks on its node than in the world?
        var anyShort: Double = nodeSize == Int32(size) ? 0 : 1
        try allreduceMax(&anyShort, count: 1)
        guard anyShort == 0 else {
            MPI_Comm_free(&node)
            return nil
        }
        MPI_Comm_set_errhandler(nodeComm, mvvae_errors_return())
        // An MPI without working shared windows is not an error: every rank falls back to the rings.
        var exchange: SharedMemoryExchange?
        var failure: Error?
        do {
            exchange = try SharedMemoryExchange(communicator: self, nodeComm: nodeComm, parameterCount: parameterCount,
                                                gradientCount: gradientCount)
        } catch {
            failure = error
        }
        var anyFailed: Double = failure == nil ? 0 : 1
        try allreduceMax(&anyFailed, count: 1)
        guard anyFailed == 0 else {
            if let failure { FileHandle.standardError.write("mvvae: rank \(rank): shared-memory exchange unavailable (\(failure)); using rings\n".data(using: .utf8)!) }
            // Not freed: MPI_Win_free is collective and the failed rank holds no window to free with us.
            return nil
        }
        return exchange
    }
}
