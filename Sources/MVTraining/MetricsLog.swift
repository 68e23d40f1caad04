import Foundation
import MVIO

/// Per-epoch metrics appended to `<run>/metrics.jsonl` (one JSON object a line) and `<run>/metrics.csv`.
public final class MetricsLog {
    public let jsonPath: String
    public let csvPath: String
    static let columns = [
        "stage", "stage_epoch", "epoch", "step", "beta", "train_loss", "train_reconstruction", "train_kl",
        "validation_loss", "validation_reconstruction", "validation_kl", "seconds", "samples_per_second", "allreduce_seconds",
    ]

    public init(run: String) throws {
        jsonPath = (run as NSString).appendingPathComponent("metrics.jsonl")
        csvPath = (run as NSString).appendingPathComponent("metrics.csv")
        if !FileManager.default.fileExists(atPath: csvPath) {
            try (Self.columns.joined(separator: ",") + "\n").write(toFile: csvPath, atomically: true, encoding: .utf8)
        } else {
            try Self.upgradeFromOneStageLayout(csvPath)
        }
    }

    /// A run from before recipes had stages has no stage columns: its rows are all of stage `train`, with
    /// the epoch within the stage equal to the epoch. Rewritten once, so resumed rows line up.
    static func upgradeFromOneStageLayout(_ path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), text.hasPrefix("epoch,step,") else { return }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        lines[0] = columns.joined(separator: ",")
        for i in lines.indices.dropFirst() {
            let epoch = lines[i].prefix { $0 != "," }
            lines[i] = "train,\(epoch),\(lines[i])"
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    public func append(_ s: EpochSummary) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var line = try encoder.encode(s)
        line.append(0x0A)
        try Self.append(line, to: jsonPath)
        func f(_ x: Double?) -> String { x.map { String(format: "%.6g", $0) } ?? "" }
        let row = [
            s.stage, "\(s.stageEpoch)", "\(s.epoch)", "\(s.step)", f(Double(s.beta)), f(s.trainLoss), f(s.trainReconstruction),
            f(s.trainKL),
            f(s.validationLoss), f(s.validationReconstruction), f(s.validationKL), f(s.seconds), f(s.samplesPerSecond),
            f(s.allreduceSeconds),
        ]
        try Self.append((row.joined(separator: ",") + "\n").data(using: .utf8)!, to: csvPath)
    }

    /// A run's epochs from `metrics.jsonl`, in order; where a resume re-ran epochs (an abandoned
    /// trajectory), the last record of each epoch.
    public static func read(run: String) throws -> [EpochSummary] {
        let path = (run as NSString).appendingPathComponent("metrics.jsonl")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CheckpointError(path: path, .io(operation: "read", message: "missing or unreadable: train the run first"))
        }
        var byEpoch: [Int: EpochSummary] = [:]
        for (n, line) in text.split(separator: "\n").enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            do {
                let s = try JSONDecoder().decode(EpochSummary.self, from: Data(line.utf8))
                byEpoch[s.epoch] = s
            } catch {
                throw CheckpointError(path: path, .invalidState("line \(n + 1) is not an epoch record (\(error))"))
            }
        }
        return byEpoch.keys.sorted().map { byEpoch[$0]! }
    }

    static func append(_ data: Data, to path: String) throws {
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: data)
    }
}
