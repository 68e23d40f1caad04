import Foundation
import MVCore

/// A view as a text table (`.csv`, comma-separated; `.tsv`, tab-separated), as tabular users keep data: one
/// row per sample, one column per feature. A first line with any field that is not a number, or that reads
/// 0, 1, …, n − 1 (pandas' names for unnamed columns), is a header (its names kept); a first column that is
/// not numbers — or whose header cell is empty, as pandas writes an index — is the row names (so a table with
/// row names needs a header line). Fields may be quoted ("…", "" for a quote inside). Every value must be a
/// finite number: a missing or non-numeric one is refused naming the line and the column (a missing view is
/// said with data.mask, not with blanks).
public struct DelimitedTable {
    public let values: Matrix
    public let columnNames: [String]?
    public let rowNames: [String]?

    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw DataError.fileNotFound(path: path) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.fileUnreadable(path: path, reason: "cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DataError.badTable(path: path, line: 0, reason: "is not UTF-8 text")
        }
        let separator: Character = path.lowercased().hasSuffix(".tsv") ? "\t" : ","
        var lines: [(number: Int, fields: [String])] = []
        // (A CRLF is one Character in Swift, a newline like LF.)
        for (i, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            if line.allSatisfy(\.isWhitespace) { continue }
            lines.append((i + 1, try Self.fields(line, separator: separator, path: path, line: i + 1)))
        }
        guard let first = lines.first else { throw DataError.badTable(path: path, line: 0, reason: "holds no rows") }
        // pandas names unnamed columns 0, 1, …, n − 1: such a first line is a header too.
        let hasHeader =
            first.fields.contains { Self.number($0) == nil }
            || (lines.count > 1 && first.fields.enumerated().allSatisfy { Self.number($1) == Float($0) })
        let body = hasHeader ? Array(lines.dropFirst()) : lines
        guard !body.isEmpty else { throw DataError.badTable(path: path, line: first.number, reason: "has a header and no rows") }
        let hasIndex =
            (hasHeader && first.fields.first?.trimmingCharacters(in: .whitespaces).isEmpty == true)
            || body.contains { Self.number($0.fields[0]) == nil }
        let width = body[0].fields.count
        for row in body where row.fields.count != width {
            throw DataError.badTable(
                path: path, line: row.number, reason: "has \(row.fields.count) fields; line \(body[0].number) has \(width)")
        }
        if hasHeader, first.fields.count != width {
            throw DataError.badTable(
                path: path, line: first.number, reason: "the header has \(first.fields.count) fields; the rows have \(width)")
        }
        let skip = hasIndex ? 1 : 0
        guard width > skip else { throw DataError.badTable(path: path, line: body[0].number, reason: "has no value columns") }
        var values = Matrix(rows: body.count, cols: width - skip)
        for (r, row) in body.enumerated() {
            for c in skip..<width {
                guard let v = Self.number(row.fields[c]), v.isFinite else {
                    let name = hasHeader ? " ('\(first.fields[c])')" : ""
                    throw DataError.badTable(
                        path: path, line: row.number,
                        reason: "column \(c + 1)\(name) holds '\(row.fields[c])', not a finite number (mark a missing view in data.mask)")
                }
                values[r, c - skip] = v
            }
        }
        self.values = values
        columnNames = hasHeader ? Array(first.fields.dropFirst(skip)) : nil
        rowNames = hasIndex ? body.map { $0.fields[0] } : nil
    }

    /// A number as Float, surrounding spaces allowed; nil when the field is not one.
    static func number(_ field: String) -> Float? { Float(field.trimmingCharacters(in: .whitespaces)) }

    /// The fields of one line: separated by `separator`, each optionally in double quotes ("" a quote inside).
    static func fields(_ line: Substring, separator: Character, path: String, line number: Int) throws -> [String] {
        var out: [String] = [], field = "", quoted = false, wasQuoted = false
        var i = line.startIndex
        while i < line.endIndex {
            let ch = line[i]
            if quoted {
                if ch == "\"" {
                    let next = line.index(after: i)
                    if next < line.endIndex && line[next] == "\"" {
                        field.append("\"")
                        i = next
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(ch)
                }
            } else if ch == "\"" && field.allSatisfy(\.isWhitespace) && !wasQuoted {
                quoted = true
                wasQuoted = true
                field = ""
            } else if ch == separator {
                out.append(field)
                (field, wasQuoted) = ("", false)
            } else {
                field.append(ch)
            }
            i = line.index(after: i)
        }
        if quoted { throw DataError.badTable(path: path, line: number, reason: "a quoted field is not closed (fields cannot span lines)") }
        out.append(field)
        return out
    }
}
