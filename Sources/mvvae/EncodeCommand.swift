import ArgumentParser
import Foundation
import MultiViewVAE

struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Write the latent posterior of every row (embeddings) from any subset of a trained run's views.",
        discussion: """
            Input: one .npy per --given view (rows × features, in --given order), or --split train|validation|test|all
            for a split of the run's own data (all: every row, in file order). Output, rows aligned with the input:
              PREFIX-mean.npy      posterior means (rows × latent coordinates)
              PREFIX-logvar.npy    their log-variances (Gaussian posteriors: JPVAE, CoVAE, PoE, sum pooling, attention)
              PREFIX-draw.npy      one draw per row (mixture posteriors: MoE, MoPoE), in place of -logvar
              PREFIX-columns.txt   the name of each latent coordinate, one per line
              PREFIX-labels.npy    with --split on labelled data: each row's label (float32, one column)
            or, when --output ends in .h5ad, one AnnData file (anndata, scanpy and muon open it): obsm['X_mvvae']
            the means, obsm['X_mvvae_var'] their variances (or obsm['X_mvvae_draw']), uns['mvvae_columns'] the
            coordinates' names, uns['mvvae_views'] the views encoded from, no variables; obs the cells' names
            and columns from the run's .h5ad/.h5mu file with --split (the row numbers and labels otherwise).
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

    @Option(help: "Encode a split of the run's data instead: train, validation, test or all.")
    var split: String?

    @Option(help: "Path prefix of the output files, or an .h5ad file.")
    var output: String

    @Option(name: .customLong("set"), help: "Override a config value (data paths, e.g. --set data.views=[a.npy,b.npy]).")
    var overrides: [String] = []

    func validate() throws {
        guard input.isEmpty != (split == nil) else {
            throw ValidationError("give either --input FILE.npy (one per --given view) or --split train|validation|test|all")
        }
        if let split, !["train", "validation", "test", "all"].contains(split) {
            throw ValidationError("--split takes train, validation, test or all, got '\(split)'")
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
        var subset: DataSubset?
        if let split {
            let data = try ExperimentData(config: ctx.config.data, seed: ctx.config.seed)
            let rows =
                ["train": data.train, "validation": data.validation, "test": data.test][split]
                ?? DataSubset.all(data.train.dataset)
            subset = rows
            guard rows.count > 0 else { throw ValidationError("the run's \(split) split has no rows") }
            try ViewArguments.requireObserved(rows, views: views, names: ctx.views.names, what: "the \(split) split")
            for k in views { observed[k] = rows.matrix(view: k) }
            labels = rows.labels
        } else {
            for (k, path) in zip(views, input) { observed[k] = try ViewArguments.readFinite(path) }
        }
        let embedding = try model.embed(observed, seed: ctx.config.seed)
        let viewNames = views.map { ctx.views.names[$0] }
        if output.hasSuffix(".h5ad") { return try writeAnnData(embedding, rows: subset, viewNames: viewNames, ctx) }
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

    /// The embedding as an AnnData file: the cells' obs, the posterior in obsm, no variables.
    func writeAnnData(_ embedding: Embedding, rows: DataSubset?, viewNames: [String], _ ctx: RunContext) throws {
        let n = embedding.mean.rows
        var (obs, skipped) = (AnnDataFrame(index: (0..<n).map(String.init)), [String]())
        if let rows { (obs, skipped) = try CellAnnotations.obs(config: ctx.config.data, dataset: rows.dataset, rows: rows.indices) }
        var file = AnnDataWriter(obs: obs, variables: AnnDataFrame(index: []))
        file.obsm["X_mvvae"] = embedding.mean
        if var v = embedding.logVariance {
            for i in v.storage.indices { v.storage[i] = Foundation.exp(v.storage[i]) }
            file.obsm["X_mvvae_var"] = v
        }
        if let d = embedding.draw { file.obsm["X_mvvae_draw"] = d }
        file.uns["mvvae_columns"] = embedding.columns
        file.uns["mvvae_views"] = viewNames
        let dir = (output as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        try file.write(to: output)
        if !skipped.isEmpty { print("obs columns not carried over (kinds this tool does not write): \(skipped.joined(separator: ", "))") }
        print(
            "encoded \(n) rows from \(viewNames.joined(separator: ", ")) into \(embedding.columns.count) latent coordinates: "
                + "\(output) (obsm['X_mvvae'], \(embedding.draw == nil ? "obsm['X_mvvae_var']" : "obsm['X_mvvae_draw']"))")
    }
}
