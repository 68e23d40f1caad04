/// Hears, during `Tape.backward`, of each parameter gradient that is complete: a one-process trainer
/// takes the optimizer step of those coordinates right then, while the gradient and the parameter
/// are still in cache (`LocalExchange`), instead of in a pass over the whole arena afterwards.
public protocol ParameterGradientObserver: AnyObject {
    /// `count` gradient floats from `gradient` on (a view into the arena's gradient buffer) will not
    /// change again in this backward pass, and no node left to run reads the parameter's value.
    func parameterGradientFinished(_ gradient: UnsafeMutablePointer<Float>, count: Int)
}

extension Tape {
    /// Marks the parameter leaves whose gradient is final once the reverse pass has gone below them.
    /// Only nodes recorded after a leaf can read it, so once the pass reaches a leaf every node that
    /// reads its value or adds to its gradient has run, unless an earlier leaf views overlapping
    /// floats (a parameter recorded twice): those are marked at the earliest one only. Floats of a
    /// leaf that is not marked are left to whoever sweeps after the pass.
    func markFirstParameterUses() {
        if isFirstParameterUse.count < count {
            isFirstParameterUse.append(contentsOf: repeatElement(false, count: count - isFirstParameterUse.count))
        }
        parameterLeaves.removeAll(keepingCapacity: true)
        for i in 0..<count {
            isFirstParameterUse[i] = false
            guard nodes[i].needsGrad, isExternalLeaf(i) else { continue }
            let start = nodes[i].grad, end = start + nodes[i].rows * nodes[i].cols
            guard end > start else { continue }
            var overlapped = false
            for j in parameterLeaves {
                let otherStart = nodes[j].grad, otherEnd = otherStart + nodes[j].rows * nodes[j].cols
                if start < otherEnd && otherStart < end { overlapped = true; break }
            }
            isFirstParameterUse[i] = !overlapped
            parameterLeaves.append(i)
        }
    }
}
