import Foundation

/// Reverse-mode automatic differentiation over matrices.
///
/// A step records ops in order; `backward(_:)` walks them in reverse, each op accumulating its
/// vector-Jacobian product into its inputs' gradients. Node buffers come from a pool the tape keeps
/// (`BufferPool`): `reset()` gives them back, and each node takes the smallest free one that holds it,
/// so a step that records a graph no larger than one seen before (fewer nodes, or nodes elsewhere)
/// touches no allocator, and replaying one graph takes the same buffers every time. Parameters are views into a `ParameterArena`, so their gradients accumulate straight
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

    /// The pool's buffers a node holds for this step (nil: none; `value` nil for a leaf viewing memory
    /// the tape does not own), with their capacities.
    struct Slot {
        var value: UnsafeMutablePointer<Float>? = nil
        var valueCapacity = 0
        var grad: UnsafeMutablePointer<Float>? = nil
        var gradCapacity = 0
        var aux: UnsafeMutablePointer<Float>? = nil
        var auxCapacity = 0
        var pivots: UnsafeMutablePointer<Int32>? = nil
        var pivotCapacity = 0
    }

    var nodes: ContiguousArray<Node> = []
    var slots: ContiguousArray<Slot> = []
    /// Per node: a parameter leaf that no earlier leaf overlaps (`markFirstParameterUses`).
    var isFirstParameterUse: ContiguousArray<Bool> = []
    /// The external leaves taking gradients seen so far while marking (kept for its capacity).
    var parameterLeaves: ContiguousArray<Int> = []
    /// Number of nodes recorded since the last `reset()`.
    public private(set) var count = 0
    /// The ranks that `sumOverRanks` sums over (the trainer's; nil: this process alone).
    public var communicator: Communicator?
    /// A collective that failed during `backward` (which does not throw); cleared by `reset()`.
    public internal(set) var collectiveFailure: Error?
    /// Bytes the tape has allocated in total (grows only while a larger graph is first seen).
    public var allocatedBytes: Int { floats.allocatedBytes + pivotPool.allocatedBytes + doublesCapacity * MemoryLayout<Double>.stride }
    /// The buffers of nodes' values, gradients and scratch, and of pivot indices.
    private var floats = BufferPool<Float>()
    private var pivotPool = BufferPool<Int32>()
    /// A dummy gradient target for nodes that need none.
    private let scratch: UnsafeMutablePointer<Float>
    /// Double-precision scratch shared by ops that factor small matrices (grows, never shrinks).
    private var doubles: UnsafeMutablePointer<Double>
    private var doublesCapacity = 0

    public init(reserve: Int = 256) {
        nodes.reserveCapacity(reserve)
        slots.reserveCapacity(reserve)
        scratch = .allocate(capacity: 1)
        doubles = .allocate(capacity: 1)
    }

    deinit {
        floats.deallocateAll()
        pivotPool.deallocateAll()
        scratch.deallocate()
        doubles.deallocate()
    }

    /// Rewinds the tape for the next step; the buffers go back to the pool for reuse.
    public func reset() {
        release(from: 0)
        count = 0
        collectiveFailure = nil
    }

    /// Drops the nodes recorded after position `mark` (a previous `count`), keeping the earlier ones:
    /// evaluation loops record shared work once and rewind between Monte-Carlo draws.
    public func rewind(to mark: Int) {
        precondition(mark >= 0 && mark <= count, "rewind(to: \(mark)) outside 0…\(count)")
        release(from: mark)
        count = mark
    }

    /// Gives the buffers of the nodes from position `start` on back to the pool, last node first (so
    /// that the next step's first node of a size takes this step's first one again).
    private func release(from start: Int) {
        for i in stride(from: count - 1, through: start, by: -1) {
            if let p = slots[i].pivots {
                pivotPool.giveBack(p, capacity: slots[i].pivotCapacity)
                slots[i].pivots = nil
            }
            if let a = slots[i].aux {
                floats.giveBack(a, capacity: slots[i].auxCapacity)
                slots[i].aux = nil
            }
            if let g = slots[i].grad {
                floats.giveBack(g, capacity: slots[i].gradCapacity)
                slots[i].grad = nil
            }
            if let v = slots[i].value {
                floats.giveBack(v, capacity: slots[i].valueCapacity)
                slots[i].value = nil
            }
        }
    }

    // MARK: Recording

    /// Records a node whose value buffer is owned by the tape; returns its handle.
    /// The value buffer's contents are undefined: the caller's forward pass fills it.
    @inline(__always)
    func record(_ op: Op, rows: Int, cols: Int, needsGrad: Bool) -> Var {
        let n = rows * cols
        let i = count
        if i == slots.count { slots.append(Slot()) }
        let value = floats.take(n), grad = floats.take(n)
        (slots[i].value, slots[i].valueCapacity) = (value.buffer, value.capacity)
        (slots[i].grad, slots[i].gradCapacity) = (grad.buffer, grad.capacity)
        let node = Node(op: op, rows: rows, cols: cols, value: value.buffer, grad: grad.buffer, needsGrad: needsGrad)
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

    /// `n` scratch floats for node `v` (from the pool, until the node is released).
    func aux(_ v: Var, count n: Int) -> UnsafeMutablePointer<Float> {
        // Also when n = 0 (a rank without rows): the caller gets a valid pointer either way.
        if let a = slots[v.id].aux {
            if slots[v.id].auxCapacity >= n { return a }
            floats.giveBack(a, capacity: slots[v.id].auxCapacity)
        }
        let a = floats.take(n)
        (slots[v.id].aux, slots[v.id].auxCapacity) = (a.buffer, a.capacity)
        return a.buffer
    }

    /// `n` doubles of scratch valid until the next call (kept across steps).
    func doubleWorkspace(count n: Int) -> UnsafeMutablePointer<Double> {
        if doublesCapacity < n {
            doubles.deallocate()
            doubles = .allocate(capacity: n)
            doublesCapacity = n
        }
        return doubles
    }

    /// `n` scratch pivot indices for node `v` (from the pool, until the node is released).
    func pivots(_ v: Var, count n: Int) -> UnsafeMutablePointer<Int32> {
        if let p = slots[v.id].pivots {
            if slots[v.id].pivotCapacity >= n { return p }
            pivotPool.giveBack(p, capacity: slots[v.id].pivotCapacity)
        }
        let p = pivotPool.take(n)
        (slots[v.id].pivots, slots[v.id].pivotCapacity) = (p.buffer, p.capacity)
        return p.buffer
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
