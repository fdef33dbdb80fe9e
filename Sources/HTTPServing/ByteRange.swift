import Foundation

/// One HTTP byte range (RFC 9110 §14): `a-b`, `a-` or the suffix `-n` (the last n bytes).
/// Several ranges, another unit or a malformed one are served whole, as S3 does.
public enum ByteRange: Equatable, Sendable {
    case whole
    /// First and last byte, inclusive.
    case range(Int64, Int64)
    case unsatisfiable

    public static func parse(_ header: String, size: Int64) -> ByteRange {
        let text = header.trimmingCharacters(in: .whitespaces)
        guard text.lowercased().hasPrefix("bytes=") else { return .whole }
        let spec = text.dropFirst(6).trimmingCharacters(in: .whitespaces)
        guard !spec.contains(",") else { return .whole }
        let pieces = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard pieces.count == 2 else { return .whole }
        let first = pieces[0].trimmingCharacters(in: .whitespaces), last = pieces[1].trimmingCharacters(in: .whitespaces)
        if first.isEmpty {
            guard let suffix = Int64(last), suffix >= 0 else { return .whole }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .range(max(0, size - suffix), size - 1)
        }
        guard let start = Int64(first), start >= 0 else { return .whole }
        let end: Int64
        if last.isEmpty { end = size - 1 } else {
            guard let value = Int64(last), value >= start else { return .whole }
            end = min(value, size - 1)
        }
        guard start < size else { return .unsatisfiable }
        return .range(start, end)
    }
}
