import MVCore

/// A config value that is one of a fixed set of names. Decoding any other text is refused with the
/// key, the text given and the names allowed (Swift's own message, "Cannot initialize … from invalid
/// String value …", names none of them).
public protocol ConfigChoice: RawRepresentable, CaseIterable, Codable where RawValue == String {}

extension ConfigChoice {
    public static var allowedNames: String { allCases.map(\.rawValue).joined(separator: ", ") }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = Self(rawValue: text) else {
            throw ConfigError.invalidValue(key: keyPath(decoder.codingPath), message: "'\(text)' is not one of: \(Self.allowedNames)")
        }
        self = value
    }
}

/// Activations are named in configs (`model.activation`).
extension Activation: ConfigChoice {}
