import Foundation

// `@exclusivity(unchecked)` on the properties the step touches: README, "The training step and the exchange".

/// Reverse-mode automatic differentiation over matrices.
///
/// A step records ops in order; `backward(_:)` walks them in reverse, each op accumulating its
/// vector-Jacobian product into its inputs' gradients. Node storage lives in slots keyed by the
/// node's position in the step: `reset()` rewinds the tape, and replaying the same graph (same
/// ops in the same order, shapes no larger) reuses every buffer, so steady-state steps touch no
/// allocator. Parameters are views into a `ParameterArena`, so their gradients accumulate straight
/// into the arena's flat gradient buffer.
public final class Tape {
    struct Node {
        var op: Op
        var rows: Int
        var cols: Int
        var value: UnsafeMutablePointer<Float>
        var grad: UnsafeMutablePointer<Float>
        var needsGrad: Bool
    }

    /// Buffers owned by the tape for one node position.
    struct Slot {
        var value: UnsafeMutablePointer<Float>? = nil
        var grad: UnsafeMutablePointer<Float>? = nil
        var capacity = 0
        var aux: UnsafeMutablePointer<Float>? = nil
        var auxCapacity = 0
        var pivots: UnsafeMutablePointer<Int32>? = nil
        var pivotCapacity = 0
    }

    @exclusivity(unchecked) var nodes: ContiguousArray<Node> = []
    @exclusivity(unchecked) var slots: ContiguousArray<Slot> = []
    /// Per node: a parameter leaf that no earlier leaf overlaps (`markFirstParameterUses`).
    @exclusivity(unchecked) var isFirstParameterUse: ContiguousArray<Bool> = []
    /// The external leaves taking gradients seen so far while marking (kept for its capacity).
    @exclusivity(unchecked) var parameterLeaves: ContiguousArray<Int> = []
    /// Number of nodes recorded since the last `reset()`.
    @exclusivity(unchecked) public private(set) var count = 0
    /// The ranks that `sumOverRanks` sums over (the trainer's; nil: this process alone).
    @exclusivity(unchecked) public var communicator: Communicator?
    /// A collective that failed during `backward` (which does not throw); cleared by `reset()`.
    @exclusivity(unchecked) public internal(set) var collectiveFailure: Error?
    /// Bytes the tape has allocated in total (grows only while a new graph shape is first seen).
    @exclusivity(unchecked) public private(set) var allocatedBytes = 0
    /// `withStableNodeCount` regions, the step itself first; the one open now; the regions this step has
    /// entered, in order (for `rewind`).
    @exclusivity(unchecked) var regions: ContiguousArray<StableRegion> = [StableRegion()]
    @exclusivity(unchecked) var openRegion = 0
    @exclusivity(unchecked) var regionEntries: ContiguousArray<RegionEntry> = []
    @exclusivity(unchecked) var enteredRegions = 0
    /// The stores of `array(count:_:)`, one per element type.
    @exclusivity(unchecked) @usableFromInline var arrayKeys: ContiguousArray<ObjectIdentifier> = []
    @exclusivity(unchecked) @usableFromInline var arrayStores: ContiguousArray<StepArrayRestart> = []
    /// The geometries of the step's convolutions (their ops hold an index; emptied by `reset`).
    @exclusivity(unchecked) var convolutionGeometries: ContiguousArray<ConvolutionGeometry> = []
    /// `linear` multiplies a data input (one taking no gradient) of at least `sparseInputMinimumColumns` columns
    /// over its non-zeros alone when they are at most this share of the batch (`SparseInput.swift`); 0: never.
    @exclusivity(unchecked) public var sparseInputLimit: Float = 0.15
    /// A dummy gradient target for nodes that need none.
    let scratch: UnsafeMutablePointer<Float>
    /// Double-precision scratch shared by ops that factor small matrices (grows, never shrinks).
    @exclusivity(unchecked) private var doubles: UnsafeMutablePointer<Double>
    @exclusivity(unchecked) private var doublesCapacity = 0

    public init(reserve: Int = 256) {
        nodes.reserveCapacity(reserve)
        slots.reserveCapacity(reserve)
        scratch = .allocate(capacity: 1)
        doubles = .allocate(capacity: 1)
    }

    deinit {
        for s in slots {
            s.value?.deallocate()
            s.grad?.deallocate()
            s.aux?.deallocate()
            s.pivots?.deallocate()
        }
        scratch.deallocate()
        doubles.deallocate()
    }

    /// Rewinds the tape for the next step; buffers are kept for reuse.
    public func reset() {
        count = 0
        regions[0].entered = 0
        openRegion = 0
        enteredRegions = 0
        while !convolutionGeometries.isEmpty { convolutionGeometries.removeLast() }
        for store in arrayStores { store.restart() }
        collectiveFailure = nil
    }

    /// Drops the nodes recorded after position `mark` (a previous `count`), keeping the earlier ones:
    /// evaluation loops record shared work once and rewind between Monte-Carlo draws.
    public func rewind(to mark: Int) {
        precondition(mark >= 0 && mark <= count, "rewind(to: \(mark)) outside 0…\(count)")
        count = mark
        forgetRegions(from: mark)
    }

    // MARK: Recording

    /// Records a node whose value buffer is owned by the tape; returns its handle.
    /// The value buffer's contents are undefined: the caller's forward pass fills it.
    @inline(__always)
    func record(_ op: Op, rows: Int, cols: Int, needsGrad: Bool) -> Var {
        let n = rows * cols
        let i = count
        if i == slots.count { slots.append(Slot()) }
        if slots[i].capacity < n || slots[i].value == nil {
            slots[i].value?.deallocate()
            slots[i].grad?.deallocate()
            let cap = Swift.max(n, 1)
            slots[i].value = .allocate(capacity: cap)
            slots[i].grad = .allocate(capacity: cap)
            slots[i].capacity = cap
            allocatedBytes += 2 * cap * MemoryLayout<Float>.stride
        }
        let node = Node(op: op, rows: rows, cols: cols, value: slots[i].value!, grad: slots[i].grad!, needsGrad: needsGrad)
        if i == nodes.count { nodes.append(node) } else { nodes[i] = node }
        count += 1
        return Var(i)
    }

    /// Records a leaf that views memory owned elsewhere (parameters in an arena).
    func recordExternal(
        rows: Int, cols: Int, value: UnsafeMutablePointer<Float>,
        grad: UnsafeMutablePointer<Float>?, needsGrad: Bool
    ) -> Var {
        let i = count
        if i == slots.count { slots.append(Slot()) }
        let node = Node(op: .leaf, rows: rows, cols: cols, value: value, grad: grad ?? scratch, needsGrad: needsGrad)
        if i == nodes.count { nodes.append(node) } else { nodes[i] = node }
        count += 1
        return Var(i)
    }

    /// Scratch floats for node `v`, kept across steps.
    func aux(_ v: Var, count n: Int) -> UnsafeMutablePointer<Float> {
        // Also when n = 0 (a rank without rows): the caller gets a valid pointer either way.
        if slots[v.id].aux == nil || slots[v.id].auxCapacity < n {
            slots[v.id].aux?.deallocate()
            slots[v.id].aux = .allocate(capacity: Swift.max(n, 1))
            slots[v.id].auxCapacity = Swift.max(n, 1)
            allocatedBytes += Swift.max(n, 1) * MemoryLayout<Float>.stride
        }
        return slots[v.id].aux!
    }

    /// `n` doubles of scratch valid until the next call (kept across steps).
    func doubleWorkspace(count n: Int) -> UnsafeMutablePointer<Double> {
        if doublesCapacity < n {
            doubles.deallocate()
            doubles = .allocate(capacity: n)
            doublesCapacity = n
            allocatedBytes += n * MemoryLayout<Double>.stride
        }
        return doubles
    }

    /// Scratch pivot indices for node `v`, kept across steps.
    func pivots(_ v: Var, count n: Int) -> UnsafeMutablePointer<Int32> {
        if slots[v.id].pivotCapacity < n {
            slots[v.id].pivots?.deallocate()
            slots[v.id].pivots = .allocate(capacity: Swift.max(n, 1))
            slots[v.id].pivotCapacity = Swift.max(n, 1)
            allocatedBytes += Swift.max(n, 1) * MemoryLayout<Int32>.stride
        }
        return slots[v.id].pivots!
    }

    // MARK: Leaves

    /// A constant (no gradient) copied from `m`.
    public func constant(_ m: Matrix) -> Var {
        let v = record(.leaf, rows: m.rows, cols: m.cols, needsGrad: false)
        m.storage.withUnsafeBufferPointer { src in
            if m.count > 0 { nodes[v.id].value.update(from: src.baseAddress!, count: m.count) }
        }
        return v
    }

    /// A constant that views `rows × cols` floats owned elsewhere (valid until the next `reset()`): no copy.
    package func externalConstant(_ value: UnsafeMutablePointer<Float>, rows: Int, cols: Int) -> Var {
        recordExternal(rows: rows, cols: cols, value: value, grad: nil, needsGrad: false)
    }

    /// A constant filled in place by `fill`, which receives the node's row-major buffer.
    public func input(rows: Int, cols: Int, _ fill: (UnsafeMutablePointer<Float>) -> Void) -> Var {
        let v = record(.leaf, rows: rows, cols: cols, needsGrad: false)
        fill(nodes[v.id].value)
        return v
    }

    /// A constant 1×1 value.
    public func scalar(_ x: Float) -> Var {
        input(rows: 1, cols: 1) { $0[0] = x }
    }

    /// A leaf that takes gradients, copied from `m` (for tests and small free-standing problems).
    public func variable(_ m: Matrix) -> Var {
        let v = record(.leaf, rows: m.rows, cols: m.cols, needsGrad: true)
        m.storage.withUnsafeBufferPointer { src in
            if m.count > 0 { nodes[v.id].value.update(from: src.baseAddress!, count: m.count) }
        }
        return v
    }

    /// A parameter: a view into `arena`'s values whose gradient accumulates into `arena`'s gradients.
    public func parameter(_ view: ParameterView, in arena: ParameterArena) -> Var {
        recordExternal(
            rows: view.rows, cols: view.cols, value: arena.values + view.offset,
            grad: arena.gradients + view.offset, needsGrad: !arena.isFrozen(view))
    }

    // MARK: Reading

    public func shape(_ v: Var) -> (rows: Int, cols: Int) { (nodes[v.id].rows, nodes[v.id].cols) }
    public func rows(_ v: Var) -> Int { nodes[v.id].rows }
    public func cols(_ v: Var) -> Int { nodes[v.id].cols }

    /// The node's value buffer (valid until the next `reset()` and replay).
    public func valuePointer(_ v: Var) -> UnsafeMutablePointer<Float> { nodes[v.id].value }
    /// The node's gradient buffer (meaningful after `backward`).
    public func gradientPointer(_ v: Var) -> UnsafeMutablePointer<Float> { nodes[v.id].grad }

    public func value(_ v: Var) -> Matrix {
        let n = nodes[v.id]
        return Matrix(rows: n.rows, cols: n.cols, Array(UnsafeBufferPointer(start: n.value, count: n.rows * n.cols)))
    }

    /// The single value of a 1×1 node.
    public func item(_ v: Var) -> Float {
        precondition(nodes[v.id].rows * nodes[v.id].cols == 1, "item() needs a 1x1 node")
        return nodes[v.id].value[0]
    }

    /// The node's gradient after `backward`. A fused `linear` node with ReLU holds dL/d(pre-activation)
    /// there instead of dL/d(output): its VJP masks its own gradient in place (no scratch buffer).
    public func gradient(_ v: Var) -> Matrix {
        let n = nodes[v.id]
        return Matrix(rows: n.rows, cols: n.cols, Array(UnsafeBufferPointer(start: n.grad, count: n.rows * n.cols)))
    }

    public func needsGradient(_ v: Var) -> Bool { nodes[v.id].needsGrad }

    // MARK: Backward

    /// Backpropagates from the 1×1 node `loss` (its gradient seeded with `seed`). Gradients of
    /// tape-owned nodes are zeroed first; parameter gradients accumulate into the arena, which the
    /// caller zeroes once per step. `finished`, if given, hears of each parameter leaf's gradient as
    /// soon as no node left to run can add to it (see `ParameterGradientObserver`).
    public func backward(_ loss: Var, seed: Float = 1, finished: ParameterGradientObserver? = nil) {
        precondition(nodes[loss.id].rows * nodes[loss.id].cols == 1, "backward needs a 1x1 loss")
        for i in 0..<count where nodes[i].needsGrad {
            if isExternalLeaf(i) { continue }
            nodes[i].grad.update(repeating: 0, count: nodes[i].rows * nodes[i].cols)
        }
        guard nodes[loss.id].needsGrad else { return }
        if finished != nil { markFirstParameterUses() }
        nodes[loss.id].grad[0] += seed
        var i = loss.id
        while i >= 0 {
            if nodes[i].needsGrad {
                backwardNode(i)
                if let finished, isFirstParameterUse[i] {
                    finished.parameterGradientFinished(nodes[i].grad, count: nodes[i].rows * nodes[i].cols)
                }
            }
            i -= 1
        }
    }

    /// A leaf viewing memory the tape does not own (a parameter, or a constant viewed in place).
    func isExternalLeaf(_ i: Int) -> Bool {
        if case .leaf = nodes[i].op { return nodes[i].value != slots[i].value }
        return false
    }
}
