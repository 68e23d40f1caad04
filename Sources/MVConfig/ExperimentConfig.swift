import Foundation
import Yams

/// One experiment: what data, which model, how to train and evaluate it. Decoded strictly from
/// YAML (unknown keys are errors); every key but `model.type` has a default.
public struct ExperimentConfig: Codable, Equatable {
    public var name: String
    public var seed: UInt64
    public var data: DataConfig
    public var model: ModelConfig
    public var training: TrainingConfig
    public var evaluation: EvaluationConfig

    enum CodingKeys: String, CodingKey, CaseIterable { case name, seed, data, model, training, evaluation }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.value(.name, default: "experiment")
        seed = try c.value(.seed, default: 0)
        data = try c.value(.data, default: try DataConfig.defaults())
        guard c.contains(.model) else { throw ConfigError.missingKey(key: "model") }
        model = try c.decode(ModelConfig.self, forKey: .model)
        training = try c.value(.training, default: try TrainingConfig.defaults())
        evaluation = try c.value(.evaluation, default: try EvaluationConfig.defaults())
        try validate()
    }

    /// Cross-field checks that single keys cannot express.
    func validate() throws {
        let viewCount = data.viewCount
        if model.type == .jpvae, let n = viewCount, model.latent.count != 1 && model.latent.count != n {
            throw ConfigError.invalidValue(
                key: "model.latent", message: "give one size for all views or one per view (\(n) views), got \(model.latent.count)")
        }
        if let n = viewCount, model.likelihood.count != 1 && model.likelihood.count != n {
            throw ConfigError.invalidValue(
                key: "model.likelihood",
                message: "give one likelihood for all views or one per view (\(n) views), got \(model.likelihood.count)")
        }
        if let n = viewCount, model.encoder.input.count != 1 && model.encoder.input.count != n {
            throw ConfigError.invalidValue(
                key: "model.encoder.input",
                message: "give one input transform for all views or one per view (\(n) views), got \(model.encoder.input.count)")
        }
        if model.type == .jpvae, let n = viewCount, n != 2 {
            throw ConfigError.invalidValue(key: "model.type", message: "jpvae links exactly two views; the data has \(n)")
        }
    }

    /// Parses YAML text, applying `overrides` ("training.epochs=5") before decoding.
    public static func parse(yaml: String, source: String = "<config>", overrides: [String] = []) throws -> ExperimentConfig {
        var tree: Any
        try YAMLBounds.check(yaml, source: source)
        do {
            if let node = try Yams.compose(yaml: yaml) { try checkKeys(node, path: "", source: source) }
            tree = try Yams.load(yaml: yaml) ?? [String: Any]()
        } catch let e as ConfigError {
            throw e
        } catch {
            throw ConfigError.syntax(path: source, message: "\(error)")
        }
        guard tree is [String: Any] else { throw ConfigError.syntax(path: source, message: "the top level must be a mapping of keys") }
        for o in overrides { tree = try ConfigOverride.apply(o, to: tree) }
        do {
            let text = try Yams.dump(object: tree)
            return try YAMLDecoder().decode(ExperimentConfig.self, from: text)
        } catch {
            throw Self.configError(from: error, tree: tree)
        }
    }

    /// Keys that are not plain names (Yams traps on a list or mapping used as a key) and a key given
    /// twice in one mapping (YAML parsers keep the last one silently).
    static func checkKeys(_ node: Node, path: String, source: String) throws {
        if let mapping = node.mapping {
            var seen = Set<String>()
            for (key, value) in mapping {
                let line = key.mark.map { " (line \($0.line))" } ?? ""
                guard let name = key.scalar?.string else {
                    let inside = path.isEmpty ? "at the top level" : "in '\(path)'"
                    throw ConfigError.syntax(
                        path: source,
                        message:
                            "a key \(inside)\(line) is a \(key.mapping != nil ? "mapping" : "list"), not a name: check the "
                            + "brackets and the ':' around it"
                    )
                }
                let full = path.isEmpty ? name : path + "." + name
                guard seen.insert(name).inserted else {
                    throw ConfigError.syntax(path: source, message: "key '\(full)' is given twice\(line); keep one")
                }
                try checkKeys(value, path: full, source: source)
            }
        } else if let sequence = node.sequence {
            for item in sequence { try checkKeys(item, path: path, source: source) }
        }
    }

    /// Turns a decoding failure into a `ConfigError` naming the key. Errors our own `init(from:)`
    /// throws arrive wrapped by the YAML decoder as the underlying error.
    static func configError(from error: Error, tree: Any? = nil) -> Error {
        /// What the user wrote at `path`, for the message.
        func given(_ path: [CodingKey]) -> String {
            var node: Any? = tree
            for key in path {
                if let i = key.intValue, let list = node as? [Any] {
                    node = i < list.count ? list[i] : nil
                } else {
                    node = (node as? [String: Any])?[key.stringValue]
                }
            }
            // Only scalars read well in a message; a mapping where a value belongs is said by "expected".
            guard let node, node is String || node is Int || node is Double || node is Bool else { return "" }
            return ", got '\(node)'"
        }
        func expected(_ type: Any.Type) -> String {
            switch "\(type)" {
            case "Int", "Int32": return "a whole number"
            case "UInt64", "UInt", "UInt32": return "a whole number ≥ 0"
            case "Bool": return "true or false"
            case "Float", "Double": return "a number"
            case "String": return "text"
            case let t where t.contains("Scalar"): return "a single value"
            case let t where t.contains("Mapping"): return "a mapping of keys"
            case let t where t.contains("Array") || t.contains("Sequence"): return "a list"
            case let t: return t
            }
        }
        switch error {
        case let e as ConfigError:
            return e
        case let DecodingError.dataCorrupted(ctx):
            if let inner = ctx.underlyingError { return configError(from: inner, tree: tree) }
            return ConfigError.invalidValue(key: keyPath(ctx.codingPath), message: ctx.debugDescription + given(ctx.codingPath))
        case let DecodingError.typeMismatch(type, ctx):
            if let inner = ctx.underlyingError as? ConfigError { return inner }
            return ConfigError.invalidValue(key: keyPath(ctx.codingPath), message: "expected \(expected(type))\(given(ctx.codingPath))")
        case let DecodingError.valueNotFound(type, ctx):
            let what = given(ctx.codingPath)
            return ConfigError.invalidValue(
                key: keyPath(ctx.codingPath), message: "expected \(expected(type))" + (what.isEmpty ? ", found nothing" : what))
        case let DecodingError.keyNotFound(key, ctx):
            return ConfigError.missingKey(key: keyPath(ctx.codingPath, key.stringValue))
        default:
            return error
        }
    }

    /// Reads and parses a YAML file.
    public static func load(path: String, overrides: [String] = []) throws -> ExperimentConfig {
        // Refused by size before it is read (YAMLBounds would refuse it after).
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > YAMLBounds.maximumBytes {
            throw ConfigError.syntax(path: path, message: "is \(size) bytes; a config may be at most \(YAMLBounds.maximumBytes) (1 MiB)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            var folder: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &folder)
            throw ConfigError.fileUnreadable(
                path: path,
                reason: !exists
                    ? "no such file"
                    : folder.boolValue
                        ? "it is a folder; give a YAML file (e.g. configs/jpvae-fashion-orthogonal.yaml)" : "permission denied")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError.fileUnreadable(path: path, reason: "not UTF-8 text")
        }
        return try parse(yaml: text, source: path, overrides: overrides)
    }

    /// The resolved configuration as YAML (saved beside checkpoints).
    public func yaml() throws -> String { try YAMLEncoder().encode(self) }

    /// A short stable fingerprint of the resolved configuration.
    public func fingerprint() throws -> String { Self.fingerprint(ofYAML: try yaml()) }

    /// The fingerprint of a resolved configuration's YAML (as `yaml()` writes it).
    public static func fingerprint(ofYAML text: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(h, radix: 16)
    }
}

/// Decodes `T` from an empty mapping, i.e. all defaults.
package func decodeDefaults<T: Decodable>(_: T.Type) throws -> T {
    try YAMLDecoder().decode(T.self, from: "{}")
}
