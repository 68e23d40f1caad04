/// Bounds a config's text meets before the YAML parser sees it: Yams recurses once per level of nesting (a
/// few thousand levels overflow the stack), expands every alias (a 700-byte "billion laughs" document takes
/// minutes and gigabytes), and the config is re-encoded and copied into every checkpoint's state (a huge one
/// costs quadratic time and space). A real config is a few hundred bytes, a few levels deep, without aliases.
enum YAMLBounds {
    static let maximumBytes = 1 << 20
    static let maximumDepth = 64
    static let maximumAliases = 64

    /// Throws a syntax error naming `source` when `text` is larger, deeper or uses more aliases than the bounds.
    static func check(_ text: String, source: String) throws {
        let bytes = text.utf8.count
        if bytes > maximumBytes {
            throw ConfigError.syntax(path: source, message: "is \(bytes) bytes; a config may be at most \(maximumBytes) (1 MiB)")
        }
        var aliases = 0, deepest = 0
        var indents: [Int] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let indent = line.prefix { $0 == " " }.count
            let content = line.dropFirst(indent)
            if content.isEmpty || content.hasPrefix("#") { continue }
            while let last = indents.last, last >= indent { indents.removeLast() }
            indents.append(indent)
            // Flow collections ([ and {) and block sequence markers ("- - x") nest within the line.
            var flow = 0, quote: Character? = nil, previous: Character = " "
            var dashes = 0, leading = true
            for ch in content {
                if let q = quote {
                    if ch == q { quote = nil }
                } else if ch == "\"" || ch == "'" {
                    quote = ch
                } else if ch == "#" && (previous == " " || previous == "\t") {
                    break
                } else if ch == "[" || ch == "{" {
                    flow += 1
                    deepest = max(deepest, indents.count + dashes + flow)
                } else if ch == "]" || ch == "}" {
                    flow = max(flow - 1, 0)
                } else if ch == "*" && " [{,:".contains(previous) {
                    aliases += 1
                }
                if leading {
                    if ch == "-" { dashes += 1 } else if ch != " " { leading = false }
                }
                previous = ch
            }
            deepest = max(deepest, indents.count + dashes)
        }
        if deepest > maximumDepth {
            throw ConfigError.syntax(path: source, message: "nests \(deepest) levels deep; a config may nest at most \(maximumDepth)")
        }
        if aliases > maximumAliases {
            throw ConfigError.syntax(
                path: source, message: "uses \(aliases) aliases (*name); a config may use at most \(maximumAliases)")
        }
    }
}
