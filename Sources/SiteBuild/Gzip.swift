import CZlib

/// Deterministic gzip with zlib: no file name, zero modification time, fixed OS byte.
///
/// One compressor holds zlib's state and is reset between files; use one per thread.
public final class GzipCompressor {
    private var stream = z_stream()
    private var output: [UInt8] = []

    /// Level 6 by default: on HTML it comes within 0.01% of `gzip -9` for about half the CPU time
    /// of level 9 (`bench/build.py` prints the comparison).
    /// The zlib version and level every `.gz` is made with: a change invalidates reused `.gz` files.
    public static let level: Int32 = 6
    public static let settings = "zlib-\(String(cString: zlibVersion()))-\(level)"

    public init(level: Int32 = GzipCompressor.level) {
        let status = deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "zlib could not allocate its state")
    }

    deinit { deflateEnd(&stream) }

    /// The gzip member for `input`.
    public func compress(_ input: [UInt8]) -> [UInt8] {
        deflateReset(&stream)
        let bound = Int(deflateBound(&stream, uLong(input.count))) + 32
        if output.count < bound { output = [UInt8](repeating: 0, count: bound) }
        var produced = 0
        input.withUnsafeBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                stream.next_in = UnsafeMutablePointer(mutating: inputBuffer.baseAddress)
                stream.avail_in = uInt(inputBuffer.count)
                stream.next_out = outputBuffer.baseAddress
                stream.avail_out = uInt(outputBuffer.count)
                let status = deflate(&stream, Z_FINISH)
                precondition(status == Z_STREAM_END, "deflateBound was too small")
                produced = outputBuffer.count - Int(stream.avail_out)
            }
        }
        return Array(output[0..<produced])
    }
}

/// Decompresses a gzip member; for tests and checks.
public func gunzip(_ input: [UInt8]) -> [UInt8]? {
    var stream = z_stream()
    guard inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
    defer { inflateEnd(&stream) }
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    return input.withUnsafeBufferPointer { inputBuffer -> [UInt8]? in
        stream.next_in = UnsafeMutablePointer(mutating: inputBuffer.baseAddress)
        stream.avail_in = uInt(inputBuffer.count)
        while true {
            let (status, produced) = chunk.withUnsafeMutableBufferPointer { buffer -> (Int32, Int) in
                stream.next_out = buffer.baseAddress
                stream.avail_out = uInt(buffer.count)
                let status = inflate(&stream, Z_NO_FLUSH)
                return (status, buffer.count - Int(stream.avail_out))
            }
            result.append(contentsOf: chunk[0..<produced])
            if status == Z_STREAM_END { return result }
            if status != Z_OK { return nil }
        }
    }
}
