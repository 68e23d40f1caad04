import CMPI
import Foundation

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
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    private let comm: MPI_Comm

    /// True when this process was started by an MPI launcher (mpirun/srun), judged from the
    /// environment those launchers set. Without one, a run uses `LocalCommunicator`.
    public static var launchedByMPI: Bool {
        let env = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"].contains { env[$0] != nil }
    }

    public init() throws {
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            var provided: Int32 = 0
            let rc = MPI_Init_thread(nil, nil, mvvae_thread_funneled(), &provided)
            if rc != mvvae_success() { throw MPIError(call: "MPI_Init_thread", code: rc, message: MPICommunicator.errorString(rc)) }
            atexit { MPICommunicator.finalizeIfNeeded() }
        }
        comm = mvvae_comm_world()
        MPI_Comm_set_errhandler(comm, mvvae_errors_return())
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(comm, &r)
        MPI_Comm_size(comm, &s)
        rank = Int(r)
        size = Int(s)
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
    private func check(_ rc: Int32, _ call: String) throws {
        if rc != mvvae_success() { throw MPIError(call: call, code: rc, message: Self.errorString(rc)) }
    }

    public func allreduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {
        try check(MPI_Allreduce(mvvae_in_place(), buffer, Int32(count), mvvae_float(), mvvae_op_sum(), comm), "MPI_Allreduce(sum, float)")
    }

    public func allreduceSum(_ buffer: UnsafeMutablePointer<Double>, count: Int) throws {
        try check(MPI_Allreduce(mvvae_in_place(), buffer, Int32(count), mvvae_double(), mvvae_op_sum(), comm), "MPI_Allreduce(sum, double)")
    }

    public func allreduceMax(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {
        try check(MPI_Allreduce(mvvae_in_place(), buffer, Int32(count), mvvae_float(), mvvae_op_max(), comm), "MPI_Allreduce(max, float)")
    }

    public func allreduceMax(_ buffer: UnsafeMutablePointer<Double>, count: Int) throws {
        try check(MPI_Allreduce(mvvae_in_place(), buffer, Int32(count), mvvae_double(), mvvae_op_max(), comm), "MPI_Allreduce(max, double)")
    }

    public func reduceScatterSum(_ send: UnsafePointer<Float>, into receive: UnsafeMutablePointer<Float>, blocks: [Range<Int>]) throws {
        var counts = blocks.map { Int32($0.count) }
        try check(MPI_Reduce_scatter(send, receive, &counts, mvvae_float(), mvvae_op_sum(), comm), "MPI_Reduce_scatter")
    }

    public func allgather(_ buffer: UnsafeMutablePointer<Float>, blocks: [Range<Int>]) throws {
        var counts = blocks.map { Int32($0.count) }
        var displacements = blocks.map { Int32($0.lowerBound) }
        try check(MPI_Allgatherv(mvvae_in_place(), 0, mvvae_float(), buffer, &counts, &displacements, mvvae_float(), comm),
                  "MPI_Allgatherv")
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
public func makeCommunicator() throws -> Communicator {
    MPICommunicator.launchedByMPI ? try MPICommunicator() : LocalCommunicator()
}
