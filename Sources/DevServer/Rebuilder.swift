import Foundation
import SiteBuild
import Synchronization

/// Runs the dev server's builds: one at a time on a thread of their own (never the threads serving
/// requests), each served from memory and announced as soon as the browser can take it, then
/// written to `dist/` on another thread while the next change is already being built.
///
/// - A change that reaches nothing but stylesheets is announced as soon as they are fingerprinted,
///   before the pages linking them are rendered (a request for one of those waits for it).
/// - A change that comes while pages are being rendered cancels that rendering: the next build
///   takes both changes, so the browser hears of the newest soonest.
/// - Only the newest rendered build is written; one superseded while waiting to be written is not.
final class Rebuilder: Sendable {
    private let session: BuildSession
    private let files: CurrentSite
    private let live: LiveReload
    private let events: ServeEvents
    private let output: String
    private let prefix: String
    private let builder = DispatchQueue(label: "site.rebuild")
    private let writer = DispatchQueue(label: "site.write")
    /// Changes handed to the builder and not yet taken up.
    private let queued = Atomic<Int>(0)
    /// The number of the last build started; the first is 1.
    private let started = Atomic<Int>(0)
    /// The newest rendered build not yet written.
    private let toWrite = Mutex<Rendered?>(nil)

    private struct Rendered: Sendable {
        let build: Int
        let reason: String
        let prepared: BuildSession.Prepared
        let site: SiteFiles
        /// The rebuild line, up to what the write adds.
        let line: String
    }

    init(session: BuildSession, files: CurrentSite, live: LiveReload, events: ServeEvents, output: String, projectRoot: String) {
        self.session = session
        self.files = files
        self.live = live
        self.events = events
        self.output = output
        prefix = projectRoot.hasSuffix("/") ? projectRoot : projectRoot + "/"
    }

    /// Builds after `paths` changed (absolute paths; empty for the first build), after the builds
    /// already asked for.
    func schedule(_ paths: [String]) {
        queued.add(1, ordering: .relaxed)
        builder.async { [self] in
            queued.subtract(1, ordering: .relaxed)
            rebuild(paths)
        }
    }

    private func rebuild(_ paths: [String]) {
        var reason = paths.isEmpty ? "start" : Watcher.describe(paths)
        let build = started.add(1, ordering: .relaxed).newValue
        let start = ContinuousClock.now
        defer { files.attempted() }
        do {
            let relative = paths.map { $0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : $0 }
            let staged = try session.stage(changed: paths.isEmpty ? nil : relative)
            if staged.changed.count > Set(relative).count { reason = Watcher.describe(staged.changed.sorted()) }
            var swapped: Duration?
            if let early = staged.early {
                let site = SiteFiles(root: output, early: early)
                files.replace(site, build: build)
                live.send(.styles(site.stylesheets()))
                swapped = ContinuousClock.now - start
            }
            let prepared = try session.prepare(staged) { [self] in queued.load(ordering: .relaxed) > 0 }
            let site = SiteFiles(root: output, prepared: prepared)
            files.replace(site, build: build)
            // Earlier changes that were not built (cancelled, or failed) are in this build too.
            let stylesOnly = !staged.changed.isEmpty && staged.changed.allSatisfy { $0.hasSuffix(".css") }
            if swapped == nil { live.send(stylesOnly ? .styles(site.stylesheets()) : .reload) }
            let pages = prepared.full ? "all \(prepared.pages) pages" : "\(prepared.rendered) of \(prepared.pages) pages"
            let styles = swapped.map { ", styles swapped after \(Self.milliseconds($0)) ms" } ?? (stylesOnly ? ", styles swapped" : "")
            let line = "rebuilt (\(reason)) in \(Self.milliseconds(ContinuousClock.now - start)) ms, \(pages)\(styles)"
            let superseded = toWrite.withLock { slot -> Rendered? in
                defer { slot = Rendered(build: build, reason: reason, prepared: prepared, site: site, line: line) }
                return slot
            }
            if let superseded { events.rebuilt(superseded.line + "; not written, a newer build was ready first") }
            writer.async { [self] in writeNewest() }
        } catch is BuildCancelled {
            // The newer change is next in line and takes this one's with it; the early build (if
            // any) stays served meanwhile.
            events.rebuilt("cancelled (\(reason)) after \(Self.milliseconds(ContinuousClock.now - start)) ms: newer changes came in")
        } catch {
            // Pages that were waiting for this build will not come.
            files.restoreWhole()
            fail(error, reason: reason, after: ContinuousClock.now - start)
        }
    }

    /// Writes the newest rendered build to `dist/`, then serves it from there (with its `.gz`
    /// files) unless a newer build is served by then.
    private func writeNewest() {
        guard let rendered = toWrite.withLock({ slot -> Rendered? in
            defer { slot = nil }
            return slot
        }) else { return }
        let start = ContinuousClock.now
        do {
            let result = try session.write(rendered.prepared)
            files.replace(written: rendered.site.written(result.report.manifest), build: rendered.build)
            events.rebuilt(rendered.line + "; written to dist/ in \(Self.milliseconds(ContinuousClock.now - start)) ms")
        } catch {
            fail(error, reason: rendered.reason, after: ContinuousClock.now - start)
        }
    }

    /// Shows the failure over the page and in the terminal.
    private func fail(_ error: any Error, reason: String, after duration: Duration) {
        let diagnostics = (error as? BuildFailure)?.diagnostics.map(\.description) ?? ["\(error)"]
        let message = diagnostics.joined(separator: "\n")
        live.send(.failure(message))
        events.rebuilt("build failed (\(reason)) in \(Self.milliseconds(duration)) ms:\n\(message)")
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}
