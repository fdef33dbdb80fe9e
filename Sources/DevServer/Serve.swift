import Foundation
import HTTPServing
import Hummingbird
import Logging
import SiteBuild
import Synchronization

/// How to run the dev server.
public struct ServeOptions: Sendable {
    public var projectRoot: String
    public var environment: String?
    public var host = "127.0.0.1"
    public var port = 8000
    public var output: String?
    public var pollInterval: Duration = .milliseconds(100)
    /// Poll for changes even where inotify is available.
    public var poll = false
    public var processEnvironment: [String: String] = [:]

    public init(projectRoot: String) { self.projectRoot = projectRoot }
}

/// One line per rebuild, and the URL once serving.
public struct ServeEvents: Sendable {
    public var ready: @Sendable (String) -> Void
    public var rebuilt: @Sendable (String) -> Void

    public init(ready: @escaping @Sendable (String) -> Void, rebuilt: @escaping @Sendable (String) -> Void) {
        self.ready = ready
        self.rebuilt = rebuilt
    }
}

public enum DevServer {
    /// Builds, serves `dist/`, watches `site/` and `assets/`, rebuilds on change and tells the
    /// browser; runs until cancelled or SIGINT/SIGTERM.
    public static func run(_ options: ServeOptions, events: ServeEvents) async throws {
        let output = options.output ?? options.projectRoot + "/dist"
        let buildOptions = BuildOptions(projectRoot: options.projectRoot, environment: options.environment, output: output,
                                        processEnvironment: options.processEnvironment, compress: true)
        let live = LiveReload()
        let files = CurrentSite()
        let session = BuildSession(buildOptions)
        let prefix = options.projectRoot.hasSuffix("/") ? options.projectRoot : options.projectRoot + "/"
        /// Rebuilds after `paths` changed (empty: the first build). The new build is served from
        /// memory and the browser told at once; then it is written to `dist/`, and served from
        /// there (with its `.gz` files). A change to stylesheets only swaps them in the open pages;
        /// anything else reloads them. When the change reaches nothing but stylesheets, the browser
        /// is told as soon as they are fingerprinted, before the pages linking them are rendered
        /// (a request for one of those meanwhile waits for it).
        let rebuild: @Sendable ([String]) -> Void = { paths in
            let reason = paths.isEmpty ? "start" : Watcher.describe(paths)
            let started = ContinuousClock.now
            defer { files.attempted() }
            let last = files.value
            do {
                let relative = paths.map { $0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : $0 }
                let staged = try session.stage(changed: paths.isEmpty ? nil : relative)
                var swapped: Duration?
                if let early = staged.early {
                    let site = SiteFiles(root: output, early: early)
                    files.replace(site)
                    live.send(.styles(site.stylesheets()))
                    swapped = ContinuousClock.now - started
                }
                let prepared: BuildSession.Prepared
                do {
                    prepared = try session.prepare(staged)
                } catch {
                    // The early build's pages will not come: serve the last whole build again.
                    if swapped != nil, let last { files.replace(last) }
                    throw error
                }
                let site = SiteFiles(root: output, prepared: prepared)
                files.replace(site)
                let stylesOnly = !paths.isEmpty && paths.allSatisfy { $0.hasSuffix(".css") }
                if swapped == nil { live.send(stylesOnly ? .styles(site.stylesheets()) : .reload) }
                let rendered = ContinuousClock.now
                let result = try session.write(prepared)
                files.replace(site.written(result.report.manifest))
                let pages = result.full ? "all \(result.report.pages) pages" : "\(result.rendered) of \(result.report.pages) pages"
                let styles = swapped.map { ", styles swapped after \(milliseconds($0)) ms" } ?? (stylesOnly ? ", styles swapped" : "")
                events.rebuilt("rebuilt (\(reason)) in \(milliseconds(rendered - started)) ms, \(pages)\(styles); "
                               + "written to dist/ in \(milliseconds(ContinuousClock.now - rendered)) ms")
            } catch {
                let diagnostics = (error as? BuildFailure)?.diagnostics.map(\.description) ?? ["\(error)"]
                let message = diagnostics.joined(separator: "\n")
                live.send(.failure(message))
                events.rebuilt("build failed (\(reason)) in \(milliseconds(ContinuousClock.now - started)) ms:\n\(message)")
            }
        }
        // Builds run one at a time on their own thread, never on the threads serving requests.
        let builder = DispatchQueue(label: "site.rebuild")
        let folders = ["site", "assets"].map { options.projectRoot + "/" + $0 }
        let logger = QuietLogHandler.logger(label: "dev-server")
        let responder = DevResponder(files: files, root: output, live: live)
        let date = DateHeader()
        let app = Application(
            responder: responder,
            // The build's files are answered on the event loop; the rest goes to the responder.
            server: .http1(configuration: .init(additionalChannelHandlers: [InMemoryAnswers(responder: responder, date: date)])),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? options.port
                let host = options.host.contains(":") ? "[\(options.host)]" : options.host
                events.ready("http://\(host):\(port)/")
            },
            logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            group.addTask {
                // The first build runs while the server starts (requests wait for it); watching
                // starts before it, so an edit made meanwhile is not missed.
                #if os(Linux)
                if !options.poll, let inotify = InotifyWatcher(folders: folders) {
                    builder.async { rebuild([]) }
                    await inotify.run(settle: .milliseconds(20)) { paths in
                        builder.async { rebuild(paths.sorted()) }
                    }
                    return
                }
                #endif
                let watcher = Watcher(folders: folders)
                builder.async { rebuild([]) }
                while !Task.isCancelled {
                    try await Task.sleep(for: options.pollInterval)
                    let changed = watcher.changes()
                    if !changed.isEmpty { builder.async { rebuild(changed) } }
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}

/// Notices changed, added and removed files under some folders by comparing their size and
/// modification time between scans: the fallback where inotify is missing (or with `--poll`), and
/// it sees editors that save by writing a new file and renaming it over the old one.
final class Watcher: Sendable {
    private let folders: [String]
    private let snapshot: Mutex<[String: [Int]]>

    init(folders: [String]) {
        self.folders = folders
        snapshot = Mutex(Self.scan(folders))
    }

    /// The files changed, added or removed since the last call.
    func changes() -> [String] {
        let now = Self.scan(folders)
        let before = snapshot.withLock { old -> [String: [Int]] in
            let previous = old
            old = now
            return previous
        }
        guard now != before else { return [] }
        return Set(now.keys).union(before.keys).filter { now[$0] != before[$0] }.sorted()
    }

    /// "help.md", "app.css, help.md and 3 more".
    static func describe(_ paths: [String]) -> String {
        let names = paths.prefix(3).map { ($0 as NSString).lastPathComponent }
        return names.joined(separator: ", ") + (paths.count > 3 ? " and \(paths.count - 3) more" : "")
    }

    static func scan(_ folders: [String]) -> [String: [Int]] {
        var result: [String: [Int]] = [:]
        let manager = FileManager.default
        for folder in folders {
            guard let walker = manager.enumerator(atPath: folder) else { continue }
            while let relative = walker.nextObject() as? String {
                let path = folder + "/" + relative
                var info = stat()
                guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
                result[path] = [Int(info.st_size), Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec), Int(info.st_ino)]
            }
        }
        return result
    }
}
