import SigV4

/// Which CloudFront paths to invalidate, within CloudFront's limits (pure).
public enum InvalidationPlan {
    /// Paths in one invalidation batch.
    public static let maxPaths = 3000
    /// Wildcard paths in flight per distribution.
    public static let maxWildcards = 15

    /// The URL paths a key is served at: `help/index.html` is also `/help/` and `/help`.
    public static func urlPaths(forKey path: String) -> [String] {
        let encoded = "/" + uriEncode(path, keepSlash: true)
        if path == "index.html" { return ["/", "/index.html"] }
        if path.hasSuffix("/index.html") {
            let folder = String(encoded.dropLast("index.html".count))
            return [folder, String(folder.dropLast()), encoded]
        }
        return [encoded]
    }

    /// Deduplicates `paths` and collapses folders into `/folder/*` where one wildcard replaces at
    /// least `minimumSaving` + 1 paths, at most 15 wildcards; above 3,000 paths, `/*`.
    public static func batch(_ paths: [String], minimumSaving: Int = 3) -> [String] {
        var unique: [String] = []
        var seen = Set<String>()
        for path in paths where seen.insert(path).inserted { unique.append(path) }
        guard unique.count > minimumSaving else { return unique }

        // Count the paths each folder's wildcard would cover (`/dir/*` covers `/dir/` too).
        var counts: [String: Int] = [:]
        for path in unique {
            for slash in path.indices.dropFirst() where path[slash] == "/" {
                counts[String(path[...slash]), default: 0] += 1
            }
        }
        // Widest saving first; a folder is skipped when a chosen one contains it or it contains one.
        let candidates = counts.filter { $0.value - 1 > minimumSaving }
            .sorted { ($1.value, $0.key.count, $0.key) < ($0.value, $1.key.count, $1.key) }
        var chosen: [String] = []
        for (folder, _) in candidates where chosen.count < maxWildcards {
            if chosen.contains(where: { folder.hasPrefix($0) || $0.hasPrefix(folder) }) { continue }
            chosen.append(folder)
        }
        var result = chosen.map { $0 + "*" }
        for path in unique where !chosen.contains(where: { path.hasPrefix($0) }) {
            result.append(path)
        }
        if result.count > maxPaths { return ["/*"] }
        return result.sorted()
    }
}
