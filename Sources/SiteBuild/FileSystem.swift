#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The names in a folder, without `.` and `..`, in no particular order; nil if it cannot be listed.
func listDirectory(_ path: String) -> [String]? {
    guard let dir = opendir(path) else { return nil }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafePointer(to: entry.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

/// The bytes of a file; nil with `errno` set when it cannot be read.
func readFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { return nil }
    var bytes = [UInt8]()
    bytes.reserveCapacity(max(Int(info.st_size), 0))
    while true {
        var failed = false
        let count = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 65536) { chunk -> Int in
            let count = read(fd, chunk.baseAddress, chunk.count)
            if count > 0 { bytes.append(contentsOf: chunk[0..<count]) }
            failed = count < 0 && errno != EINTR
            return count
        }
        if failed { return nil }
        if count == 0 { return bytes }
    }
}

/// Deletes a file or a folder tree; missing paths are fine.
func removeTree(_ path: String) {
    var info = stat()
    guard lstat(path, &info) == 0 else { return }
    if (info.st_mode & S_IFMT) == S_IFDIR {
        for name in listDirectory(path) ?? [] { removeTree(path + "/" + name) }
        rmdir(path)
    } else {
        unlink(path)
    }
}

/// The message for the current `errno`.
func errnoMessage() -> String {
    String(cString: strerror(errno))
}
