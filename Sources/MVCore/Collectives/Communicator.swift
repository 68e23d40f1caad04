/// The collective operations the trainer needs, independent of transport.
///
/// The trainer and the models only ever hold a `Communicator`; `LocalCommunicator` (one process)
/// and `MPICommunicator` implement it, so a laptop run and an `mpirun` job execute the same code.
public protocol Communicator: AnyObject {
    var rank: Int { get }
    var size: Int { get }
    /// In-place elementwise sum over all ranks.
    func allreduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws
    func allreduceSum(_ buffer: UnsafeMutablePointer<Double>, count: Int) throws
    /// In-place elementwise maximum over all ranks.
    func allreduceMax(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws
    func allreduceMax(_ buffer: UnsafeMutablePointer<Double>, count: Int) throws
    /// Sums `send` (all blocks, laid end to end) over ranks; this rank's block `blocks[rank]` of the sum is
    /// written to `receive` (blocks[rank].count floats). `receive` must not overlap `send`, except that a
    /// world of one may pass `send + blocks[0].lowerBound`.
    func reduceScatterSum(_ send: UnsafePointer<Float>, into receive: UnsafeMutablePointer<Float>, blocks: [Range<Int>]) throws
    /// In place: every rank's block `blocks[r]` of `buffer` is copied to all ranks.
    func allgather(_ buffer: UnsafeMutablePointer<Float>, blocks: [Range<Int>]) throws
    /// Copies `count` bytes from `root` to every rank.
    func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int) throws
    func barrier() throws
    /// Ends every rank's process at once (a last resort after an unrecoverable error on one rank).
    func abort(code: Int32) -> Never
}

extension Communicator {
    public var isRoot: Bool { rank == 0 }

    public func broadcast(_ buffer: UnsafeMutablePointer<Float>, count: Int, root: Int = 0) throws {
        try broadcast(UnsafeMutableRawPointer(buffer), bytes: count * MemoryLayout<Float>.stride, root: root)
    }

    /// Broadcasts a byte array of unknown length from `root` (length first, then the bytes).
    public func broadcast(bytes: [UInt8], root: Int = 0) throws -> [UInt8] {
        var n = Int64(bytes.count)
        try withUnsafeMutableBytes(of: &n) { try broadcast($0.baseAddress!, bytes: 8, root: root) }
        var out = rank == root ? bytes : [UInt8](repeating: 0, count: Int(n))
        if n > 0 { try out.withUnsafeMutableBytes { try broadcast($0.baseAddress!, bytes: Int(n), root: root) } }
        return out
    }

    /// Sum of one Double over all ranks.
    public func sum(_ x: Double) throws -> Double {
        var v = x
        try allreduceSum(&v, count: 1)
        return v
    }

    /// Maximum of one Double over all ranks.
    public func max(_ x: Double) throws -> Double {
        var v = x
        try allreduceMax(&v, count: 1)
        return v
    }
}

/// World size 1: every collective is the identity.
public final class LocalCommunicator: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allreduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {}
    public func allreduceSum(_ buffer: UnsafeMutablePointer<Double>, count: Int) throws {}
    public func allreduceMax(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {}
    public func allreduceMax(_ buffer: UnsafeMutablePointer<Double>, count: Int) throws {}
    public func reduceScatterSum(_ send: UnsafePointer<Float>, into receive: UnsafeMutablePointer<Float>, blocks: [Range<Int>]) throws {
        let b = blocks[0]
        if UnsafePointer(receive) != send + b.lowerBound { receive.update(from: send + b.lowerBound, count: b.count) }
    }
    public func allgather(_ buffer: UnsafeMutablePointer<Float>, blocks: [Range<Int>]) throws {}
    public func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int) throws {}
    public func barrier() throws {}
    public func abort(code: Int32) -> Never { exit(code) }
}

import Foundation
