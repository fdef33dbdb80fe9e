#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The build's output. It is written into a spare folder beside the destination and swapped with
/// it in one rename only when the whole build succeeded (`commit`), so a failed or killed build never
/// touches the live `dist/`: a build that fails simply does not commit, and the spare waits for the next.
///
/// The spare is the build before last, kept after each swap: a file whose bytes are unchanged is
/// left where it is, so a rebuild writes, creates and deletes only what changed.
public final class OutputFolder: Sendable {
    /// Where the finished output goes.
    public let destination: String
    /// The folder being written: `.<name>.spare` beside the destination (same file system, so the swap is atomic).
    public let staging: String
    /// What the spare held before this build, from its manifest; every reuse is still checked byte for byte.
    let previous: [String: Manifest.Entry]
    /// The previous build's `compression`: its `.gz` files are reused only when it equals this build's.
    let previousCompression: String?
    /// The spare is a build this process made and remembers (its manifest is byte for byte the one
    /// remembered, and no build has touched it since), so a file the manifest lists with the wanted
    /// hash is kept without reading it back.
    let trusted: Bool
    private let lock: Int32
    /// Paths this build wrote or kept; everything else in the spare is removed before the swap.
    private let produced = Mutex(Set<String>())
    /// Every file in the spare, when known without walking it: it is empty, or it is a finished
    /// build (its manifest plus `.site/`) that no failed build has touched since.
    private let spareFiles: [String]?
    /// Present in the spare while a build changes it; a spare that has it is walked, not trusted.
    private static let incompleteMarker = ".site/incomplete"

    /// Prepares the spare next to `destination`, waiting for any other build of the same destination.
    ///
    /// Because a build replaces the whole destination, it refuses one that holds anything but a
    /// previous build: the project itself, its sources, or a folder of other files.
    ///
    /// `knownSpare` is the manifest of the build before last, when the caller made it: the dev
    /// server's rebuilds, which then skip reading back what is unchanged.
    public init(destination: String, project: String, knownSpare: Manifest.Written? = nil) throws {
        let (parent, name) = try Self.resolve(destination)
        let resolved = parent == "/" ? "/" + name : parent + "/" + name
        self.destination = resolved
        func refuse(_ why: String) -> Diagnostic {
            Diagnostic("refusing to write the build to \(resolved): \(why); choose another --out", key: "--out")
        }
        if resolved == project || project.hasPrefix(resolved + "/") { throw refuse("it holds the project") }
        for source in ["site", "assets"] where resolved == project + "/" + source || resolved.hasPrefix(project + "/" + source + "/") {
            throw refuse("it is inside the project's \(source)/ folder")
        }
        var info = stat()
        if lstat(resolved, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else { throw refuse("it exists and is not a folder") }
            if !(listDirectory(resolved) ?? []).isEmpty && readFile(resolved + "/" + Manifest.path) == nil {
                throw refuse("it has files but no \(Manifest.path), so it is not an earlier build and would be replaced")
            }
        }
        let base = parent == "/" ? "" : parent
        lock = open("\(base)/.\(name).lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard lock >= 0 else { throw Diagnostic("cannot create \(base)/.\(name).lock: \(errnoMessage())") }
        flock(lock, LOCK_EX)
        staging = "\(base)/.\(name).spare"
        if lstat(staging, &info) == 0, (info.st_mode & S_IFMT) != S_IFDIR { removeTree(staging) }
        if mkdir(staging, 0o755) != 0 && errno != EEXIST {
            let reason = errnoMessage()
            close(lock)
            throw Diagnostic("cannot create the spare output folder \(staging): \(reason)")
        }
        let manifestBytes = readFile(staging + "/" + Manifest.path)
        let finished = lstat(staging + "/" + Self.incompleteMarker, &info) != 0
        trusted = finished && knownSpare != nil && manifestBytes == knownSpare?.bytes
        let manifest = trusted ? knownSpare?.manifest : manifestBytes.flatMap { try? Manifest.decode($0) }
        previous = Dictionary((manifest?.files ?? []).map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        previousCompression = manifest?.compression
        if (listDirectory(staging) ?? ["?"]).isEmpty {
            spareFiles = []
        } else if let manifest, finished {
            spareFiles = manifest.files.flatMap { [$0.path] + ($0.gzip.map { [$0.path] } ?? []) }
                + [Manifest.path, ".site/headers.json"]
        } else {
            spareFiles = nil
        }
        do {
            try write([], to: Self.incompleteMarker)
        } catch {
            close(lock)
            throw error
        }
    }

    deinit { close(lock) }

    /// The absolute, symlink-free parent of `path` and its last component.
    private static func resolve(_ path: String) throws -> (parent: String, name: String) {
        var trimmed = path
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        if !trimmed.hasPrefix("/") {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            guard getcwd(&buffer, buffer.count) != nil else { throw Diagnostic("cannot read the current folder: \(errnoMessage())") }
            trimmed = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } + "/" + trimmed
        }
        let (parent, name) = split(trimmed)
        guard !name.isEmpty, name != ".", name != ".." else {
            throw Diagnostic("the output folder must be named, like dist (got \(path))", key: "--out")
        }
        try makeDirectories(parent)
        guard let real = realpath(parent, nil) else { throw Diagnostic("cannot open \(parent): \(errnoMessage())", key: "--out") }
        defer { free(real) }
        return (String(cString: real), name)
    }

    private static func split(_ path: String) -> (parent: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let parent = path[..<slash]
        return (parent.isEmpty ? "/" : String(parent), String(path[path.index(after: slash)...]))
    }

    /// Creates `path` and its parents; a file standing where a folder must be is removed.
    static func makeDirectories(_ path: String) throws {
        var info = stat()
        if lstat(path, &info) == 0 {
            if (info.st_mode & S_IFMT) == S_IFDIR { return }
            if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { return }
            unlink(path)
        }
        let (parent, _) = split(path)
        if parent != path && parent != "/" && parent != "." { try makeDirectories(parent) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw Diagnostic("cannot create folder \(path): \(errnoMessage())")
        }
    }

    /// Writes `bytes` at `relative` in the spare, creating folders as needed.
    public func write(_ bytes: [UInt8], to relative: String) throws {
        let path = staging + "/" + relative
        if let slash = relative.lastIndex(of: "/") {
            try Self.makeDirectories(staging + "/" + relative[..<slash])
        }
        // A new file rather than the old one truncated: ext4 flushes a truncated file's new data
        // to disk on close (its replace-by-truncate safeguard), which made rewrites many times slower.
        unlink(path)
        var fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 && errno == EISDIR {
            removeTree(path)
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }
        guard fd >= 0 else { throw Diagnostic("cannot write \(relative): \(errnoMessage())") }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw Diagnostic("cannot write \(relative): \(errnoMessage())")
            }
            offset += written
        }
        produced.withLock { _ = $0.insert(relative) }
    }

    /// Keeps the spare's file at `relative` if its bytes are `expected`.
    func keep(_ relative: String, ifEqualTo expected: [UInt8]) -> Bool {
        keep(relative) { $0 == expected }
    }

    /// Keeps the spare's file at `relative` if its SHA-256 is `sha256`.
    func keep(_ relative: String, ifSHA256 sha256: String) -> Bool {
        keep(relative) { Digest.sha256Hex($0) == sha256 }
    }

    /// Keeps spare files known to be right without reading them: only for a trusted spare.
    func keep(_ relatives: [String]) {
        precondition(trusted)
        produced.withLock { $0.formUnion(relatives) }
    }

    private func keep(_ relative: String, where matches: ([UInt8]) -> Bool) -> Bool {
        guard trusted || readFile(staging + "/" + relative).map(matches) == true else { return false }
        produced.withLock { _ = $0.insert(relative) }
        return true
    }

    /// Removes what this build did not produce from the spare, then swaps it with the destination,
    /// atomically where the system allows. The old output becomes the spare for the next build.
    public func commit() throws {
        let keep = produced.withLock { $0 }
        if let spareFiles {
            for file in spareFiles where !keep.contains(file) { removeFileAndEmptyFolders(file) }
        } else {
            prune("", keeping: keep)
        }
        unlink(staging + "/" + Self.incompleteMarker)
        var info = stat()
        if lstat(destination, &info) != 0 {
            guard rename(staging, destination) == 0 else {
                throw Diagnostic("cannot move the new build into \(destination): \(errnoMessage())")
            }
            return
        }
        if let exchange = Self.renameExchange, exchange(AT_FDCWD, staging, AT_FDCWD, destination, 2 /* RENAME_EXCHANGE */) == 0 {
            return
        }
        // No atomic exchange here: move the old output aside first, so one of the two is always whole.
        let aside = staging + ".swap"
        removeTree(aside)
        guard rename(destination, aside) == 0 else {
            throw Diagnostic("cannot move the previous build out of \(destination): \(errnoMessage())")
        }
        guard rename(staging, destination) == 0 else {
            let reason = errnoMessage()
            _ = rename(aside, destination)
            throw Diagnostic("cannot move the new build into \(destination): \(reason)")
        }
        _ = rename(aside, staging)
    }

    /// Deletes a file from the spare, and its folders as they become empty.
    private func removeFileAndEmptyFolders(_ relative: String) {
        guard unlink(staging + "/" + relative) == 0 else { return }
        var folder = Substring(relative)
        while let slash = folder.lastIndex(of: "/") {
            folder = folder[..<slash]
            if rmdir(staging + "/" + folder) != 0 { break }
        }
    }

    /// Deletes files under `folder` (relative to the spare) that are not in `keep`, and emptied
    /// folders; returns whether anything was kept.
    @discardableResult
    private func prune(_ folder: String, keeping keep: Set<String>) -> Bool {
        var keptAny = false
        let path = folder.isEmpty ? staging : staging + "/" + folder
        for name in listDirectory(path) ?? [] {
            let relative = folder.isEmpty ? name : folder + "/" + name
            var info = stat()
            guard lstat(staging + "/" + relative, &info) == 0 else { continue }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                if prune(relative, keeping: keep) { keptAny = true } else { rmdir(staging + "/" + relative) }
            } else if keep.contains(relative) {
                keptAny = true
            } else {
                unlink(staging + "/" + relative)
            }
        }
        return keptAny
    }

    /// Linux's renameat2, looked up at run time because the C library headers Swift sees do not declare it.
    private static let renameExchange: (@convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32)? = {
        #if os(Linux)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32).self)
        #else
        return nil
        #endif
    }()
}
