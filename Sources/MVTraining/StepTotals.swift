/// The totals of one step that ride behind the gradients in the arena's buffer (`arena.control`), so
/// that the exchange sums them over ranks with the gradients: the loss terms summed over this rank's
/// rows, its rows with data, and its stop request (any rank's stops every rank after the step).
struct StepTotals {
    /// Floats the exchange carries after the gradients (one spare).
    static let count = 6
    var loss: Float = 0, reconstruction: Float = 0, kl: Float = 0, rows: Float = 0, stop: Float = 0

    init() {}

    /// The totals as `write(to:)` lays them out.
    init(_ p: UnsafePointer<Float>) {
        (loss, reconstruction, kl, rows, stop) = (p[0], p[1], p[2], p[3], p[4])
    }

    func write(to p: UnsafeMutablePointer<Float>) {
        (p[0], p[1], p[2], p[3], p[4], p[5]) = (loss, reconstruction, kl, rows, stop, 0)
    }

    /// The rows the summed loss and gradients are divided by (at least 1).
    var meanDivisor: Double { Swift.max(Double(rows), 1) }
}
