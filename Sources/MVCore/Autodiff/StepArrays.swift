/// Arrays a step builds (a view's inputs, a mixture's components), kept by the tape from step to step
/// like its node buffers: the k-th array of an element type a step makes refills the storage of the
/// k-th one the step before made, so a step that makes the same arrays allocates none. Arrays are
/// values: one still held when the tape refills its storage is copied, never overwritten.
extension Tape {
    /// [element(0), …, element(count − 1)], built in order (an element may record nodes or arrays).
    @inlinable
    public func array<Element>(count: Int, _ element: (Int) throws -> Element) rethrows -> [Element] {
        let store = arrays(of: Element.self)
        let k = store.claim()
        for i in 0..<count {
            let e = try element(i)
            store.storage[k].append(e)
        }
        return store.storage[k]
    }

    /// The store of arrays of `Element`, made on first use.
    @inlinable
    func arrays<Element>(of type: Element.Type) -> StepArrayStore<Element> {
        let key = ObjectIdentifier(type)
        for i in arrayKeys.indices where arrayKeys[i] == key {
            return unsafeDowncast(arrayStores[i], to: StepArrayStore<Element>.self)
        }
        let store = StepArrayStore<Element>()
        arrayKeys.append(key)
        arrayStores.append(store)
        return store
    }
}

/// One element type's arrays, by order of making in the step.
@usableFromInline
final class StepArrayStore<Element>: StepArrayRestart {
    @exclusivity(unchecked) @usableFromInline var storage: ContiguousArray<[Element]> = []
    @exclusivity(unchecked) @usableFromInline var made = 0

    @usableFromInline override init() {}

    /// The next array's index, emptied (its capacity kept).
    @inlinable
    func claim() -> Int {
        if made == storage.count {
            storage.append([])
        } else {
            // Not `removeAll(keepingCapacity:)`: unspecialized in the standard library, it costs more than the step's use.
            while !storage[made].isEmpty { storage[made].removeLast() }
        }
        made += 1
        return made - 1
    }

    @usableFromInline override func restart() { made = 0 }
}

/// A store of any element type, as the tape holds it: restarted at the tape's reset.
@usableFromInline
class StepArrayRestart {
    @usableFromInline init() {}
    @usableFromInline func restart() {}
}
