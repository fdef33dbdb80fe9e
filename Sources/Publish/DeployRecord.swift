import Foundation
import SigV4

/// What one deploy put live, stored in the bucket as `.site/deploys/<id>.json`.
///
/// The newest record lets the next publish plan from one listing and one GET, without a HEAD per
/// object: an object whose listing ETag and size equal the record's is the object the record
/// describes. `retired` carries fingerprinted assets that left the site and when, so they are kept
/// for the grace period that pages still cached elsewhere need.
public struct DeployRecord: Codable, Sendable, Equatable {
    public struct Object: Codable, Sendable, Equatable {
        public var sha256: String
        public var headers: String
        public var etag: String
        public var size: Int64
        public var fingerprinted: Bool
    }

    public var version = 1
    public var id: String
    /// Seconds since 1970 when the deploy finished.
    public var time: Int64
    public var environment: String?
    public var generator: String
    public var objects: [String: Object]
    /// Fingerprinted keys no longer in the site → when they left (seconds since 1970).
    public var retired: [String: Int64]

    /// Record ids sort in deploy order: a serial one above the previous record's, then the time
    /// (`00000042-20261124T214309Z`), so two deploys in one second still order.
    public static func makeId(at time: Timestamp, after previous: DeployRecord?) -> String {
        let serial = (previous?.id.split(separator: "-").first.flatMap { Int($0) } ?? 0) + 1
        return String(format: "%08d", serial) + "-" + time.amzDate
    }

    public static let folder = ".site/deploys/"

    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    public static func decode(_ bytes: [UInt8]) throws -> DeployRecord {
        try JSONDecoder().decode(DeployRecord.self, from: Data(bytes))
    }
}
