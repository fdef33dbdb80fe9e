import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

#if os(Linux)
/// Linux's inotify over every folder under some roots, new folders included. Changed paths gather
/// in a set; `changes()` waits for the first, lets a burst settle, and hands over the set (so an
/// editor's write-temp-then-rename save is one rebuild).
final class InotifyWatcher: Sendable {
    private let descriptor: Int32
    private let watches = Mutex<[Int32: String]>([:])
    private let pending = Mutex<Set<String>>([])
    private let signal: AsyncStream<Void>
    private let ring: AsyncStream<Void>.Continuation

    static let mask = UInt32(IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF)

    /// Nil when inotify is not available (then the caller polls).
    init?(folders: [String]) {
        descriptor = inotify_init1(Int32(IN_CLOEXEC))
        guard descriptor >= 0 else { return nil }
        (signal, ring) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        for folder in folders { addRecursively(folder) }
        let thread = Thread { [self] in readLoop() }
        thread.start()
    }

    private func addRecursively(_ folder: String) {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else { return }
        let watch = inotify_add_watch(descriptor, folder, Self.mask)
        if watch >= 0 { watches.withLock { $0[watch] = folder } }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            addRecursively(folder + "/" + name)
        }
    }

    private func readLoop() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            var changed: [String] = []
            var offset = 0
            buffer.withUnsafeBytes { bytes in
                while offset + 16 <= count {
                    let watch = bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                    let mask = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                    let length = Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    let nameBytes = bytes[(offset + 16)..<min(count, offset + 16 + length)].prefix { $0 != 0 }
                    offset += 16 + length
                    guard let folder = watches.withLock({ $0[watch] }) else { continue }
                    let path = nameBytes.isEmpty ? folder : folder + "/" + String(decoding: nameBytes, as: UTF8.self)
                    if mask & UInt32(IN_ISDIR) != 0, mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 {
                        addRecursively(path)
                    }
                    if mask & UInt32(IN_IGNORED) != 0 { watches.withLock { _ = $0.removeValue(forKey: watch) } }
                    changed.append(path)
                }
            }
            guard !changed.isEmpty else { continue }
            pending.withLock { $0.formUnion(changed) }
            ring.yield()
        }
    }

    /// Calls `onChange` with each burst of changed paths (a burst ends `settle` after its first
    /// change), until the task is cancelled.
    func run(settle: Duration, onChange: (Set<String>) -> Void) async {
        for await _ in signal {
            try? await Task.sleep(for: settle)
            let paths = pending.withLock { paths -> Set<String> in
                let taken = paths
                paths.removeAll()
                return taken
            }
            if !paths.isEmpty { onChange(paths) }
        }
    }
}
#endif
