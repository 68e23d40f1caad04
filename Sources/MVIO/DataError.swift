/// Problems with data files or data layout that a user can cause and fix.
///
/// Every message names the file (or the in-memory source), the byte offset where it matters,
/// and what to do about it, so a failed run can be repaired without reading the source.
public enum DataError: Error, CustomStringConvertible, Equatable {
    // Files on disk.
    case fileNotFound(path: String)
    case fileUnreadable(path: String, reason: String)
    case writeFailed(path: String, reason: String)

    // gzip (IDX files are usually shipped compressed).
    case gzipCorrupt(path: String, offset: Int, zlibMessage: String)
    case gzipTruncated(path: String, compressedBytes: Int, decompressedBytes: Int)
    case gzipTrailingData(path: String, offset: Int)

    // IDX.
    case idxBadMagic(path: String, found: [UInt8])
    case idxUnsupportedType(path: String, typeCode: UInt8)
    case idxBadHeader(path: String, offset: Int, reason: String)
    case idxUnexpectedShape(path: String, expected: String, found: [Int])
    case idxBadValue(path: String, index: Int, value: Int, reason: String)

    // NumPy .npy.
    case npyBadMagic(path: String, found: [UInt8])
    case npyUnsupportedVersion(path: String, major: UInt8, minor: UInt8)
    case npyBadHeader(path: String, offset: Int, reason: String)
    case npyUnsupportedDType(path: String, descr: String, allowed: [String])
    case npyFortranOrder(path: String)
    case npyBadShape(path: String, shape: [Int], reason: String)

    // Shared by both binary formats: the payload must be exactly as long as the header says.
    case truncatedPayload(path: String, dataOffset: Int, expectedBytes: Int, actualBytes: Int)
    case trailingBytes(path: String, dataOffset: Int, expectedBytes: Int, actualBytes: Int)

    // Assembling a data set from several sources.
    case noViews
    case badViewNames(reason: String)
    case viewRowsMismatch(view: String, source: String, rows: Int, expectedRows: Int, firstView: String, firstSource: String)
    case emptyView(view: String, source: String)
    case labelsCountMismatch(source: String, count: Int, expected: Int)
    case badLabel(source: String, index: Int, value: Double)
    case maskShapeMismatch(source: String, rows: Int, cols: Int, expectedRows: Int, expectedCols: Int)
    case maskBadValue(source: String, row: Int, view: Int, value: Double)
    case maskEmptyRow(source: String, row: Int)
    case maskViewNeverObserved(source: String, view: String, column: Int)
    /// A sparse array whose structure is inconsistent.
    case badSparse(source: String, reason: String)
    /// A .csv/.tsv view; line is 1-based (as an editor shows it).
    case badTable(path: String, line: Int, reason: String)
    /// A value a model cannot read (not finite, or outside what the view's likelihood takes).
    case badValue(view: String, source: String, row: Int, column: Int, value: Float, reason: String)

    // Train / validation / test splits.
    case badSplit(reason: String)

    // The trained run that generates `correlated` data.
    case badGenerator(run: String, reason: String)

    public var description: String {
        switch self {
        case let .fileNotFound(path):
            return "\(path): file not found. Check the path (and the data directory setting) or download the data."
        case let .fileUnreadable(path, reason):
            return "\(path): cannot read file (\(reason)). Check that it is a regular file you have permission to read."
        case let .writeFailed(path, reason):
            return
                "\(path): cannot write file (\(reason)). Check that the directory exists, is writable and has free space; nothing "
                + "was replaced."

        case let .gzipCorrupt(path, offset, message):
            return
                "\(path): corrupt gzip stream near compressed byte offset \(offset) (zlib: \(message)). The file is damaged; "
                + "download it again."
        case let .gzipTruncated(path, compressed, decompressed):
            return
                "\(path): gzip stream ends early after all \(compressed) compressed bytes (\(decompressed) bytes decompressed so "
                + "far). The file is truncated; download it again."
        case let .gzipTrailingData(path, offset):
            return
                "\(path): unexpected bytes after the end of the gzip stream at byte offset \(offset). The file is damaged or two "
                + "files were concatenated; download it again."

        case let .idxBadMagic(path, found):
            return
                "\(path): not an IDX file: magic bytes at offset 0 are \(hex(found)), expected 00 00 <type> <ndims>. Check that "
                + "this is an IDX (MNIST-style) file, gzip-compressed or raw."
        case let .idxUnsupportedType(path, code):
            return
                "\(path): unsupported IDX element type 0x\(hex2(code)) at byte offset 2; IDX defines 08 (ubyte), 09 (sbyte), 0B "
                + "(short), 0C (int), 0D (float), 0E (double)."
        case let .idxBadHeader(path, offset, reason):
            return "\(path): bad IDX header at byte offset \(offset): \(reason)."
        case let .idxUnexpectedShape(path, expected, found):
            return "\(path): IDX dimensions are \(shapeText(found)) but \(expected) was expected. Check that the right file was given."
        case let .idxBadValue(path, index, value, reason):
            return "\(path): element \(index) has value \(value): \(reason)."

        case let .npyBadMagic(path, found):
            return
                "\(path): not a NumPy .npy file: the first bytes are \(hex(found)), expected 93 4E 55 4D 50 59 (\\x93NUMPY). Save "
                + "arrays with numpy.save."
        case let .npyUnsupportedVersion(path, major, minor):
            return
                "\(path): unsupported .npy format version \(major).\(minor) at byte offset 6; versions 1.0, 2.0 and 3.0 are "
                + "supported. Re-save the array with numpy.save."
        case let .npyBadHeader(path, offset, reason):
            return "\(path): unreadable .npy header at byte offset \(offset): \(reason). Re-save the array with numpy.save."
        case let .npyUnsupportedDType(path, descr, allowed):
            return
                "\(path): unsupported .npy dtype '\(descr)'; supported are \(allowed.map { "'\($0)'" }.joined(separator: ", ")). "
                + "Convert it first, e.g. numpy.save(path, a.astype(numpy.float32))."
        case let .npyFortranOrder(path):
            return
                "\(path): the array is stored in Fortran (column-major) order, which is not supported. Re-save it in C order: "
                + "numpy.save(path, numpy.ascontiguousarray(a))."
        case let .npyBadShape(path, shape, reason):
            return "\(path): array shape \(shapeText(shape)) cannot be used: \(reason)."

        case let .truncatedPayload(path, offset, expected, actual):
            return
                "\(path): data is truncated: the header promises \(expected) bytes from byte offset \(offset) but only \(actual) "
                + "are present. The file is incomplete; write or download it again."
        case let .trailingBytes(path, offset, expected, actual):
            return
                "\(path): \(actual - expected) unexpected bytes after the data: the header promises \(expected) bytes from byte "
                + "offset \(offset) but \(actual) are present (extra bytes start at offset \(offset + expected)). The file is "
                + "damaged or its header is wrong; write it again."

        case .noViews:
            return "A multi-view data set needs at least one view; give one data file (or matrix) per view."
        case let .badViewNames(reason):
            return "View names do not fit the views: \(reason). Give exactly one name per view."
        case let .viewRowsMismatch(view, source, rows, expected, first, firstSource):
            // Both files are named: either may be the wrong one.
            return
                "View '\(view)' (\(source)) has \(rows) rows but view '\(first)' (\(firstSource)) has \(expected). All views must "
                + "hold the same samples in the same order."
        case let .emptyView(view, source):
            return "View '\(view)' (\(source)) has no features (0 columns). Every view needs at least one feature per sample."
        case let .labelsCountMismatch(source, count, expected):
            return "Labels (\(source)) hold \(count) entries but the views have \(expected) rows. Give one label per sample."
        case let .badLabel(source, index, value):
            return
                "Labels (\(source)): entry \(index) is \(value), which is not a non-negative integer class index. Store labels as "
                + "integers 0, 1, 2, …"
        case let .maskShapeMismatch(source, rows, cols, expectedRows, expectedCols):
            return
                "View mask (\(source)) has shape (\(rows), \(cols)) but (\(expectedRows), \(expectedCols)) was expected: one row "
                + "per sample, one column per view, 1 = observed, 0 = missing."
        case let .badSparse(source, reason):
            return "Sparse array \(source): \(reason). Rewrite it with anndata (e.g. adata.X = adata.X.tocsr()) and retry."
        case let .badTable(path, line, reason):
            return line > 0 ? "\(path), line \(line): \(reason)" : "\(path): \(reason)"
        case let .maskEmptyRow(source, row):
            return
                "View mask (\(source)): row \(row) observes no view (all 0). A sample needs at least one observed view; drop the "
                + "row from the data."
        case let .maskViewNeverObserved(source, view, column):
            return
                "View mask (\(source)): view '\(view)' (column \(column)) is never observed (all 0); a model cannot learn it. "
                + "Drop the view or fix the mask."
        case let .maskBadValue(source, row, view, value):
            return "View mask (\(source)): entry (row \(row), view \(view)) is \(value); only 0 (missing) and 1 (observed) are allowed."

        case let .badValue(view, source, row, column, value, reason):
            return "View '\(view)' (\(source)): the value at row \(row), column \(column) is \(value): \(reason)."

        case let .badSplit(reason):
            return "Bad data split: \(reason)."
        case let .badGenerator(run, reason):
            return "data.generator '\(run)' cannot generate correlated data: \(reason)."
        }
    }
}

private func hex2(_ b: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
}

private func hex(_ bytes: [UInt8]) -> String {
    bytes.isEmpty ? "(none: the file is empty)" : bytes.map(hex2).joined(separator: " ")
}

private func shapeText(_ shape: [Int]) -> String {
    "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
}
