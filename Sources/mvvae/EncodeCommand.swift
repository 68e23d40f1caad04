import ArgumentParser
import Foundation
import MultiViewVAE

struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Write the latent posterior of every row (embeddings) from any subset of a trained run's views.",
        discussion: """
            Input: one .npy per --given view (rows × features, in --given order), or --split train|validation|test
            for a split of the run's own data. Output, rows aligned with the input:
              PREFIX-mean.npy      posterior means (rows × latent coordinates)
              PREFIX-logvar.npy    their log-variances (Gaussian posteriors: JPVAE, CoVAE, PoE, sum pooling, attention)
              PREFIX-draw.npy      one draw per row (mixture posteriors: MoE, MoPoE), in place of -logvar
              PREFIX-columns.txt   the name of each latent coordinate, one per line
              PREFIX-labels.npy    with --split on labelled data: each row's label (float32, one column)
            What the latent is per model: JPVAE, the latents of the given views side by side; the aggregated
            VAE, the shared z (then each given view's private latent); CoVAE, all of z, the missing views'
            part from the prior conditional.
            """)

    @Option(name: .customLong("run"), help: "Run folder.")
    var runFolder: String

    @Option(help: "A checkpoint folder (default: the run's newest valid checkpoint).")
    var checkpoint: String?

    @Option(help: "The views to encode from, e.g. 1 or 1,3 (default: all).")
    var given: String?

    @Option(help: ".npy of a given view (one per --given view, in order).")
    var input: [String] = []

    @Option(help: "Encode a split of the run's data instead: train, validation or test.")
    var split: String?

    @Option(help: "Path prefix of the output files.")
    var output: String

    @Option(name: .customLong("set"), help: "Override a config value (data paths, e.g. --set data.views=[a.npy,b.npy]).")
    var overrides: [String] = []

    func validate() throws {
        guard input.isEmpty != (split == nil) else {
            throw ValidationError("give either --input FILE.npy (one per --given view) or --split train|validation|test")
        }
        if let split, !["train", "validation", "test"].contains(split) {
            throw ValidationError("--split takes train, validation or test, got '\(split)'")
        }
        if let given {
            guard let views = ViewArguments.parse(given), !views.isEmpty, Set(views).count == views.count else {
                throw ValidationError("--given takes view numbers from 1, e.g. 1 or 1,3; got '\(given)'")
            }
            if !input.isEmpty, input.count != views.count {
                throw ValidationError("give one --input per --given view: \(views.count) view(s), \(input.count) file(s)")
            }
        }
        if output.hasSuffix("/") { throw ValidationError("--output is a prefix of file names (e.g. out/test), not a folder") }
    }

    func run() throws {
        do {
            try encode()
        } catch let e as ValidationError {
            throw e
        } catch {
            FileHandle.standardError.write("mvvae encode: \(error)\n".data(using: .utf8)!)
            throw ExitCode(1)
        }
    }

    func encode() throws {
        let ctx = try RunContext(run: runFolder, checkpoint: checkpoint, overrides: overrides)
        guard let model = ctx.model as? EmbeddingModel else {
            throw ValidationError("mvvae encode does not support '\(ctx.config.model.type.rawValue)' runs")
        }
        let viewCount = model.viewDimensions.count
        let views = given.flatMap(ViewArguments.parse).map { $0.map { $0 - 1 } } ?? Array(0..<viewCount)
        if let bad = views.first(where: { $0 >= viewCount }) {
            throw ValidationError("--given names view \(bad + 1); this run has views 1…\(viewCount)")
        }
        if given == nil, !input.isEmpty, input.count != viewCount {
            throw ValidationError("without --given, give one --input per view: this run has \(viewCount), got \(input.count)")
        }
        var observed: [Int: Matrix] = [:]
        var labels: [Int32]?
        if let split {
            let data = try ExperimentData(config: ctx.config.data, seed: ctx.config.seed)
            let rows = split == "train" ? data.train : split == "validation" ? data.validation : data.test
            guard rows.count > 0 else { throw ValidationError("the run's \(split) split has no rows") }
            if let mask = rows.dataset.mask {
                for k in views {
                    let missing = rows.indices.filter { !mask.isObserved(row: $0, view: k) }.count
                    if missing > 0 {
                        throw ValidationError(
                            "view \(k + 1) is missing (data.mask) in \(missing) of the \(split) split's \(rows.count) rows; "
                                + "encode those from the views they have with --input"
                        )
                    }
                }
            }
            for k in views { observed[k] = rows.matrix(view: k) }
            labels = rows.labels
        } else {
            for (k, path) in zip(views, input) { observed[k] = try ViewArguments.readFinite(path) }
        }
        let embedding = try model.embed(observed, seed: ctx.config.seed)
        let dir = (output as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        var written = ["\(output)-mean.npy"]
        try NPYWriter.write(embedding.mean, to: "\(output)-mean.npy")
        if let v = embedding.logVariance { try NPYWriter.write(v, to: "\(output)-logvar.npy"); written.append("\(output)-logvar.npy") }
        if let d = embedding.draw { try NPYWriter.write(d, to: "\(output)-draw.npy"); written.append("\(output)-draw.npy") }
        try (embedding.columns.joined(separator: "\n") + "\n").write(toFile: "\(output)-columns.txt", atomically: true, encoding: .utf8)
        written.append("\(output)-columns.txt")
        if let labels {
            try NPYWriter.write(Matrix(rows: labels.count, cols: 1, labels.map { Float($0) }), to: "\(output)-labels.npy")
            written.append("\(output)-labels.npy")
        }
        print(
            "encoded \(embedding.mean.rows) rows from view(s) \(views.map { String($0 + 1) }.joined(separator: ",")) into "
                + "\(embedding.columns.count) latent coordinates: \(written.joined(separator: ", "))"
        )
    }
}
