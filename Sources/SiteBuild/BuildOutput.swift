import Synchronization

/// Writes published files into the output folder with their `.gz` siblings, and records each in the
/// manifest. Safe to use from several threads; each thread brings its own compressor.
///
/// A file whose bytes are already in the output folder's spare is kept, not written, and its `.gz`
/// is not compressed again, so a rebuild costs little more than rendering.
final class BuildOutput: Sendable {
    let folder: OutputFolder
    let compress: Bool
    private let state = Mutex(State())

    struct State {
        var entries: [Manifest.Entry] = []
        /// Bytes of compressible files before and after compression (a file keeps the smaller form).
        var compressibleBytes = 0
        var compressedBytes = 0
    }

    init(folder: OutputFolder, compress: Bool) {
        self.folder = folder
        self.compress = compress
    }

    /// Writes `bytes` at `path`; a compressible file also gets `path.gz` when that is smaller.
    /// `sha256` is the bytes' hash when the caller has it already.
    func write(_ bytes: [UInt8], to path: String, source: String?, cache: Manifest.CacheClass, compressor: GzipCompressor,
               sha256 known: String? = nil) throws {
        let sha256 = known ?? Digest.sha256Hex(bytes)
        var entry = Manifest.Entry(path: path, size: bytes.count, sha256: sha256,
                                   contentType: ContentType.of(path), cache: cache, source: source, gzip: nil)
        let old = folder.previous[path].flatMap { $0.sha256 == sha256 && $0.size == bytes.count ? $0 : nil }
        let kept = old != nil && folder.keep(path, ifEqualTo: bytes)
        if !kept { try folder.write(bytes, to: path) }
        var compressed = bytes.count
        if compress && ContentType.isCompressible(path) {
            if let oldGzip = old?.gzip, folder.previousCompression == GzipCompressor.settings, folder.keep(oldGzip.path, ifSHA256: oldGzip.sha256) {
                entry.gzip = oldGzip
                compressed = oldGzip.size
            } else {
                try writeGzip(of: bytes, path: path, into: &entry, compressor: compressor)
                compressed = entry.gzip?.size ?? bytes.count
            }
        }
        let isCompressible = ContentType.isCompressible(path)
        state.withLock { state in
            state.entries.append(entry)
            if isCompressible {
                state.compressibleBytes += bytes.count
                state.compressedBytes += compressed
            }
        }
    }

    /// Records files the spare already holds exactly as `entries` say (with their `.gz`), without
    /// touching them: a trusted spare's unchanged files.
    func carry(_ entries: [Manifest.Entry]) {
        folder.keep(entries.flatMap { [$0.path] + ($0.gzip.map { [$0.path] } ?? []) })
        state.withLock { state in
            state.entries += entries
            for entry in entries where ContentType.isCompressible(entry.path) {
                state.compressibleBytes += entry.size
                state.compressedBytes += entry.gzip?.size ?? entry.size
            }
        }
    }

    private func writeGzip(of bytes: [UInt8], path: String, into entry: inout Manifest.Entry, compressor: GzipCompressor) throws {
        let gzipped = compressor.compress(bytes)
        guard gzipped.count < bytes.count else { return }
        try folder.write(gzipped, to: path + ".gz")
        entry.gzip = Manifest.Encoded(path: path + ".gz", size: gzipped.count, sha256: Digest.sha256Hex(gzipped))
    }

    var snapshot: State { state.withLock { $0 } }
}
