import Foundation

// `@exclusivity(unchecked)` on the properties the step touches: README, "The training step and the exchange".

/// A named slice of the parameter arena: rows×cols floats starting at `offset`.
public struct ParameterView: Hashable, Sendable {
    public let name: String
    public let offset: Int
    public let rows: Int
    public let cols: Int
    public var count: Int { rows * cols }
}

/// How a parameter is initialised.
public enum Initializer: Sendable, Equatable {
    case zeros
    case constant(Float)
    /// N(0, 2 / fanIn): He/Kaiming for ReLU layers.
    case kaimingNormal(fanIn: Int)
    /// U(±sqrt(6 / (fanIn + fanOut))): Glorot/Xavier.
    case xavierUniform(fanIn: Int, fanOut: Int)
    case normal(std: Float)
    case uniform(low: Float, high: Float)
}

/// All trainable parameters in one contiguous buffer, with a twin gradient buffer.
///
/// Layers register their tensors (name, shape, initializer) while a model is built; `materialize`
/// then allocates both buffers once and initialises every view from the seed, each view from its
/// own Philox stream so the values do not depend on registration order elsewhere. One buffer means
/// one allreduce, one optimizer loop, one checksum and a checkpoint that is a list of named views.
public final class ParameterArena {
    @exclusivity(unchecked) public private(set) var views: [ParameterView] = []
    @exclusivity(unchecked) private var initializers: [Initializer] = []
    /// Parameter groups in registration order: each a contiguous range of the buffers (see `beginGroup`).
    @exclusivity(unchecked) public private(set) var groups: [(name: String, range: Range<Int>)] = []
    @exclusivity(unchecked) private var byName: [String: Int] = [:]
    /// Total floats including alignment padding.
    @exclusivity(unchecked) public private(set) var count = 0
    @exclusivity(unchecked) public private(set) var values: UnsafeMutablePointer<Float>
    @exclusivity(unchecked) public private(set) var gradients: UnsafeMutablePointer<Float>
    @exclusivity(unchecked) public private(set) var isMaterialized = false
    /// The arena's own buffers while `values`/`gradients` point at borrowed (shared) memory.
    @exclusivity(unchecked) private var ownStorage: (values: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>)?

    /// Each view starts on a 16-float (64-byte) boundary so kernels see aligned rows.
    static let alignment = 16

    public init() {
        values = .allocate(capacity: 1)
        gradients = .allocate(capacity: Self.controlCapacity)
    }

    deinit {
        let own = ownStorage ?? (values, gradients)
        own.values.deallocate()
        own.gradients.deallocate()
    }

    /// Points `values` and `gradients` at other memory (`count` and `count + controlCapacity` floats),
    /// or back at the arena's own buffers (nil). Whoever lends the memory (a `StorageLoan`) copies the
    /// contents both ways; everything that reads the arena (the tape, Adam, checkpoints) follows.
    package func point(values newValues: UnsafeMutablePointer<Float>?, gradients newGradients: UnsafeMutablePointer<Float>?) {
        precondition(isMaterialized, "point(values:gradients:) before materialize()")
        if let newValues, let newGradients {
            precondition(ownStorage == nil, "the arena already points at borrowed memory")
            ownStorage = (values, gradients)
            values = newValues
            gradients = newGradients
        } else if let own = ownStorage {
            values = own.values
            gradients = own.gradients
            ownStorage = nil
        }
    }

    /// Starts a named group: the parameters registered from here until the next group belong to it.
    /// Groups are contiguous in the arena, so a training stage that trains some groups and freezes the
    /// rest updates, exchanges and zeroes one range of the buffers. A model without groups is one
    /// group covering everything.
    public func beginGroup(_ name: String) {
        precondition(!isMaterialized, "beginGroup \(name) after materialize()")
        precondition(!groups.contains { $0.name == name }, "duplicate parameter group \(name)")
        groups.append((name, count..<count))
    }

    /// The arena range of `names` (adjacent groups), or nil when a name is unknown or they leave a gap.
    public func range(ofGroups names: [String]) -> Range<Int>? {
        let picked = groups.filter { names.contains($0.name) }
        guard picked.count == Set(names).count, let first = picked.first, let last = picked.last else { return nil }
        let covered = picked.reduce(0) { $0 + $1.range.count }
        guard covered == last.range.upperBound - first.range.lowerBound else { return nil }
        return first.range.lowerBound..<last.range.upperBound
    }

    /// Registers a parameter; names must be unique ("encoder1.layer0.weight").
    @discardableResult
    public func register(_ name: String, rows: Int, cols: Int, initializer: Initializer) -> ParameterView {
        precondition(!isMaterialized, "register \(name) after materialize()")
        precondition(byName[name] == nil, "duplicate parameter name \(name)")
        let view = ParameterView(name: name, offset: count, rows: rows, cols: cols)
        byName[name] = views.count
        views.append(view)
        initializers.append(initializer)
        let a = Self.alignment
        count += (rows * cols + a - 1) / a * a
        if let last = groups.indices.last { groups[last].range = groups[last].range.lowerBound..<count }
        return view
    }

    /// Allocates the buffers and initialises every parameter from `seed`.
    public func materialize(seed: UInt64) {
        precondition(!isMaterialized, "materialize() called twice")
        values.deallocate()
        gradients.deallocate()
        let cap = Swift.max(count, 1)
        values = .allocate(capacity: cap)
        gradients = .allocate(capacity: count + Self.controlCapacity)
        values.initialize(repeating: 0, count: cap)
        gradients.initialize(repeating: 0, count: count + Self.controlCapacity)
        isMaterialized = true
        trainable = 0..<count
        for (k, view) in views.enumerated() {
            var rng = RandomStream(seed: seed, stream: RandomPurpose.initialization.stream(index: k))
            let p = values + view.offset
            switch initializers[k] {
            case .zeros: break
            case .constant(let c): p.update(repeating: c, count: view.count)
            case .kaimingNormal(let fanIn):
                let s = (2 / Float(Swift.max(fanIn, 1))).squareRoot()
                for i in 0..<view.count { p[i] = s * rng.nextNormal() }
            case .xavierUniform(let fanIn, let fanOut):
                let b = (6 / Float(Swift.max(fanIn + fanOut, 1))).squareRoot()
                for i in 0..<view.count { p[i] = b * (2 * rng.nextUniform() - 1) }
            case .normal(let std):
                for i in 0..<view.count { p[i] = std * rng.nextNormal() }
            case .uniform(let low, let high):
                for i in 0..<view.count { p[i] = low + (high - low) * rng.nextUniform() }
            }
        }
    }

    public func view(named name: String) -> ParameterView? { byName[name].map { views[$0] } }

    /// The coordinates being trained (a stage's groups): parameters outside it are frozen — the tape
    /// records no gradient for them, so the backward pass stops where only frozen leaves lie beyond.
    @exclusivity(unchecked) public var trainable: Range<Int> = 0..<0
    @inline(__always)
    public func isFrozen(_ view: ParameterView) -> Bool { !trainable.contains(view.offset) && view.count > 0 }

    public func zeroGradients() { gradients.update(repeating: 0, count: count) }

    /// Floats after the gradients for control scalars that ride along in the gradient allreduce.
    public static let controlCapacity = 16
    /// The control tail: `controlCapacity` floats directly after the gradients.
    public var control: UnsafeMutablePointer<Float> { gradients + count }

    /// Trainable scalars, without alignment padding.
    public var parameterCount: Int { views.reduce(0) { $0 + $1.count } }

    /// Scalars of the views that start in `range`, without alignment padding.
    public func parameterCount(in range: Range<Int>) -> Int { views.reduce(0) { range.contains($1.offset) ? $0 + $1.count : $0 } }

    /// A copy of one view's values.
    public func value(_ view: ParameterView) -> Matrix {
        Matrix(rows: view.rows, cols: view.cols, Array(UnsafeBufferPointer(start: values + view.offset, count: view.count)))
    }

    /// A copy of one view's gradient.
    public func gradient(_ view: ParameterView) -> Matrix {
        Matrix(rows: view.rows, cols: view.cols, Array(UnsafeBufferPointer(start: gradients + view.offset, count: view.count)))
    }

    /// Overwrites `values.count` floats from `offset` on (an end-of-stage assignment on one rank).
    public func write(_ values: [Float], at offset: Int) {
        precondition(offset >= 0 && offset + values.count <= count, "write of \(values.count) floats at \(offset) outside 0..<\(count)")
        values.withUnsafeBufferPointer { (self.values + offset).update(from: $0.baseAddress!, count: $0.count) }
    }

    /// Overwrites one view's values.
    public func setValue(_ view: ParameterView, _ m: Matrix) {
        precondition(m.rows == view.rows && m.cols == view.cols, "setValue \(view.name): shape mismatch")
        m.storage.withUnsafeBufferPointer { (values + view.offset).update(from: $0.baseAddress!, count: view.count) }
    }

    /// Order-sensitive checksum of all values (Double sum of value·(1 + position mod 7)), for replica checks.
    public func checksum() -> Double {
        var s: Double = 0
        for i in 0..<count { s += Double(values[i]) * Double(1 + i % 7) }
        return s
    }
}
