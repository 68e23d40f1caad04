import ArgumentParser
import Foundation
import MultiViewVAE

struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw a run's loss curves (training and validation loss per epoch) as a PNG.",
        discussion: "Reads <run>/metrics.jsonl. Training writes the same picture to <run>/curves.png when it stops.")

    @Option(name: .customLong("run"), help: "Run folder.")
    var runFolder: String

    @Option(help: "Where to write the PNG (default: <run>/curves.png).")
    var output: String?

    func run() throws {
        do {
            let path = try Self.draw(run: runFolder, to: output)
            print("wrote the loss curves to \(path)")
        } catch {
            FileHandle.standardError.write("mvvae plot: \(error)\n".data(using: .utf8)!)
            throw ExitCode(1)
        }
    }

    /// Draws `run`'s curves to `output` (default `<run>/curves.png`); returns the path.
    static func draw(run: String, to output: String? = nil) throws -> String {
        let epochs = try MetricsLog.read(run: run)
        guard !epochs.isEmpty else { throw ValidationError("\(run)/metrics.jsonl has no epochs yet") }
        let path = output ?? (run as NSString).appendingPathComponent("curves.png")
        try CurvePlot(epochs: epochs).write(to: path)
        return path
    }
}
