#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The project folder as the build reads it: listing and reading files, refusing to leave the project.
///
/// Every path it hands out is relative to the project root, so diagnostics read `site/pages/help.md`.
public struct SourceTree: Sendable {
    /// Absolute, symlink-free path of the project root.
    public let root: String

    /// Opens the project at `path` (the folder holding `site/` and `assets/`).
    public init(root path: String) throws {
        guard let resolved = realpath(path, nil) else {
            throw Diagnostic("cannot open project folder: \(errnoMessage())", at: SourceLocation(file: path))
        }
        root = String(cString: resolved)
        free(resolved)
    }

    /// The absolute path of a project-relative path.
    public func absolute(_ relative: String) -> String {
        relative.isEmpty ? root : root + "/" + relative
    }

    /// Whether a project-relative path exists (following symlinks).
    public func exists(_ relative: String) -> Bool {
        var info = stat()
        return stat(absolute(relative), &info) == 0
    }

    /// Every regular file under a project-relative folder, recursively, sorted; hidden files are skipped.
    ///
    /// A symlink is followed only when it stays inside the project; one that leaves it is an error.
    public func files(under folder: String) throws -> [String] {
        var found: [String] = []
        var problems = DiagnosticBag()
        walk(folder, into: &found, problems: &problems, depth: 0)
        try problems.throwIfAny()
        return found.sorted()
    }

    private func walk(_ folder: String, into found: inout [String], problems: inout DiagnosticBag, depth: Int) {
        guard depth < 64 else {
            problems.append(Diagnostic("folders nest too deeply (a symlink loop?)", at: SourceLocation(file: folder)))
            return
        }
        guard let names = listDirectory(absolute(folder)) else {
            if errno != ENOENT {
                problems.append(Diagnostic("cannot list folder: \(errnoMessage())", at: SourceLocation(file: folder)))
            }
            return
        }
        for name in names.sorted() where !name.hasPrefix(".") {
            let relative = folder.isEmpty ? name : folder + "/" + name
            switch kind(of: relative, problems: &problems) {
            case .directory: walk(relative, into: &found, problems: &problems, depth: depth + 1)
            case .file: found.append(relative)
            case .other: break
            }
        }
    }

    private enum Kind { case file, directory, other }

    private func kind(of relative: String, problems: inout DiagnosticBag) -> Kind {
        let path = absolute(relative)
        var info = stat()
        guard lstat(path, &info) == 0 else {
            problems.append(Diagnostic("cannot read file: \(errnoMessage())", at: SourceLocation(file: relative)))
            return .other
        }
        if (info.st_mode & S_IFMT) == S_IFLNK {
            guard let resolved = realpath(path, nil) else {
                problems.append(Diagnostic("symlink points to nothing: \(errnoMessage())", at: SourceLocation(file: relative)))
                return .other
            }
            let target = String(cString: resolved)
            free(resolved)
            guard target == root || target.hasPrefix(root + "/") else {
                problems.append(Diagnostic(
                    "symlink points outside the project (to \(target)); copy the file into the project instead",
                    at: SourceLocation(file: relative)))
                return .other
            }
            guard stat(path, &info) == 0 else { return .other }
        }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .file
        default:
            problems.append(Diagnostic("not a regular file or folder", at: SourceLocation(file: relative)))
            return .other
        }
    }

    /// The bytes of a project-relative file.
    public func read(_ relative: String) throws -> [UInt8] {
        guard let bytes = readFile(absolute(relative)) else {
            throw Diagnostic("cannot read file: \(errnoMessage())", at: SourceLocation(file: relative))
        }
        return bytes
    }

    /// The text of a project-relative file, which must be UTF-8.
    public func readText(_ relative: String) throws -> String {
        let bytes = try read(relative)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw Diagnostic("file is not valid UTF-8 text", at: SourceLocation(file: relative))
        }
        return text
    }
}
