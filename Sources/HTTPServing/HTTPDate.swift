import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Dates as HTTP writes them (RFC 9110's IMF-fixdate, for `Date` and `Last-Modified`), and ISO 8601
/// with milliseconds, as S3's XML and the video API write them.
public enum HTTPDate {
    public static func rfc1123(_ date: Date) -> String {
        var time = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&time, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return String(format: "%@, %02d %@ %04d %02d:%02d:%02d GMT", days[Int(parts.tm_wday)], parts.tm_mday,
                      months[Int(parts.tm_mon)], Int(parts.tm_year) + 1900, parts.tm_hour, parts.tm_min, parts.tm_sec)
    }

    public static func iso8601(_ date: Date) -> String {
        var time = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&time, &parts)
        let millis = Int((date.timeIntervalSince1970 - Double(time)) * 1000)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec, max(0, min(999, millis)))
    }
}

/// Whether an `If-None-Match` / `If-Match` list (`"a", W/"b"` or `*`) names `etag` (quoted).
/// S3 also takes an ETag without its quotes (`acceptingUnquoted`).
public func etagListMatches(_ header: String?, _ etag: String, acceptingUnquoted: Bool = false) -> Bool {
    guard let header else { return false }
    return header.split(separator: ",").contains { candidate in
        let value = candidate.trimmingCharacters(in: .whitespaces)
        return value == "*" || value == etag || value == "W/" + etag || (acceptingUnquoted && "\"\(value)\"" == etag)
    }
}
