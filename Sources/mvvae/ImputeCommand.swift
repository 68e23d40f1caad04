import ArgumentParser
import Foundation
import MultiViewVAE

struct ImputeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "impute",
        abstract: "Impute missing views from observed ones with a trained run (every model).",
        discussion: """
            Input: a .npy per observed view (rows × features), or --test N for the first N rows of the
            run's test split. The model's conditional of the missing views' latent given the observed
            views (JPVAE: the latent conditional of evaluation.imputation; aggregated: q(z | observed
            views); CoVAE: Eq. 2's prior conditional) is drawn --samples N times and each draw decoded:
            --output gets the predictive mean (probabilities for Bernoulli views), <output>-std.npy the
            per-feature standard deviation across the draws and <output>-draws.npy the draws
            (N × rows × features). With --truth (or --test) the truth's predictive −log p under the
            mixture of the N decoded distributions is printed. With more than two views, every view
            outside --given (e.g. --given 1,3; one --input per given view, in that order) is imputed,
            writing <output>-view<M>.npy, -view<M>-std.npy and -view<M>-draws.npy for each missing view M.
            An --output ending in .h5ad writes an AnnData file instead (per missing view: <stem>-view<M>.h5ad): X the
            predictive mean, layers['std'] the spread of the draws, var the view's variables from the run's
            .h5ad/.h5mu file, obs the cells with --test. The spread is that of the decoded means (the latent's
            uncertainty), not of new observations.
            For image views, --png writes a grid: each pair of cells is (true image, observed half + imputed half); with more than
            two views that are images of one size, one test row per grid row (its true views, then the completed ones).
            """)

    @Option(name: .customLong("run"), help: "Run folder.")
    var runFolder: String

    @Option(help: "A checkpoint folder (default: the run's newest valid checkpoint).")
    var checkpoint: String?

    @Option(help: "The observed view(s): 1 or 2, or with more views a list such as 1,3.")
    var given: String = "1"

    @Option(help: ".npy of an observed view (one per --given view, in order).")
    var input: [String] = []

    @Option(help: "Use the first N rows of the run's test split instead of --input.")
    var test: Int?

    @Option(help: ".npy of the true missing view (for the grid and the cross-entropy), optional.")
    var truth: String?

    @Option(help: "Where to write the imputed view (.npy, or .h5ad for an AnnData file).")
    var output: String?

    @Option(help: "Where to write a PNG grid (image views only).")
    var png: String?

    @Option(help: "Image shape of one view as HxW (default: from the run's image layout).")
    var imageShape: String?

    @Option(help: "Imputations drawn per row (their mean, spread and the draws are written).")
    var samples: Int = 20

    @Option(help: "Examples per grid row.")
    var columns: Int = 8

    @Option(help: "Grid pixels per image pixel.")
    var scale: Int = 2

    @Option(name: .customLong("set"), help: "Override a config value, e.g. --set evaluation.imputation=priorMean.")
    var overrides: [String] = []

    func validate() throws {
        guard let views = givenViews, !views.isEmpty, Set(views).count == views.count else {
            throw ValidationError("--given takes view numbers from 1, e.g. 1 or 1,3; got '\(given)'")
        }
        guard input.isEmpty != (test == nil) else { throw ValidationError("give exactly one of --input FILE.npy or --test N") }
        if !input.isEmpty, input.count != views.count {
            throw ValidationError("give one --input per --given view: \(views.count) view(s), \(input.count) file(s)")
        }
        if let test, test < 1 { throw ValidationError("--test must be ≥ 1") }
        guard columns >= 1, scale >= 1 else { throw ValidationError("--columns and --scale must be ≥ 1") }
        guard output != nil || png != nil else { throw ValidationError("nothing to write: give --output and/or --png") }
        guard samples >= 1 else { throw ValidationError("--samples must be ≥ 1, got \(samples)") }
    }

    /// The --given views (1-based), or nil when they do not parse.
    var givenViews: [Int]? { ViewArguments.parse(given) }

    func run() throws {
        do {
            try impute()
        } catch let e as ValidationError {
            throw e
        } catch {
            FileHandle.standardError.write("mvvae impute: \(error)\n".data(using: .utf8)!)
            throw ExitCode(1)
        }
    }

    func impute() throws {
        let ctx = try RunContext(run: runFolder, checkpoint: checkpoint, overrides: overrides)
        let k = ctx.model.viewDimensions.count
        let views = givenViews!.map { $0 - 1 }
        guard views.allSatisfy({ $0 < k }), views.count < k else {
            throw ValidationError(
                k == 2
                    ? "--given must be 1 or 2 for a two-view run, got '\(given)'"
                    : "--given '\(given)': this run has views 1…\(k); give some of them, not all")
        }
        let missing = (0..<k).filter { !views.contains($0) }
        var observed: [Int: Matrix] = [:], truths: [Int: Matrix] = [:]
        var data: ExperimentData?
        var subset: DataSubset?
        if let n = test {
            let d = try ExperimentData(config: ctx.config.data, seed: ctx.config.seed)
            let rows = DataSubset(dataset: d.test.dataset, indices: Array(d.test.indices.prefix(n)))
            subset = rows
            try ViewArguments.requireObserved(rows, views: views, names: ctx.views.names, what: "--test \(n)")
            for v in views { observed[v] = rows.matrix(view: v) }
            // The truth of a view the data lack in some rows (a MuData modality) is not there to score; with
            // simulated missingness (data.missingRate) it is, in the unmasked copy.
            let truthRows = d.unmaskedTest.map { DataSubset(dataset: $0.dataset, indices: rows.indices) } ?? rows
            for m in missing {
                let lacking = truthRows.dataset.mask.map { mask in rows.indices.filter { !mask.isObserved(row: $0, view: m) }.count } ?? 0
                if lacking == 0 {
                    truths[m] = truthRows.matrix(view: m)
                } else {
                    print(
                        "view \(m + 1) is missing in \(lacking) of these \(rows.count) rows: its imputation is not scored against a truth")
                }
            }
            data = d
        } else {
            for (v, path) in zip(views, input) { observed[v] = try ViewArguments.readFinite(path) }
            if let truth {
                guard missing.count == 1 else {
                    throw ValidationError("--truth holds one missing view; --given \(given) leaves \(missing.count) missing")
                }
                truths[missing[0]] = try ViewArguments.readFinite(truth)
            }
        }
        for (v, m) in observed.sorted(by: { $0.key < $1.key }) where m.cols != ctx.model.viewDimensions[v] {
            throw ValidationError(
                "the observed view \(v + 1) has \(m.cols) features; view \(v + 1) of this model has \(ctx.model.viewDimensions[v])")
        }
        if png != nil, k != 2, ctx.views.cut == nil, Self.commonImageSize(ctx.views) == nil {
            throw ValidationError(
                "--png draws two-view grids, views cut from one image (Fashion-MNIST quadrants) and views that are images of one "
                    + "size (PolyFashion); these \(k) views are none of these: give --output")
        }
        // The draws are kept (written to -draws.npy): samples × rows × the missing views' features floats.
        let rows = observed.values.first?.rows ?? 0, width = missing.reduce(0) { $0 + ctx.model.viewDimensions[$1] }
        let (cells, overflow) = samples.multipliedReportingOverflow(by: max(rows * width, 1))
        let budget = ProcessInfo.processInfo.physicalMemory / 4
        if overflow || UInt64(cells) > budget / 4 {
            throw ValidationError(
                "--samples \(samples) for \(rows) rows of \(width) imputed features would keep \(overflow ? "more than 2^63" : "\(cells)") "
                    + "floats of draws (over a quarter of this machine's \(budget * 4 >> 20) MiB); give fewer --samples or rows")
        }
        let imputer = try makeImputer(ctx, data: &data)
        let results = try imputer.impute(observed: observed, samples: samples, seed: ctx.config.seed, truth: truths)
        if let report = imputer.report { print(report) }
        let annData = output?.hasSuffix(".h5ad") == true
        let stem = output.map { $0.hasSuffix(".npy") ? String($0.dropLast(4)) : annData ? String($0.dropLast(5)) : $0 }
        for path in [output, png].compactMap({ $0 }) {
            let dir = (path as NSString).deletingLastPathComponent
            if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        }
        for r in results {
            if let stem, annData {
                try writeAnnData(r, to: results.count == 1 ? output! : "\(stem)-view\(r.modality + 1).h5ad", rows: subset, ctx)
            } else if let stem {
                if results.count == 1 {
                    try writeDraws(r.mean, r.deviation, r.draws, view: r.modality, stem: stem, meanPath: output)
                } else {
                    try writeDraws(r.mean, r.deviation, r.draws, view: r.modality, stem: "\(stem)-view\(r.modality + 1)")
                }
            }
            if let scores = r.predictiveNLL {
                print(
                    String(
                        format: "view %d: predictive −log p of the truth under the mixture of %d decoded draws: %.3f per row",
                        r.modality + 1, samples, scores.reduce(0, +) / Double(max(scores.count, 1))))
            }
        }
        guard let png else { return }
        // The spread as an image: each pixel's standard deviation over the largest in the grid.
        let pngStem = png.hasSuffix(".png") ? String(png.dropLast(4)) : png
        let top = max(results.map { $0.deviation.storage.max() ?? 0 }.max() ?? 0, 1e-12)
        var scaled: [Int: Matrix] = [:]
        for r in results {
            var m = r.deviation
            for i in m.storage.indices { m.storage[i] /= top }
            scaled[r.modality] = m
        }
        let imputed = Dictionary(uniqueKeysWithValues: results.map { ($0.modality, $0.mean) })
        let truth = truths.count == results.count ? truths : nil
        if let cut = ctx.views.cut {
            try writeWholeImages(png, cut: cut, observed: observed, imputed: imputed, truth: truth)
            try writeWholeImages(pngStem + "-std.png", cut: cut, observed: observed, imputed: scaled, truth: truth)
        } else if k > 2, let size = Self.commonImageSize(ctx.views) {
            try writeViewRows(png, size: size, observed: observed, imputed: imputed, truth: truth)
            try writeViewRows(pngStem + "-std.png", size: size, observed: observed, imputed: scaled, truth: truth)
        } else if let result = results.first {
            let observedView = observed[views[0]]!, trueOther = truths[result.modality]
            try writeGrid(png, observed: observedView, imputed: result.mean, truth: trueOther, views: ctx.views)
            try writeGrid(
                pngStem + "-std.png", observed: observedView, imputed: scaled[result.modality]!, truth: trueOther, views: ctx.views)
        }
        print(String(format: "(the -std grid shows each imputed pixel's standard deviation over the draws, white = %.3f)", top))
    }

    /// The run's conditional for imputation (a JPVAE's may be fitted on the training split, read into
    /// `data` if not yet).
    func makeImputer(_ ctx: RunContext, data: inout ExperimentData?) throws -> ConditionalImputer {
        guard let model = ctx.model as? ImputableModel else {
            throw ValidationError("mvvae impute does not support '\(ctx.config.model.type.rawValue)' runs")
        }
        var loaded = data
        defer { data = loaded }
        return try model.imputer(config: ctx.config) {
            let d = try loaded ?? ExperimentData(config: ctx.config.data, seed: ctx.config.seed)
            loaded = d
            return d.train
        }
    }

    /// `meanPath` (default STEM.npy: the mean of the draws), STEM-std.npy (their per-feature spread),
    /// STEM-draws.npy (the draws).
    func writeDraws(_ mean: Matrix, _ deviation: Matrix, _ draws: [Matrix], view: Int, stem: String, meanPath: String? = nil) throws {
        let meanPath = meanPath ?? stem + ".npy"
        try NPYWriter.write(mean, to: meanPath)
        try NPYWriter.write(deviation, to: stem + "-std.npy")
        try NPYWriter.write(stack: draws, to: stem + "-draws.npy")
        let spread = deviation.storage.reduce(0.0) { $0 + Double($1) } / Double(max(deviation.count, 1))
        print(
            "view \(view + 1): the mean of \(draws.count) imputations (\(mean.rows)×\(mean.cols)) to \(meanPath), "
                + "their standard deviation to \(stem)-std.npy (mean \(String(format: "%.4f", spread))), the draws to \(stem)-draws.npy")
    }

    /// An imputed view as an AnnData file: X the mean of the draws, layers['std'] their spread, obs the rows'
    /// cells (with --test on AnnData or MuData data), var the view's variables.
    func writeAnnData(_ r: ViewImputation, to path: String, rows: DataSubset?, _ ctx: RunContext) throws {
        var obs = AnnDataFrame(index: (0..<r.mean.rows).map(String.init))
        if let rows { obs = try CellAnnotations.obs(config: ctx.config.data, dataset: rows.dataset, rows: rows.indices).frame }
        let variables = try CellAnnotations.variables(config: ctx.config.data, view: r.modality, count: r.mean.cols)
        var file = AnnDataWriter(obs: obs, variables: variables, x: r.mean)
        file.layers["std"] = r.deviation
        file.uns["mvvae_imputed_view"] = [ctx.views.names[r.modality]]
        file.uns["mvvae_given_views"] = givenViews!.map { ctx.views.names[$0 - 1] }
        try file.write(to: path)
        let spread = r.deviation.storage.reduce(0.0) { $0 + Double($1) } / Double(max(r.deviation.count, 1))
        print(
            "view \(r.modality + 1): the mean of \(r.draws.count) imputations (\(r.mean.rows)×\(r.mean.cols)) to \(path) as X, their "
                + "standard deviation as layers['std'] (mean \(String(format: "%.4f", spread)))")
    }

    /// Views cut from one image: each row as the whole image, the observed views as given and the
    /// others imputed (after the true image when the truth is known).
    func writeWholeImages(
        _ path: String, cut: ViewShapes.ImageCut, observed: [Int: Matrix], imputed: [Int: Matrix],
        truth: [Int: Matrix]?
    ) throws {
        let blocks = cut.pixels
        var grid = ImageGrid(cellWidth: cut.width, cellHeight: cut.height, columns: columns * (truth == nil ? 1 : 2))
        grid.scale = scale
        func image(_ r: Int, _ parts: [Int: Matrix]) -> [Float] {
            var pixels = [Float](repeating: 0, count: cut.height * cut.width)
            for (j, block) in blocks.enumerated() {
                let row = parts[j]!.row(r)
                for (i, p) in block.enumerated() { pixels[p] = row[i] }
            }
            return pixels
        }
        let rows = observed.values.first!.rows
        for r in 0..<rows {
            if let truth { grid.append(image(r, observed.merging(truth) { a, _ in a })) }
            grid.append(image(r, observed.merging(imputed) { a, _ in a }))
        }
        try grid.write(to: path)
        print("wrote grid of \(rows) examples to \(path)")
    }

    /// The size shared by every view when each is an image of its own (PolyFashion's modalities).
    static func commonImageSize(_ views: ViewShapes) -> ViewShapes.ImageSize? {
        guard let images = views.images, let size = images.first, images.allSatisfy({ $0 == size }) else { return nil }
        return size
    }

    /// Views that are images of one size (more than two): one test row per grid row, its views side by
    /// side — the true views, then the observed views as given beside the imputed ones.
    func writeViewRows(_ path: String, size: ViewShapes.ImageSize, observed: [Int: Matrix], imputed: [Int: Matrix], truth: [Int: Matrix]?)
        throws
    {
        let k = observed.count + imputed.count
        var grid = ImageGrid(cellWidth: size.width, cellHeight: size.height, columns: k * (truth == nil ? 1 : 2))
        grid.scale = scale
        grid.channels = size.channels
        let completed = observed.merging(imputed) { a, _ in a }
        let rows = observed.values.first!.rows
        for r in 0..<rows {
            if let truth {
                let all = observed.merging(truth) { a, _ in a }
                for v in 0..<k { grid.append(all[v]!.row(r)) }
            }
            for v in 0..<k { grid.append(completed[v]!.row(r)) }
        }
        try grid.write(to: path)
        print(
            "wrote grid of \(rows) examples to \(path) (one per row: \(truth == nil ? "" : "the \(k) true views, then ")"
                + "the observed views as given and the others imputed)"
        )
    }

    /// Two views that are images of their own: each row's pair side by side, or with --image-shape
    /// (views that are not recorded as images) one above the other.
    func writeGrid(_ path: String, observed: Matrix, imputed: Matrix, truth: Matrix?, views: ViewShapes) throws {
        var h = 0, w = 0, channels = 1, vertical = true
        if let s = imageShape {
            let p = s.split(separator: "x").compactMap { Int($0) }
            guard p.count == 2, p[0] >= 1, p[1] >= 1, p[0] * p[1] == observed.cols else {
                throw ValidationError("--image-shape \(s) does not match a view of \(observed.cols) features")
            }
            (h, w) = (p[0], p[1])
        } else if let images = views.images, let size = images.first, images.allSatisfy({ $0 == size }) {
            (h, w, channels, vertical) = (size.height, size.width, size.channels, false)
        } else {
            throw ValidationError("--png needs --image-shape HxW for this data")
        }
        let first = givenViews == [1]
        var grid = ImageGrid(cellWidth: vertical ? w : 2 * w, cellHeight: vertical ? 2 * h : h, columns: columns * (truth == nil ? 1 : 2))
        grid.scale = scale
        grid.channels = channels
        func pair(_ a: [Float], _ b: [Float]) -> [Float] { joinHalves(a, b, height: h, width: w, vertical: vertical, channels: channels) }
        for r in 0..<observed.rows {
            let o = observed.row(r), i = imputed.row(r)
            if let truth { grid.append(first ? pair(o, truth.row(r)) : pair(truth.row(r), o)) }
            grid.append(first ? pair(o, i) : pair(i, o))
        }
        try grid.write(to: path)
        print("wrote grid of \(observed.rows) examples to \(path)")
    }
}
