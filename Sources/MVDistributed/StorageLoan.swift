import MVCore

/// The arena's parameters and gradients and the optimizer's moments moved into memory an exchange
/// owns (a node's shared windows) for the duration of a run, and back. While lent, everything that
/// reads the arena or the moments (the tape, Adam, checkpoints) sees the lent memory.
final class StorageLoan {
    let arena: ParameterArena
    let adam: Adam
    private var active = false

    /// `values` and the moments receive the current contents when `copyIn` (one rank per node writes
    /// them; the others hold the same bits); `gradients` (`count + controlCapacity` floats) must be zero.
    init(
        arena: ParameterArena, adam: Adam, values: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>,
        m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, copyIn: Bool
    ) {
        self.arena = arena
        self.adam = adam
        if copyIn {
            values.update(from: arena.values, count: arena.count)
            m.update(from: adam.m, count: adam.count)
            v.update(from: adam.v, count: adam.count)
        }
        arena.point(values: values, gradients: gradients)
        adam.point(m: m, v: v)
        active = true
    }

    /// Copies the lent memory's contents back into the arena's and optimizer's own buffers and points
    /// them there again (idempotent).
    func repay() {
        guard active else { return }
        active = false
        let values = arena.values, gradients = arena.gradients, m = adam.m, v = adam.v
        arena.point(values: nil, gradients: nil)
        adam.point(m: nil, v: nil)
        arena.values.update(from: values, count: arena.count)
        arena.gradients.update(from: gradients, count: arena.count + ParameterArena.controlCapacity)
        adam.m.update(from: m, count: adam.count)
        adam.v.update(from: v, count: adam.count)
    }
}
