import Crypto
import Dispatch
import Foundation
import NIOCore

/// The checksum algorithms an upload can be created with; the local cloud offers S3's SHA256 only.
public enum ChecksumAlgorithm: String, Sendable {
    case sha256 = "SHA256"
}

/// An `x-amz-checksum-sha256` value: the 32-byte SHA-256 digest of a body, in base64.
public struct ChecksumSHA256: Sendable, Equatable, CustomStringConvertible {
    public let digest: [UInt8]

    init(digest: [UInt8]) {
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

/// MD5 (and SHA-256 when asked) of a stream, computed on a serial queue of its own so the hashing
/// overlaps the caller's writes. At most 8 buffers (of up to 1 MiB) wait; beyond that `update` waits for the hasher.
final class BackgroundDigest: @unchecked Sendable {
    // Touched only on `queue`.
    private var md5 = Insecure.MD5()
    private var sha256: SHA256?
    private let queue = DispatchQueue(label: "local-cloud.digest")
    private let slots = DispatchSemaphore(value: 8)

    init(sha256: Bool) {
        self.sha256 = sha256 ? SHA256() : nil
    }

    func update(_ buffer: ByteBuffer) {
        slots.wait()
        queue.async { [self] in
            buffer.withUnsafeReadableBytes { bytes in
                md5.update(bufferPointer: bytes)
                sha256?.update(bufferPointer: bytes)
            }
            slots.signal()
        }
    }

    /// Waits for every buffer handed in, then returns the raw digests.
    func finish() -> (md5: [UInt8], sha256: [UInt8]?) {
        queue.sync { (Array(md5.finalize()), sha256.map { Array($0.finalize()) }) }
    }
}

func hexDecoded(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var iterator = text.utf8.makeIterator()
    while let high = iterator.next(), let low = iterator.next() {
        guard let h = hexValue(high), let l = hexValue(low) else { return [] }
        bytes.append(h << 4 | l)
    }
    return bytes
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 48...57: return c - 48
    case 97...102: return c - 87
    case 65...70: return c - 55
    default: return nil
    }
}
