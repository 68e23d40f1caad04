import Yams

/// `--set key.path=value`: replaces (or adds) one value in the parsed YAML tree before decoding,
/// the value read as YAML so numbers, booleans and lists keep their types.
enum ConfigOverride {
    static func apply(_ text: String, to tree: Any) throws -> Any {
        guard let eq = text.firstIndex(of: "=") else { throw ConfigError.badOverride(text, reason: "no '='") }
        let path = text[..<eq].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !path.isEmpty, path.allSatisfy({ !$0.isEmpty }) else { throw ConfigError.badOverride(text, reason: "empty key") }
        let raw = String(text[text.index(after: eq)...])
        let value: Any
        do { try YAMLBounds.check(raw, source: text) } catch let ConfigError.syntax(_, message) {
            throw ConfigError.badOverride(String(text.prefix(80)), reason: "its value \(message)")
        }
        do {
            // The same key checks as a config file's (Yams traps on a list used as a key).
            if let node = try Yams.compose(yaml: raw) {
                try ExperimentConfig.checkKeys(node, path: path.joined(separator: "."), source: text)
            }
            value = try Yams.load(yaml: raw) ?? NSNullLike.null
        } catch let ConfigError.syntax(_, message) {
            throw ConfigError.badOverride(text, reason: message)
        } catch {
            throw ConfigError.badOverride(text, reason: "value is not valid YAML")
        }
        return try set(path[...], value, in: tree, full: text)
    }

    private static func set(_ path: ArraySlice<String>, _ value: Any, in node: Any, full: String) throws -> Any {
        guard let key = path.first else { return value }
        var map: [String: Any]
        if let m = node as? [String: Any] {
            map = m
        } else if node is NSNullLike {
            map = [:]
        } else {
            throw ConfigError.badOverride(full, reason: "'\(key)' is inside a value that is not a mapping")
        }
        if path.count == 1, value is NSNullLike {
            map.removeValue(forKey: key)  // key=null restores the default
        } else {
            map[key] = try set(path.dropFirst(), value, in: map[key] ?? NSNullLike.null, full: full)
        }
        return map
    }
}

/// Stand-in for an absent node while walking an override path.
enum NSNullLike { case null }
