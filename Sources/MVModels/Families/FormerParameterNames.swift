import Foundation

/// How checkpoints written before every family named its views alike called their parameters, so they
/// still load: the aggregated VAE numbered its modalities from 0 (`modality0.encoder…`, and the
/// aggregators' per-view parts `aggregator.expert0`, `.element0`, `.embedding0`), CoVAE and JNF from 1
/// (`modality1.encoder…`, `joint.modality1…`); JPVAE already said `view1`. Each function takes a
/// parameter's name today and returns its former one, or nil when it had no other.
public enum FormerParameterNames {
    /// The aggregated VAE: `viewK.` → `modality(K−1).`, `aggregator.viewK.part` → `aggregator.part(K−1)`.
    public static func aggregated(_ name: String) -> String? {
        if let (k, rest) = split(name, after: "view") { return "modality\(k - 1)\(rest)" }
        for part in ["expert", "element", "embedding"] {
            guard name.hasPrefix("aggregator.view"), let (k, rest) = split(String(name.dropFirst("aggregator.".count)), after: "view"),
                rest.hasPrefix(".\(part)")
            else { continue }
            return "aggregator.\(part)\(k - 1)\(rest.dropFirst(part.count + 1))"
        }
        return nil
    }

    /// CoVAE and JNF: `viewK` → `modalityK` wherever it starts a name or follows a dot.
    public static func oneBased(_ name: String) -> String? {
        var parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var changed = false
        for (i, p) in parts.enumerated() {
            guard p.hasPrefix("view"), let k = Int(p.dropFirst(4)), k >= 1, "view\(k)" == p else { continue }
            parts[i] = "modality\(k)"
            changed = true
        }
        return changed ? parts.joined(separator: ".") : nil
    }

    /// `viewK…` → (K, …) for a name that starts with `prefix` followed by a view number K ≥ 1.
    private static func split(_ name: String, after prefix: String) -> (Int, String)? {
        guard name.hasPrefix(prefix) else { return nil }
        let tail = name.dropFirst(prefix.count)
        let digits = tail.prefix(while: \.isNumber)
        guard let k = Int(digits), k >= 1, "\(k)" == digits else { return nil }
        return (k, String(tail.dropFirst(digits.count)))
    }
}
