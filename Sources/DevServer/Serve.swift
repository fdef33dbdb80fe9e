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
    /// The `Host` names answered besides loopback ones and IP addresses; others get 403, so a page
    /// on another site cannot reach the server through DNS rebinding (`AllowedHosts`).
    public var allowedHosts: [String] = []
    /// Where `/api`, `/api/…` and `/media/…` go, as production's CloudFront distribution sends them
    /// to the video API and the media: the local cloud. Nil serves those paths from dist/ like any
    /// other (so 404).
    public var upstream: Upstream?

    public init(projectRoot: String) { self.projectRoot = projectRoot }
}

/// The local cloud behind `/api` and `/media/`.
public enum Upstream: Sendable {
    /// A cloud in another process (`site cloud`), at this origin: requests go through `Proxy`.
    case origin(String)
    /// The cloud in this process (`site serve`'s own): each request is handed to it as it is, with
    /// its streaming body, and its answer streamed back; no socket in between.
    case inProcess(@Sendable (Request) async -> Response)
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
        let rebuilder = Rebuilder(session: session, files: files, live: live, events: events, output: output,
                                  projectRoot: options.projectRoot)
        let folders = ["site", "assets"].map { options.projectRoot + "/" + $0 }
        var proxy: Proxy?
        var local: (@Sendable (Request) async -> Response)?
        switch options.upstream {
        case .origin(let origin)?: proxy = Proxy(origin: origin)
        case .inProcess(let respond)?: local = respond
        case nil: break
        }
        let responder = DevResponder(files: files, root: output, live: live, hosts: AllowedHosts(options.allowedHosts), proxy: proxy,
                                     local: local)
        let app = application(responder, host: options.host, port: options.port) { port in
            let host = options.host.contains(":") ? "[\(options.host)]" : options.host
            events.ready("http://\(host):\(port)/")
        }
        do {
            try await serve(app, options: options, folders: folders, rebuilder: rebuilder)
        } catch {
            await proxy?.shutdown()
            throw error
        }
        await proxy?.shutdown()
    }

    /// The server for `responder` on `host:port`; `ready` gets the port once it listens.
    static func application(_ responder: DevResponder, host: String, port: Int,
                            ready: @escaping @Sendable (Int) -> Void) -> Application<DevResponder> {
        let date = DateHeader()
        return Application(
            responder: responder,
            // The build's files are answered on the event loop; the rest goes to the responder.
            server: .http1(configuration: .init(additionalChannelHandlers: [InMemoryAnswers(responder: responder, date: date)])),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in ready(channel.localAddress?.port ?? port) },
            logger: QuietLogHandler.logger(label: "dev-server"))
    }

    private static func serve(_ app: Application<DevResponder>, options: ServeOptions, folders: [String], rebuilder: Rebuilder) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            group.addTask {
                // The first build runs while the server starts (requests wait for it); watching
                // starts before it, so an edit made meanwhile is not missed.
                #if os(Linux)
                if !options.poll, let inotify = InotifyWatcher(folders: folders) {
                    rebuilder.schedule([])
                    await inotify.run(settle: .milliseconds(20)) { paths in
                        rebuilder.schedule(paths.sorted())
                    }
                    return
                }
                #endif
                let watcher = Watcher(folders: folders)
                rebuilder.schedule([])
                while !Task.isCancelled {
                    try await Task.sleep(for: options.pollInterval)
                    let changed = watcher.changes()
                    if !changed.isEmpty { rebuilder.schedule(changed) }
                }
            }
            try await group.next()
            group.cancelAll()
        }
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
