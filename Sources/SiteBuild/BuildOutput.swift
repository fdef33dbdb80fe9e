import Synchronization

/// Writes published files into the output folder with their `.gz` siblings, and records each in the
/// manifest. Safe to use from several threads; each thread brings its own compressor.
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
    func write(_ bytes: [UInt8], to path: String, source: String?, cache: Manifest.CacheClass, compressor: GzipCompressor) throws {
        try folder.write(bytes, to: path)
        var entry = Manifest.Entry(path: path, size: bytes.count, sha256: Digest.sha256Hex(bytes),
                                   contentType: ContentType.of(path), cache: cache, source: source, gzip: nil)
        var compressed = bytes.count
        if compress && ContentType.isCompressible(path) {
            let gzipped = compressor.compress(bytes)
            if gzipped.count < bytes.count {
                try folder.write(gzipped, to: path + ".gz")
                entry.gzip = Manifest.Encoded(path: path + ".gz", size: gzipped.count, sha256: Digest.sha256Hex(gzipped))
                compressed = gzipped.count
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

    var snapshot: State { state.withLock { $0 } }
}
