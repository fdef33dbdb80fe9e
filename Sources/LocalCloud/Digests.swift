import Crypto
import Dispatch
import Foundation
import NIOCore
import VideoService

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
