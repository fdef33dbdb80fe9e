#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The build's output, written to a staging folder beside the destination and swapped in only when
/// the whole build succeeded, so a failed or killed build never leaves a half-written `dist/`.
public final class OutputFolder: @unchecked Sendable {
    /// Where the finished output goes.
    public let destination: String
    /// The folder being written (same parent, so the final rename is atomic).
    public let staging: String

    /// Creates an empty staging folder next to `destination`, removing stale ones left by killed builds.
    public init(destination: String) throws {
        let trimmed = destination.hasSuffix("/") && destination.count > 1 ? String(destination.dropLast()) : destination
        self.destination = trimmed
        let (parent, name) = Self.split(trimmed)
        Self.removeStaleStaging(in: parent, name: name)
        staging = "\(parent)/.\(name).staging-\(getpid())"
        removeTree(staging)
        try Self.makeDirectories(parent)
        guard mkdir(staging, 0o755) == 0 else {
            throw Diagnostic("cannot create the staging folder \(staging): \(errnoMessage())")
        }
    }

    private static func split(_ path: String) -> (parent: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let parent = path[..<slash]
        return (parent.isEmpty ? "/" : String(parent), String(path[path.index(after: slash)...]))
    }

    /// Staging folders whose build process is gone.
    private static func removeStaleStaging(in parent: String, name: String) {
        let prefix = ".\(name).staging-"
        for entry in listDirectory(parent) ?? [] where entry.hasPrefix(prefix) {
            let pidText = entry.dropFirst(prefix.count).prefix { $0.isNumber }
            guard let pid = Int32(pidText), kill(pid, 0) != 0, errno == ESRCH else { continue }
            removeTree("\(parent)/\(entry)")
        }
    }

    static func makeDirectories(_ path: String) throws {
        var info = stat()
        if stat(path, &info) == 0 { return }
        let (parent, _) = split(path)
        if parent != path && parent != "/" && parent != "." { try makeDirectories(parent) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw Diagnostic("cannot create folder \(path): \(errnoMessage())")
        }
    }

    /// Writes `bytes` at `relative` inside the staging folder, creating folders as needed.
    public func write(_ bytes: [UInt8], to relative: String) throws {
        let path = staging + "/" + relative
        if let slash = relative.lastIndex(of: "/") {
            try Self.makeDirectories(staging + "/" + relative[..<slash])
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
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
    }

    /// The bytes of a file in the current (previous) output, if there is one.
    func readPrevious(_ relative: String) -> [UInt8]? {
        readFile(destination + "/" + relative)
    }

    /// Hard-links the previous output's file into the staging folder if its bytes are `expected`.
    func reusePrevious(_ relative: String, ifEqualTo expected: [UInt8]) throws -> Bool {
        guard readPrevious(relative) == expected else { return false }
        return try link(relative)
    }

    /// Hard-links the previous output's file into the staging folder if its SHA-256 is `sha256`.
    func reusePrevious(_ relative: String, ifSHA256 sha256: String) throws -> Bool {
        guard let bytes = readPrevious(relative), Digest.sha256Hex(bytes) == sha256 else { return false }
        return try link(relative)
    }

    private func link(_ relative: String) throws -> Bool {
        if let slash = relative.lastIndex(of: "/") {
            try Self.makeDirectories(staging + "/" + relative[..<slash])
        }
        return Glibc.link(destination + "/" + relative, staging + "/" + relative) == 0
    }

    /// Puts the staging folder in place of the destination, atomically where the system allows.
    public func commit() throws {
        var info = stat()
        if lstat(destination, &info) != 0 {
            guard rename(staging, destination) == 0 else {
                throw Diagnostic("cannot move the new build into \(destination): \(errnoMessage())")
            }
            return
        }
        if let exchange = Self.renameExchange, exchange(AT_FDCWD, staging, AT_FDCWD, destination, 2 /* RENAME_EXCHANGE */) == 0 {
            removeTree(staging)
            return
        }
        // No atomic exchange here: move the old output aside first, so one of the two is always whole.
        let previous = staging + ".previous"
        guard rename(destination, previous) == 0 else {
            throw Diagnostic("cannot move the previous build out of \(destination): \(errnoMessage())")
        }
        guard rename(staging, destination) == 0 else {
            let reason = errnoMessage()
            _ = rename(previous, destination)
            throw Diagnostic("cannot move the new build into \(destination): \(reason)")
        }
        removeTree(previous)
    }

    /// Removes the staging folder after a failed build.
    public func discard() {
        removeTree(staging)
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
