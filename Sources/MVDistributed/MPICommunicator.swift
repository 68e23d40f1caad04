import CMPI
import Foundation
import MVCore

/// An MPI call that returned an error code.
public struct MPIError: Error, CustomStringConvertible {
    public let call: String
    public let code: Int32
    public let message: String
    public var description: String { "\(call) failed (MPI error \(code)): \(message)" }
}

/// `Communicator` over MPI_COMM_WORLD (OpenMPI through the CMPI module).
///
/// MPI is initialised once per process (thread level FUNNELED: only the main thread calls MPI) with
/// errors returned rather than fatal, so every failure becomes an `MPIError`.
///
/// The per-step collectives (reduce-scatter, allgather, allreduce) are rings over point-to-point
/// `MPI_Sendrecv` rather than OpenMPI's own collectives: OpenMPI 4.1's reduce-scatter mallocs two
/// temporary copies of the whole buffer (7.7 MB + 3.8 MB for the reference workload) on every call and its
/// allreduce a small one, and the training step must not allocate. The rings use one scratch buffer,
/// grown on first use and reused. Every rank ends with bit-identical results, and a sum is accumulated
/// in a fixed rank order (see `ringReduceScatter`), so runs are reproducible. `MVVAE_COLLECTIVES=library`
/// in the environment switches back to OpenMPI's collectives (to compare speed, or on a cluster whose MPI
/// has better ones than a flat ring).
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    let comm: MPI_Comm
    /// A duplicate of MPI_COMM_WORLD for the rings' point-to-point messages, so they can never match
    /// messages of anything else that talks over the world communicator.
    private let ringComm: MPI_Comm
    /// OpenMPI's collectives instead of the rings (`MVVAE_COLLECTIVES=library`).
    public let usesLibraryCollectives: Bool
    private var scratch: UnsafeMutableRawPointer?
    private var scratchBytes = 0
    private static let ringTag: Int32 = 7301

    /// True when this process was started by an MPI launcher (mpirun/srun), judged from the
    /// environment those launchers set. Without one, a run uses `LocalCommunicator`.
    public static var launchedByMPI: Bool {
        let env = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"].contains { env[$0] != nil }
    }

    /// The world communicator (initialises MPI on first use).
    public convenience init() throws {
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            var provided: Int32 = 0
            let rc = MPI_Init_thread(nil, nil, mvvae_thread_funneled(), &provided)
            if rc != mvvae_success() { throw MPIError(call: "MPI_Init_thread", code: rc, message: MPICommunicator.errorString(rc)) }
            atexit { MPICommunicator.finalizeIfNeeded() }
        }
        self.init(subset: mvvae_comm_world())
    }

    /// A communicator over `comm` (the world, or a subset made by MPI_Comm_split): the rings run on its
    /// ranks, over a duplicate of it. MPI must already be initialised.
    init(subset comm: MPI_Comm) {
        self.comm = comm
        MPI_Comm_set_errhandler(comm, mvvae_errors_return())
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(comm, &r)
        MPI_Comm_size(comm, &s)
        rank = Int(r)
        size = Int(s)
        usesLibraryCollectives = ProcessInfo.processInfo.environment["MVVAE_COLLECTIVES"] == "library"
        var dup: MPI_Comm? = nil
        ringComm = MPI_Comm_dup(comm, &dup) == mvvae_success() ? dup ?? comm : comm
        MPI_Comm_set_errhandler(ringComm, mvvae_errors_return())
    }

    deinit {
        scratch?.deallocate()
    }

    /// Frees the communicator made by `init(subset:)` and its rings' duplicate (collective over its ranks).
    func freeSubset() throws {
        var rings: MPI_Comm? = ringComm, own: MPI_Comm? = comm
        if ringComm != comm { try check(MPI_Comm_free(&rings), "MPI_Comm_free(rings)") }
        try check(MPI_Comm_free(&own), "MPI_Comm_free")
    }

    static func finalizeIfNeeded() {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if finalized == 0 { MPI_Finalize() }
    }

    static func errorString(_ code: Int32) -> String {
        var buf = [CChar](repeating: 0, count: Int(mvvae_max_error_string()) + 1)
        var len: Int32 = 0
        MPI_Error_string(code, &buf, &len)
        return String(decoding: buf.prefix(Int(len)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @inline(__always)
    func check(_ rc: Int32, _ call: String) throws {
        if rc != mvvae_success() { throw MPIError(call: call, code: rc, message: Self.errorString(rc)) }
    }

    public func allreduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {
        if usesLibraryCollectives { return try libraryAllreduceSum(buffer, count: count) }
        try ringAllreduce(buffer, count: count, type: mvvae_float(), op: .sum)
    }

    public func allreduceSum(_ buffer: UnsafeMutablePointer<Double>, count: Int) throws {
        if usesLibraryCollectives {
            return try check(
                MPI_Allreduce(mvvae_in_place(), buffer, Int32(count), mvvae_double(), mvvae_op_sum(), comm), "MPI_Allreduce(sum, double)")
        }
        try ringAllreduce(buffer, count: count, type: mvvae_double(), op: .sum)
    }

    public func allreduceMax(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {
        if usesLibraryCollectives {
            return try check(
                MPI_Allreduce(mvvae_in_place(), buffer, Int32(count), mvvae_float(), mvvae_op_max(), comm), "MPI_Allreduce(max, float)")
        }
        try ringAllreduce(buffer, count: count, type: mvvae_float(), op: .max)
    }

    public func allreduceMax(_ buffer: UnsafeMutablePointer<Double>, count: Int) throws {
        if usesLibraryCollectives {
            return try check(
                MPI_Allreduce(mvvae_in_place(), buffer, Int32(count), mvvae_double(), mvvae_op_max(), comm), "MPI_Allreduce(max, double)")
        }
        try ringAllreduce(buffer, count: count, type: mvvae_double(), op: .max)
    }

    public func reduceScatterSum(_ send: UnsafePointer<Float>, into receive: UnsafeMutablePointer<Float>, blocks: [Range<Int>]) throws {
        precondition(blocks.count == size, "reduceScatterSum: one block per rank")
        if usesLibraryCollectives { return try libraryReduceScatterSum(send, into: receive, blocks: blocks) }
        try ringReduceScatter(send, into: receive, type: mvvae_float(), block: { blocks[$0] }, op: .sum)
    }

    public func allgather(_ buffer: UnsafeMutablePointer<Float>, blocks: [Range<Int>]) throws {
        precondition(blocks.count == size, "allgather: one block per rank")
        if usesLibraryCollectives { return try libraryAllgather(buffer, blocks: blocks) }
        try ringAllgather(buffer, type: mvvae_float(), block: { blocks[$0] })
    }

    // MARK: Rings over point-to-point messages

    /// Scratch of at least `bytes`, kept for later calls (so steady-state collectives allocate nothing).
    private func scratch(bytes: Int) -> UnsafeMutableRawPointer {
        if scratchBytes < bytes || scratch == nil {
            scratch?.deallocate()
            scratchBytes = Swift.max(bytes, 64)
            scratch = .allocate(byteCount: scratchBytes, alignment: 64)
        }
        return scratch!
    }

    /// Sends `sendCount` elements to rank+1 while receiving `receiveCount` from rank−1.
    @inline(__always)
    private func shift<T>(
        _ send: UnsafePointer<T>, _ sendCount: Int, into receive: UnsafeMutablePointer<T>, _ receiveCount: Int,
        type: MPI_Datatype
    ) throws {
        let right = Int32((rank + 1) % size), left = Int32((rank + size - 1) % size)
        try check(
            MPI_Sendrecv(
                send, Int32(sendCount), type, right, Self.ringTag,
                receive, Int32(receiveCount), type, left, Self.ringTag, ringComm, mvvae_status_ignore()),
            "MPI_Sendrecv")
    }

    /// Ring reduce-scatter: P − 1 steps. At step s rank r passes its running result for block
    /// (r − s − 1) mod P to rank r + 1 and receives the running result for block (r − s − 2) mod P from
    /// rank r − 1, which it combines with its own contribution (`op(received, own)`). Block b is thus
    /// accumulated in the fixed order b+1, b+2, …, b (ranks mod P) whatever the timing, and after the last
    /// step rank r holds block r. `receive` may alias `send + block(rank).lowerBound`.
    /// Each step is one message per direction: splitting blocks into cache-sized pieces was measured
    /// slower on a shared host, where every extra exchange waits for the peer to be scheduled
    /// (BENCHMARKS.md, "Collectives").
    func ringReduceScatter<T: RingElement>(
        _ send: UnsafePointer<T>, into receive: UnsafeMutablePointer<T>, type: MPI_Datatype,
        block: (Int) -> Range<Int>, op: RingOp
    ) throws {
        let p = size, r = rank
        let mine = block(r)
        if p == 1 {
            if UnsafePointer(receive) != send + mine.lowerBound { receive.update(from: send + mine.lowerBound, count: mine.count) }
            return
        }
        var largest = 0
        for b in 0..<p { largest = Swift.max(largest, block(b).count) }
        // Scratch: two running results, the one being sent and the one being received (at two ranks
        // only the received one: the sole step sends this rank's own data).
        let halves = p > 2 ? 2 : 1
        let stride = (largest * MemoryLayout<T>.stride + 63) & ~63
        let base = scratch(bytes: halves * stride)
        var incoming = base.bindMemory(to: T.self, capacity: largest)
        var outgoing = (base + (halves - 1) * stride).bindMemory(to: T.self, capacity: largest)
        for s in 0..<(p - 1) {
            let sendBlock = block((r - s - 1 + 2 * p) % p), receiveBlock = block((r - s - 2 + 2 * p) % p)
            let source = s == 0 ? send + sendBlock.lowerBound : UnsafePointer(outgoing)
            try shift(source, sendBlock.count, into: incoming, receiveBlock.count, type: type)
            let own = send + receiveBlock.lowerBound
            let target = s == p - 2 ? receive : incoming  // the last step lands in this rank's block
            op.apply(UnsafePointer(incoming), own, into: target, count: receiveBlock.count)
            swap(&outgoing, &incoming)
        }
    }

    /// Ring allgather in place: at step s rank r passes block (r − s) mod P to rank r + 1 and receives
    /// block (r − s − 1) mod P from rank r − 1 straight into its place in `buffer`.
    func ringAllgather<T>(_ buffer: UnsafeMutablePointer<T>, type: MPI_Datatype, block: (Int) -> Range<Int>) throws {
        let p = size, r = rank
        guard p > 1 else { return }
        for s in 0..<(p - 1) {
            let sendBlock = block((r - s + p) % p), receiveBlock = block((r - s - 1 + p) % p)
            try shift(
                UnsafePointer(buffer + sendBlock.lowerBound), sendBlock.count,
                into: buffer + receiveBlock.lowerBound, receiveBlock.count, type: type)
        }
    }

    /// Vectors up to this many elements are allreduced by gathering every rank's copy (P − 1 messages)
    /// instead of a reduce-scatter and an allgather (2(P − 1) messages): the control scalars of each step.
    static let smallAllreduce = 256

    /// In-place allreduce. Every rank ends with the same bits: short vectors are allgathered and summed
    /// in rank order 0, 1, …, P − 1 on every rank; longer ones go through a ring reduce-scatter over
    /// `rankSlice` blocks followed by a ring allgather.
    func ringAllreduce<T: RingElement>(_ buffer: UnsafeMutablePointer<T>, count: Int, type: MPI_Datatype, op: RingOp) throws {
        guard size > 1, count > 0 else { return }
        let p = size
        if count <= Self.smallAllreduce {
            let all = scratch(bytes: p * count * MemoryLayout<T>.stride).bindMemory(to: T.self, capacity: p * count)
            (all + rank * count).update(from: buffer, count: count)
            try ringAllgather(all, type: type, block: { ($0 * count)..<($0 * count + count) })
            for i in 0..<count {
                var x = all[i]
                for r in 1..<p { x = op == .sum ? x + all[r * count + i] : Swift.max(x, all[r * count + i]) }
                buffer[i] = x
            }
            return
        }
        let mine = rankSlice(count: count, rank: rank, size: p)
        try ringReduceScatter(
            UnsafePointer(buffer), into: buffer + mine.lowerBound, type: type,
            block: { rankSlice(count: count, rank: $0, size: p) }, op: op)
        try ringAllgather(buffer, type: type, block: { rankSlice(count: count, rank: $0, size: p) })
    }

    // MARK: OpenMPI's own collectives (the reference `check-mpi` compares the rings with)

    /// MPI_Reduce_scatter (sum) of `send` into `receive`.
    public func libraryReduceScatterSum(_ send: UnsafePointer<Float>, into receive: UnsafeMutablePointer<Float>, blocks: [Range<Int>])
        throws
    {
        var counts = blocks.map { Int32($0.count) }
        try check(MPI_Reduce_scatter(send, receive, &counts, mvvae_float(), mvvae_op_sum(), comm), "MPI_Reduce_scatter")
    }

    /// MPI_Allgatherv in place.
    public func libraryAllgather(_ buffer: UnsafeMutablePointer<Float>, blocks: [Range<Int>]) throws {
        var counts = blocks.map { Int32($0.count) }
        var displacements = blocks.map { Int32($0.lowerBound) }
        try check(
            MPI_Allgatherv(mvvae_in_place(), 0, mvvae_float(), buffer, &counts, &displacements, mvvae_float(), comm),
            "MPI_Allgatherv")
    }

    /// MPI_Allreduce (sum) in place.
    public func libraryAllreduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {
        try check(MPI_Allreduce(mvvae_in_place(), buffer, Int32(count), mvvae_float(), mvvae_op_sum(), comm), "MPI_Allreduce(sum, float)")
    }

    public func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int) throws {
        try check(MPI_Bcast(buffer, Int32(bytes), mvvae_byte(), Int32(root), comm), "MPI_Bcast")
    }

    public func barrier() throws {
        try check(MPI_Barrier(comm), "MPI_Barrier")
    }

    public func abort(code: Int32) -> Never {
        MPI_Abort(comm, code)
        exit(code)
    }

    /// This process's host name as MPI reports it.
    public var processorName: String {
        var buf = [CChar](repeating: 0, count: 256)
        var len: Int32 = 0
        MPI_Get_processor_name(&buf, &len)
        return String(decoding: buf.prefix(Int(len)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The communicator for this process: MPI when started by a launcher, local otherwise.
///
/// `srun -n N` without an MPI plugin that OpenMPI understands (`--mpi=pmix`) starts N processes that each
/// see a world of one: N independent runs writing the same run folder. Slurm tells every task of a step
/// how many there are, so that case stops here with the fix named instead.
public func makeCommunicator() throws -> Communicator {
    let comm: Communicator = MPICommunicator.launchedByMPI ? try MPICommunicator() : LocalCommunicator()
    if let mismatch = SlurmStep.current?.mismatch(worldSize: comm.size) { throw mismatch }
    return comm
}

/// Element types the rings reduce.
protocol RingElement: BinaryFloatingPoint, SIMDScalar, Codable {}
extension Float: RingElement {}
extension Double: RingElement {}

/// How the rings combine a received value with this rank's own.
enum RingOp {
    case sum, max

    /// target[i] = op(received[i], own[i]). Concrete loops rather than a closure: the optimiser left a
    /// closure as an indirect call per element, which cost milliseconds per step on a 1M-float block.
    @inline(__always)
    func apply<T: RingElement>(_ received: UnsafePointer<T>, _ own: UnsafePointer<T>, into target: UnsafeMutablePointer<T>, count: Int) {
        switch self {
        case .sum:
            typealias V = SIMD8<T>
            var i = 0
            while i + V.scalarCount <= count {
                let x = UnsafeRawPointer(received + i).loadUnaligned(as: V.self) + UnsafeRawPointer(own + i).loadUnaligned(as: V.self)
                UnsafeMutableRawPointer(target + i).storeBytes(of: x, as: V.self)
                i += V.scalarCount
            }
            while i < count { target[i] = received[i] + own[i]; i += 1 }
        case .max:
            for i in 0..<count { target[i] = Swift.max(received[i], own[i]) }
        }
    }
}
