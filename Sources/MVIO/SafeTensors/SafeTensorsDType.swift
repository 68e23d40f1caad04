/// The safetensors element types this package can read into `Float`.
///
/// Writing is F32 only. Reading converts F64, I64, I32 and U8 to the nearest Float (F64 and
/// large I64 values round), so a NumPy-written file of common types loads without a detour.
/// Every other dtype of the format (F16, BF16, BOOL, F8_*, …) is rejected when the file is
/// opened with `CheckpointError.Reason.unsupportedDtype`, naming the tensor.
public enum SafeTensorsDType: String, CaseIterable, Sendable {
    case f32 = "F32"
    case f64 = "F64"
    case i64 = "I64"
    case i32 = "I32"
    case u8 = "U8"

    public var byteSize: Int {
        switch self {
        case .f32, .i32: return 4
        case .f64, .i64: return 8
        case .u8: return 1
        }
    }

    /// Converts `count` little-endian elements at `source` to Float.
    func convert(_ source: UnsafeRawPointer, count: Int, into destination: UnsafeMutablePointer<Float>) {
        switch self {
        case .f32:
            for i in 0..<count {
                destination[i] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
        case .f64:
            for i in 0..<count {
                destination[i] = Float(
                    Double(bitPattern: UInt64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
            }
        case .i64:
            for i in 0..<count {
                destination[i] = Float(Int64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
            }
        case .i32:
            for i in 0..<count {
                destination[i] = Float(Int32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
            }
        case .u8:
            for i in 0..<count { destination[i] = Float(source.load(fromByteOffset: i, as: UInt8.self)) }
        }
    }
}
