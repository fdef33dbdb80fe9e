import Foundation
import HTTPServing
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
import Testing

private final class Bytes: Sendable {
    let value = Mutex<[UInt8]>([])
}

/// Collects what a response body writes.
private struct Collector: ResponseBodyWriter {
    let bytes: Bytes

    mutating func write(_ buffer: ByteBuffer) async throws {
        bytes.value.withLock { $0 += buffer.readableBytesView }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

@Suite("File bodies")
struct FileBodyTests {
    @Test("a file body is opened when made, so a file replaced or removed meanwhile is still sent whole")
    func openedWhenMade() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("filebody-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("object").path
        let original = (0..<600_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(original).write(to: URL(fileURLWithPath: path))

        let whole = try fileBody(path: path, offset: 0, length: Int64(original.count))
        let range = try fileBody(path: path, offset: 300_000, length: 262_145)
        // Replaced (a new file renamed over it), then removed, before either body is written.
        let replacement = folder.appendingPathComponent("new").path
        try Data("other".utf8).write(to: URL(fileURLWithPath: replacement))
        #expect(rename(replacement, path) == 0)
        #expect(unlink(path) == 0)

        let bytes = Bytes()
        try await whole.write(Collector(bytes: bytes))
        #expect(bytes.value.withLock { $0 } == original)
        let slice = Bytes()
        try await range.write(Collector(bytes: slice))
        #expect(slice.value.withLock { $0 } == Array(original[300_000..<562_145]))
        #expect(throws: (any Error).self) { try fileBody(path: path, offset: 0, length: 1) }
    }
}
