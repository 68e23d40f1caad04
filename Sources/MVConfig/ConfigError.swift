/// A configuration the tool cannot use, with where and what to do.
public enum ConfigError: Error, CustomStringConvertible, Equatable {
    case fileUnreadable(path: String, reason: String)
    case syntax(path: String, message: String)
    case unknownKey(key: String, allowed: [String])
    case invalidValue(key: String, message: String)
    case missingKey(key: String)
    case badOverride(String, reason: String)

    public var description: String {
        switch self {
        case let .fileUnreadable(path, reason):
            return "cannot read config '\(path)': \(reason)"
        case let .syntax(path, message):
            return "config '\(path)' is not valid YAML: \(message)"
        case let .unknownKey(key, allowed):
            return "unknown config key '\(key)'; allowed here: \(allowed.sorted().joined(separator: ", "))"
        case let .invalidValue(key, message):
            return "config key '\(key)': \(message)"
        case let .missingKey(key):
            return "config key '\(key)' is required"
        case let .badOverride(text, reason):
            return "bad --set '\(text)': \(reason) (expected key.path=value, e.g. training.epochs=5)"
        }
    }
}

/// A coding key for any string, to list the keys actually present in a YAML mapping.
struct AnyCodingKey: CodingKey {
    let stringValue: String
    let intValue: Int? = nil
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

func keyPath(_ path: [CodingKey], _ last: String? = nil) -> String {
    (path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue } + (last.map { [$0] } ?? []))
        .joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
}

extension Decoder {
    /// Strict decoding: throws `ConfigError.unknownKey` for any key not in `allowed`.
    func rejectUnknownKeys<K: CodingKey & CaseIterable>(_ keys: K.Type) throws {
        try rejectUnknownKeys(K.allCases.map(\.stringValue))
    }

    func rejectUnknownKeys(_ allowed: [String]) throws {
        let container = try self.container(keyedBy: AnyCodingKey.self)
        for key in container.allKeys where !allowed.contains(key.stringValue) {
            throw ConfigError.unknownKey(key: keyPath(codingPath, key.stringValue), allowed: allowed)
        }
    }
}

extension KeyedDecodingContainer {
    /// The value at `key`, or `fallback` when the key is absent.
    func value<T: Decodable>(_ key: Key, default fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback
    }

    func invalid(_ key: Key, _ message: String) -> ConfigError {
        .invalidValue(key: keyPath(codingPath, key.stringValue), message: message)
    }
}

import Foundation
