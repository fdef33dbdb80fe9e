import Synchronization

// BuildSession's writing: a prepared build into the spare folder, carrying over what the last build
// already wrote there, then swapped in as the output folder.

extension BuildSession {
    /// Writes the whole site into the spare and swaps it in; returns the report and the manifest written.
    ///
    /// When the spare is the build before last and `last` the last build, a file whose bytes, source
    /// and cache class are the last build's and whose spare copy is already the same is carried over
    /// without being touched.
    func write(_ prepared: Prepared, knownSpare: Manifest.Written?, last: Manifest.Written?) throws -> (BuildReport, Manifest.Written) {
        let site = prepared.site
        let output = try OutputFolder(destination: options.output ?? site.tree.absolute("dist"), project: site.tree.root,
                                      knownSpare: knownSpare)
        let writer = BuildOutput(folder: output, compress: options.compress)
        let files = prepared.files
        var changed = files
        if output.trusted, let last {
            let lastEntries = Dictionary(last.manifest.files.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
            var carried: [Manifest.Entry] = []
            changed = files.filter { file in
                guard let entry = lastEntries[file.path], entry.sha256 == file.sha256, entry.source == file.source,
                      entry.cache == file.cache, output.previous[file.path] == entry else { return true }
                carried.append(entry)
                return false
            }
            writer.carry(carried)
        }
        let problems = Mutex(Set<Diagnostic>())
        parallelForEach(count: changed.count, makeLocal: { GzipCompressor() }) { index, compressor in
            let file = changed[index]
            do {
                try writer.write(file.bytes, to: file.path, source: file.source, cache: file.cache, compressor: compressor, sha256: file.sha256)
            } catch {
                let diagnostic = error as? Diagnostic ?? Diagnostic("\(error)")
                problems.withLock { _ = $0.insert(diagnostic) }
            }
        }
        let failures = problems.withLock { $0 }
        if !failures.isEmpty { throw BuildFailure(Array(failures)) }

        let state = writer.snapshot
        let manifest = Manifest(generator: SiteBuilder.generator, environment: site.environment?.name,
                                compression: options.compress ? GzipCompressor.settings : nil,
                                files: state.entries.sorted { $0.path < $1.path })
        let manifestBytes = try manifest.encoded()
        try output.write(manifestBytes, to: Manifest.path)
        try output.write(try SiteBuilder.headersFile(environment: site.environment, headers: prepared.headers), to: ".site/headers.json")
        try output.commit()
        let report = BuildReport(output: output.destination, environment: site.environment?.name, pages: prepared.pages,
                                 languages: site.config.languages, assets: site.catalog.assets.count, files: manifest.files.count,
                                 compressibleBytes: state.compressibleBytes, compressedBytes: state.compressedBytes,
                                 manifest: manifest)
        return (report, Manifest.Written(bytes: manifestBytes, manifest: manifest))
    }
}
