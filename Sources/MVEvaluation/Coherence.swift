import Foundation
import MVCore
import MVConfig
import MVData

/// A model that can generate every modality from prior draws z ~ p(z): joint coherence needs it.
public protocol JointGenerator {
    /// Decoder outputs of every modality for one prior draw per row (rows keyed by `noise`).
    func decodedPriorDraw(noise: EvaluationNoise, tape: Tape) throws -> [Var]
}

/// Coherence, the metric the multimodal-VAE papers rank models by (JNF summary; Shi et al. 2019): a
/// classifier per modality trained on real data, then
/// - conditional coherence from S: the share of generated missing modalities (one draw of the model's
///   conditional given x_S, decoded to its expected image) whose predicted class is the row's label,
///   averaged over the missing modalities;
/// - joint coherence: the share of prior draws whose generated modalities all get the same class.
public struct Coherence {
    public struct Report: Codable, Equatable {
        /// Each modality's classifier on real test data (its accuracy bounds coherence).
        public var classifierAccuracy: [Double]
        /// Subset → conditional coherence, subsets named by their 1-based views ("1,3").
        public var conditional: [String: Double]
        /// Mean conditional coherence over the subsets of each size 1 … K−1.
        public var conditionalBySize: [Double]
        public var joint: Double?
        public var jointSamples: Int
        public var testRows: Int
    }

    public let classifiers: [Classifier]
    public let seed: UInt64

    /// One classifier per modality, fitted on the training rows' views (`config`'s classifier settings).
    public init(train: DataSubset, config: EvaluationConfig, seed: UInt64) throws {
        guard let labels = train.labels else {
            throw ImputationError(description: "coherence needs labelled data; this data set has no labels")
        }
        let classes = Int(labels.max() ?? 0) + 1
        self.seed = seed
        classifiers = try (0..<train.dataset.dimensions.count).map { j in
            let c = Classifier(
                inputs: train.dataset.dimensions[j], hidden: config.classifierHidden, classes: classes, seed: seed &+ UInt64(j))
            let x = train.matrix(view: j)
            guard x.rows >= 2 else { throw ImputationError(description: "coherence needs training rows to fit its classifiers") }
            c.fit(
                x, labels: labels, maxEpochs: config.classifierEpochs, patience: config.classifierPatience,
                learningRate: config.classifierLearningRate, seed: seed &+ UInt64(j))
            return c
        }
    }

    /// Conditional coherence from every subset of 1 … K−1 modalities, and joint coherence from
    /// `jointSamples` prior draws when the model can generate jointly.
    public func run(
        imputer: ConditionalImputer, generator: JointGenerator?, test: DataSubset, jointSamples: Int = 1000,
        progress: (String) -> Void = { _ in }
    ) throws -> Report {
        guard let labels = test.labels else { throw ImputationError(description: "coherence needs labelled data") }
        let k = imputer.viewDimensions.count, x = (0..<k).map { test.matrix(view: $0) }
        var conditional: [String: Double] = [:], bySize = [[Double]](repeating: [], count: k - 1)
        for size in 1..<k {
            for subset in Self.subsets(of: k, size: size) {
                let name = subset.map { String($0 + 1) }.joined(separator: ",")
                progress("coherence from modalities \(name)")
                let observed = Dictionary(uniqueKeysWithValues: subset.map { ($0, x[$0]) })
                let missing = (0..<k).filter { !subset.contains($0) }
                let noise = EvaluationNoise(seed: seed, indices: Array(0..<test.count))
                let tape = Tape()
                let outputs = try imputer.decodedDraw(observed, missing: missing, noise: noise, draw: 0, tape: tape)
                var hits = 0
                for j in missing {
                    let generated = tape.value(imputer.likelihood(of: j).mean(output: outputs[j]!, tape: tape))
                    hits += zip(classifiers[j].predict(generated), labels).filter { $0 == $1 }.count
                }
                let share = Double(hits) / Double(max(missing.count * test.count, 1))
                conditional[name] = share
                bySize[size - 1].append(share)
            }
        }
        var joint: Double?
        if let generator, jointSamples > 0 {
            progress("joint coherence from \(jointSamples) prior draws")
            let tape = Tape()
            let outputs = try generator.decodedPriorDraw(
                noise: EvaluationNoise(seed: seed &+ 1, indices: Array(0..<jointSamples)), tape: tape)
            let predictions = outputs.enumerated().map { j, out in
                classifiers[j].predict(tape.value(imputer.likelihood(of: j).mean(output: out, tape: tape)))
            }
            joint =
                Double((0..<jointSamples).filter { r in predictions.allSatisfy { $0[r] == predictions[0][r] } }.count)
                / Double(jointSamples)
        }
        return Report(
            classifierAccuracy: (0..<k).map { classifiers[$0].accuracy(x[$0], labels: labels) }, conditional: conditional,
            conditionalBySize: bySize.map { $0.reduce(0, +) / Double(max($0.count, 1)) }, joint: joint,
            jointSamples: generator == nil ? 0 : jointSamples, testRows: test.count)
    }

    /// The subsets of 0..<k of `size` elements, in lexicographic order.
    static func subsets(of k: Int, size: Int) -> [[Int]] {
        guard size > 0 else { return [[]] }
        guard size <= k else { return [] }
        return (0..<k).flatMap { first in
            subsets(of: k - first - 1, size: size - 1).map { [first] + $0.map { $0 + first + 1 } }
        }
    }

    public static func markdown(_ r: Report) -> String {
        var out = "| coherence | value |\n|---|---|\n"
        for (size, v) in r.conditionalBySize.enumerated() {
            out += String(format: "| conditional, from %d modality(ies) (mean over subsets) | %.3f |\n", size + 1, v)
        }
        if let j = r.joint { out += String(format: "| joint, %d prior draws | %.3f |\n", r.jointSamples, j) }
        out +=
            "| classifier accuracy on real test data | " + r.classifierAccuracy.map { String(format: "%.3f", $0) }.joined(separator: ", ")
            + " |\n"
        return out
    }
}
