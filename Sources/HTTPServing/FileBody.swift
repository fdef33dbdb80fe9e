import Foundation
import Hummingbird
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// A file opened for a response body; closed when the body is done with it, or dropped unread.
private final class OpenFile: Sendable {
    let descriptor: Int32

    init(_ path: String) throws {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ENOENT) }
    }

    deinit { close(descriptor) }
}

/// A response body of `length` bytes of the file at `path` from `offset`, read 256 KiB at a time
/// as the client takes them (never the whole file in memory). The file is opened now, so the
/// answer is whole even when the file is replaced or removed while it is sent; this throws when
/// it cannot be opened, before any header is written.
public func fileBody(path: String, offset: Int64, length: Int64) throws -> ResponseBody {
    let file = try OpenFile(path)
    return ResponseBody(contentLength: Int(length)) { writer in
        var position = offset
        var remaining = length
        let allocator = ByteBufferAllocator()
        while remaining > 0 {
            let chunk = Int(min(remaining, 256 * 1024))
            var buffer = allocator.buffer(capacity: chunk)
            let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: chunk) { pointer in
                max(0, pread(file.descriptor, pointer.baseAddress, chunk, off_t(position)))
            }
            guard count > 0 else { throw POSIXError(.EIO) }
            position += Int64(count)
            remaining -= Int64(count)
            try await writer.write(buffer)
        }
        try await writer.finish(nil)
    }
}
