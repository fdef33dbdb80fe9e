import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The checksum algorithms an upload can be created with; the local cloud offers S3's SHA256 only.
public enum ChecksumAlgorithm: String, Sendable {
    case sha256 = "SHA256"
}

/// An `x-amz-checksum-sha256` value: the 32-byte SHA-256 digest of a body, in base64.
public struct ChecksumSHA256: Sendable, Equatable, CustomStringConvertible {
    public let digest: [UInt8]

    public init(digest: [UInt8]) {
        self.digest = digest
    }

    /// Reads a header, XML or JSON value; nil unless it is the canonical base64 of exactly 32 bytes
    /// (43 characters and one `=`), so a stored value and a sent one compare as text.
    public init?(base64 text: String) {
        guard text.utf8.count == 44, let data = Data(base64Encoded: text), data.count == 32,
              data.base64EncodedString() == text else { return nil }
        digest = Array(data)
    }

    /// The base64 form, as S3 writes it.
    public var description: String { Data(digest).base64EncodedString() }

    /// S3's checksum of an object joined from parts: the SHA-256 of the parts' raw digests one after
    /// another, in base64, then `-` and the number of parts.
    public static func composite(_ parts: [ChecksumSHA256]) -> String {
        var hash = SHA256()
        for part in parts { hash.update(data: part.digest) }
        return Data(hash.finalize()).base64EncodedString() + "-\(parts.count)"
    }
}
