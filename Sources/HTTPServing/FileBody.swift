import Foundation
import Hummingbird
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// A response body of `length` bytes of the file at `path` from `offset`, read 256 KiB at a time
/// as the client takes them (never the whole file in memory). The file is opened when the body is
/// written, so a HEAD answer never opens it.
public func fileBody(path: String, offset: Int64, length: Int64) -> ResponseBody {
    ResponseBody(contentLength: Int(length)) { writer in
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw POSIXError(.ENOENT) }
        defer { close(descriptor) }
        var position = offset
        var remaining = length
        let allocator = ByteBufferAllocator()
        while remaining > 0 {
            let chunk = Int(min(remaining, 256 * 1024))
            var buffer = allocator.buffer(capacity: chunk)
            let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: chunk) { pointer in
                max(0, pread(descriptor, pointer.baseAddress, chunk, off_t(position)))
            }
            guard count > 0 else { throw POSIXError(.EIO) }
            position += Int64(count)
            remaining -= Int64(count)
            try await writer.write(buffer)
        }
        try await writer.finish(nil)
    }
}
