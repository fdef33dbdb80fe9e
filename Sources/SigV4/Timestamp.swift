#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A signing instant in SigV4's two forms: `20150830T123600Z` and the scope date `20150830`.
public struct Timestamp: Sendable, Equatable, Comparable {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    public var secondsSince1970: Int64

    public init(secondsSince1970: Int64) { self.secondsSince1970 = secondsSince1970 }

    /// This second, by the system clock.
    public static var now: Timestamp { Timestamp(secondsSince1970: Int64(Date().timeIntervalSince1970)) }

    /// `yyyyMMdd'T'HHmmss'Z'`, the `X-Amz-Date` form.
    public var amzDate: String {
        let (year, month, day, seconds) = civil
        return pad(year, 4) + pad(month, 2) + pad(day, 2) + "T" + pad(seconds / 3600, 2)
            + pad(seconds / 60 % 60, 2) + pad(seconds % 60, 2) + "Z"
    }

    /// `yyyyMMdd`, the date in the credential scope.
    public var scopeDate: String { String(amzDate.prefix(8)) }

    /// Parses `20150830T123600Z`; nil for anything else.
    public init?(amzDate text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for byte in bytes[range] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int64(byte - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8),
              let hour = number(9..<11), let minute = number(11..<13), let second = number(13..<15),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        self.init(secondsSince1970: Timestamp.days(year: year, month: month, day: day) * 86_400
            + hour * 3600 + minute * 60 + second)
    }

    /// Parses the ISO 8601 form `2015-08-30T12:36:00Z` (fractions of a second are ignored).
    public init?(iso8601 text: String) {
        let digits = text.filter { $0 != "-" && $0 != ":" }
        let trimmed = digits.split(separator: ".").first.map(String.init) ?? digits
        self.init(amzDate: trimmed.hasSuffix("Z") ? trimmed : trimmed + "Z")
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.secondsSince1970 < rhs.secondsSince1970 }

    /// Days from 1970-01-01 to the given civil date (proleptic Gregorian), Howard Hinnant's algorithm.
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private var civil: (year: Int64, month: Int64, day: Int64, secondOfDay: Int64) {
        let days = secondsSince1970 >= 0 ? secondsSince1970 / 86_400 : (secondsSince1970 - 86_399) / 86_400
        let secondOfDay = secondsSince1970 - days * 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day, secondOfDay)
    }

    private func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
