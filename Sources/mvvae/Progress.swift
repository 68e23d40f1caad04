import ArgumentParser
import Foundation
import MultiViewVAE

/// Rank 0's progress output: a redrawn bar with samples/s and ETA on a terminal, plain lines every
/// `every` steps otherwise (log files, batch schedulers).
final class ProgressReporter {
    enum Style: String, ExpressibleByArgument, CaseIterable {
        case auto, bar, lines
    }

    let isTerminal: Bool
    let every: Int
    var lastDraw = 0.0
    var runStart = monotonicSeconds()
    var startStep = 0
    /// Recipes of several stages name the stage in every line.
    var stageCount = 1

    /// `auto` draws the bar only on a terminal outside MPI: mpirun hands ranks a pseudo-terminal even
    /// when its own output goes to a file.
    init(every: Int, style: Style = .auto) {
        self.every = every
        switch style {
        case .bar: isTerminal = true
        case .lines: isTerminal = false
        case .auto: isTerminal = isatty(STDOUT_FILENO) != 0 && !MPICommunicator.launchedByMPI
        }
    }

    func handle(_ event: TrainingEvent) {
        switch event {
        case let .started(startStep, totalSteps, parameters, worldSize, exchange):
            self.startStep = startStep
            runStart = monotonicSeconds()
            let how = worldSize > 1 ? " (gradient exchange: \(exchange))" : ""
            print("training: \(parameters) parameters, \(worldSize) rank(s)\(how), steps \(startStep)/\(totalSteps)")
        case let .stageStarted(name, index, count, epochs, trainable, restarts):
            stageCount = count
            guard count > 1 else { break }
            if isTerminal { print("") }
            print(
                "stage \(index + 1)/\(count) '\(name)': \(epochs) epoch(s), training \(trainable) "
                    + "parameters\(restarts ? ", optimizer restarted" : "")"
            )
        case let .stageFinished(name, assigned):
            guard stageCount > 1 else { break }
            if isTerminal { print("") }
            print("stage '\(name)' done" + (assigned.isEmpty ? "" : "; set from the training split: \(assigned.joined(separator: ", "))"))
        case let .step(stage, epoch, step, total, batch, perEpoch, loss, rate, _):
            let now = monotonicSeconds()
            func named() -> String { stageCount > 1 ? "\(stage) " : "" }  // built only when a line is printed
            let done = step - startStep
            let eta = done > 0 ? (now - runStart) / Double(done) * Double(total - step) : 0
            if isTerminal {
                guard now - lastDraw > 0.2 || step == total else { return }
                lastDraw = now
                let width = 24
                let filled = Int(Double(width) * Double(batch) / Double(max(perEpoch, 1)))
                let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
                let line =
                    "\r" + named()
                    + String(
                        format: " epoch %d %@ %d/%d  loss %.3f  %.0f samples/s  ETA %@ ", epoch + 1, bar, batch, perEpoch,
                        loss, rate, Self.duration(eta))
                FileHandle.standardOutput.write(line.data(using: .utf8)!)
            } else if step % every == 0 {
                print(
                    named()
                        + String(
                            format: "step %d/%d  epoch %d  batch %d/%d  loss %.4f  %.0f samples/s  ETA %@", step, total, epoch + 1,
                            batch, perEpoch, loss, rate, Self.duration(eta)))
            }
        case let .epochFinished(s):
            if isTerminal { print("") }
            var line =
                (stageCount > 1 ? "\(s.stage) " : "")
                + String(
                    format: "epoch %d  train loss %.4f (recon %.4f, KL %.4f)", stageCount > 1 ? s.stageEpoch : s.epoch, s.trainLoss,
                    s.trainReconstruction, s.trainKL)
            if let v = s.validationLoss, let r = s.validationReconstruction, let k = s.validationKL {
                line += String(format: "  validation %.4f (recon %.4f, KL %.4f)", v, r, k)
            }
            line += String(
                format: "  %.1f s, %.0f samples/s, exchange %.1f%%", s.seconds, s.samplesPerSecond,
                100 * s.allreduceSeconds / max(s.seconds, 1e-9))
            print(line)
        case let .checkpointSaved(path, step):
            print("checkpoint: step \(step) saved to \(path)")
        case let .stopRequested(step):
            if isTerminal { print("") }
            print("stopping (signal or --max-steps): saving a checkpoint at step \(step), then exiting")
        }
        fflush(stdout)
    }

    static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) : String(format: "%dm%02ds", t / 60, t % 60)
    }
}
