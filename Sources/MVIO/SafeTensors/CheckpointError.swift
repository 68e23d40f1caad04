/// A checkpoint file that cannot be written or read, naming the file and, where one applies,
/// the byte offset in it, so a user can look at the damage with `xxd -s OFFSET`.
public struct CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Reason: Equatable, Sendable {
        /// A system call failed; `message` is strerror(errno).
        case io(operation: String, message: String)
        /// Fewer than the 8 bytes of the header length.
        case fileTooShort(size: Int)
        /// The header length is above the sanity limit (a corrupt length, not a real header).
        case headerTooLarge(length: UInt64, limit: Int)
        /// The header length says the header runs past the end of the file.
        case headerBeyondFile(length: UInt64, fileSize: Int)
        /// The header bytes are not valid UTF-8 JSON.
        case headerNotJSON(String)
        /// The header is JSON but does not start with `{` or is not an object.
        case headerNotObject
        /// `__metadata__` is not an object of string to string.
        case invalidMetadata(String)
        case duplicateName(String)
        case missingField(tensor: String, field: String)
        case invalidField(tensor: String, field: String, problem: String)
        case unsupportedDtype(tensor: String, dtype: String)
        /// `data_offsets` span a different number of bytes than shape × dtype size.
        case sizeMismatch(tensor: String, expectedBytes: Int, offsetBytes: Int)
        /// `data_offsets` that cannot describe data in this file (begin after end, or past the end
        /// of a file whose tensors do not tile the buffer anyway).
        case offsetsOutOfRange(tensor: String, begin: UInt64, end: UInt64, bufferSize: Int)
        /// Two tensors claim the same bytes.
        case overlappingData(tensor: String, other: String)
        /// Bytes of the data buffer that no tensor covers (the format requires none).
        case unindexedData(begin: Int, end: Int)
        /// The tensors tile the buffer correctly but the file ends early.
        case truncatedData(neededBytes: Int, availableBytes: Int)
        case tensorNotFound(String)
        case shapeMismatch(tensor: String, expected: [Int], found: [Int])
        case countMismatch(tensor: String, expected: Int, found: Int)
        /// The writer was given a tensor it cannot store (bad name, negative dimension, or a
        /// shape whose element count differs from the data).
        case invalidTensor(name: String, problem: String)
        /// The tensor file's CRC-32 differs from the one recorded in state.json.
        case checksumMismatch(found: UInt32, recorded: UInt32)
        /// state.json's own CRC-32 differs from the one it records.
        case stateChecksumMismatch(found: UInt32, recorded: UInt32)
        /// state.json is unreadable or describes something this build cannot load.
        case invalidState(String)
    }

    public let path: String
    /// Absolute byte offset in the file, when the problem sits at one.
    public let offset: Int?
    public let reason: Reason

    public init(path: String, offset: Int? = nil, _ reason: Reason) {
        self.path = path
        self.offset = offset
        self.reason = reason
    }

    public var description: String {
        let at = offset.map { " at byte \($0)" } ?? ""
        return "checkpoint '\(path)'\(at): \(reason)"
    }
}

extension CheckpointError.Reason: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .io(operation, message):
            return "\(operation) failed: \(message)"
        case let .fileTooShort(size):
            return "file is \(size) bytes, shorter than the 8-byte header length"
        case let .headerTooLarge(length, limit):
            return "header length \(length) exceeds the \(limit)-byte limit (corrupt length?)"
        case let .headerBeyondFile(length, fileSize):
            return "header length \(length) runs past the end of the \(fileSize)-byte file"
        case let .headerNotJSON(problem):
            return "header is not valid JSON: \(problem)"
        case .headerNotObject:
            return "header is not a JSON object starting with '{'"
        case let .invalidMetadata(problem):
            return "__metadata__ is invalid: \(problem)"
        case let .duplicateName(name):
            return "tensor '\(name)' appears more than once"
        case let .missingField(tensor, field):
            return "tensor '\(tensor)' has no '\(field)'"
        case let .invalidField(tensor, field, problem):
            return "tensor '\(tensor)' field '\(field)': \(problem)"
        case let .unsupportedDtype(tensor, dtype):
            return "tensor '\(tensor)' has dtype '\(dtype)'; readable dtypes are "
                + SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
        case let .sizeMismatch(tensor, expectedBytes, offsetBytes):
            return "tensor '\(tensor)' needs \(expectedBytes) bytes for its shape and dtype "
                + "but data_offsets span \(offsetBytes)"
        case let .offsetsOutOfRange(tensor, begin, end, bufferSize):
            return "tensor '\(tensor)' data_offsets [\(begin), \(end)] do not fit the "
                + "\(bufferSize)-byte data buffer"
        case let .overlappingData(tensor, other):
            return "tensors '\(other)' and '\(tensor)' overlap in the data buffer"
        case let .unindexedData(begin, end):
            return "data bytes [\(begin), \(end)) belong to no tensor"
        case let .truncatedData(needed, available):
            return "data buffer has \(available) bytes but the tensors need \(needed) (file truncated?)"
        case let .tensorNotFound(name):
            return "no tensor named '\(name)'"
        case let .shapeMismatch(tensor, expected, found):
            return "tensor '\(tensor)' has shape \(found), expected \(expected)"
        case let .countMismatch(tensor, expected, found):
            return "tensor '\(tensor)' has \(found) elements, caller asked for \(expected)"
        case let .invalidTensor(name, problem):
            return "cannot write tensor '\(name)': \(problem)"
        case let .checksumMismatch(found, recorded):
            return String(format: "CRC-32 is %08x but state.json recorded %08x: the file is corrupted", found, recorded)
        case let .stateChecksumMismatch(found, recorded):
            return String(format: "CRC-32 is %08x but state.json.crc32 recorded %08x: the file is corrupted", found, recorded)
        case let .invalidState(problem):
            return "invalid checkpoint state: \(problem)"
        }
    }
}
