import Foundation

/// Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11):
/// a counter-based generator. The output block is a pure function of a 128-bit counter and a
/// 64-bit key, so any draw can be reproduced from its coordinates alone — which is what makes
/// training world-size invariant (randomness is keyed by global sample index, never by rank).
public enum Philox4x32 {
    public typealias Counter = (UInt32, UInt32, UInt32, UInt32)
    public typealias Key = (UInt32, UInt32)

    static let m0: UInt32 = 0xD251_1F53
    static let m1: UInt32 = 0xCD9E_8D57
    static let w0: UInt32 = 0x9E37_79B9
    static let w1: UInt32 = 0xBB67_AE85

    /// The ten-round block function.
    @inline(__always)
    public static func block(counter: Counter, key: Key) -> Counter {
        var c = counter
        var k = key
        for round in 0..<10 {
            if round > 0 {
                k.0 &+= w0
                k.1 &+= w1
            }
            let p0 = UInt64(m0) &* UInt64(c.0)
            let p1 = UInt64(m1) &* UInt64(c.2)
            let hi0 = UInt32(truncatingIfNeeded: p0 >> 32), lo0 = UInt32(truncatingIfNeeded: p0)
            let hi1 = UInt32(truncatingIfNeeded: p1 >> 32), lo1 = UInt32(truncatingIfNeeded: p1)
            c = (hi1 ^ c.1 ^ k.0, lo1, hi0 ^ c.3 ^ k.1, lo0)
        }
        return c
    }
}

/// A stream of draws from Philox keyed by (`seed`, `stream`): the key is the seed, the high 64
/// counter bits are the stream id and the low 64 bits count blocks within the stream.
/// Two streams with different ids never overlap.
public struct RandomStream {
    public let seed: UInt64
    public let stream: UInt64
    private var blockIndex: UInt64 = 0
    private var buffer: Philox4x32.Counter = (0, 0, 0, 0)
    private var used = 4
    private var spareNormal: Float = 0
    private var hasSpare = false

    /// `block` skips ahead: a stream can be cut into independent sub-sequences (block k << 32, say).
    public init(seed: UInt64, stream: UInt64 = 0, block: UInt64 = 0) {
        self.seed = seed
        self.stream = stream
        self.blockIndex = block
    }

    /// The next raw 32-bit word.
    @inline(__always)
    public mutating func nextUInt32() -> UInt32 {
        if used == 4 {
            let counter: Philox4x32.Counter = (
                UInt32(truncatingIfNeeded: blockIndex), UInt32(truncatingIfNeeded: blockIndex >> 32),
                UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32)
            )
            buffer = Philox4x32.block(
                counter: counter,
                key: (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32)))
            blockIndex &+= 1
            used = 0
        }
        defer { used += 1 }
        switch used {
        case 0: return buffer.0
        case 1: return buffer.1
        case 2: return buffer.2
        default: return buffer.3
        }
    }

    /// Uniform on the open interval (0, 1).
    @inline(__always)
    public mutating func nextUniform() -> Float { Self.openUnitInterval(nextUInt32()) }

    /// Maps a raw word to (0, 1): the top 23 bits, offset by half a step, give (2k+1)·2⁻²⁴, which
    /// Float represents exactly, so neither end occurs. (With 24 bits the largest value,
    /// 1 − 2⁻²⁵, is not representable and rounds to exactly 1.)
    @inline(__always)
    static func openUnitInterval(_ word: UInt32) -> Float {
        Float(word >> 9) * 0x1p-23 + 0x1p-24
    }

    /// Uniform integer in 0..<n (n > 0), by rejection so every value is equally likely.
    public mutating func nextInt(below n: Int) -> Int {
        precondition(n > 0 && n <= Int(UInt32.max))
        let bound = UInt32(n)
        let limit = UInt32.max - UInt32.max % bound
        while true {
            let x = nextUInt32()
            if x < limit { return Int(x % bound) }
        }
    }

    /// Standard normal by the Box–Muller transform; the second value of each pair is kept for the next call.
    @inline(__always)
    public mutating func nextNormal() -> Float {
        if hasSpare {
            hasSpare = false
            return spareNormal
        }
        let u1 = Double(nextUniform())
        let u2 = Double(nextUniform())
        let r = (-2 * Foundation.log(u1)).squareRoot()
        let theta = 2 * Double.pi * u2
        spareNormal = Float(r * Foundation.sin(theta))
        hasSpare = true
        return Float(r * Foundation.cos(theta))
    }

    /// Fills `count` floats at `out` with standard-normal draws.
    public mutating func fillNormal(_ out: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { out[i] = nextNormal() }
    }

    /// A uniformly random permutation of 0..<n (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n < 2 { return p }
        for i in stride(from: n - 1, to: 0, by: -1) {
            p.swapAt(i, nextInt(below: i + 1))
        }
        return p
    }
}

/// Stream ids for the purposes randomness is drawn for. Keyed by global coordinates only.
public enum RandomPurpose: UInt64 {
    case initialization = 1
    case shuffle = 2
    case reparameterization = 3
    case mask = 4
    case evaluation = 5
    case split = 6
    /// Simulated missing modalities (`data.missingRate`): epoch = data file part, index = row.
    case missingness = 7
    /// The mixture component a row's term samples (`model.mixtureSampling: onePerRow`).
    case component = 8

    /// A stream id unique to (purpose, epoch, global sample index): 8 bits of purpose, 16 of epoch,
    /// 40 of index (a trillion rows).
    public func stream(epoch: Int = 0, index: Int = 0) -> UInt64 {
        (rawValue << 56) | ((UInt64(truncatingIfNeeded: epoch) & 0xFFFF) << 40)
            | (UInt64(truncatingIfNeeded: index) & 0xFF_FFFF_FFFF)
    }
}
