import Foundation
import NIOCore
import SiteBuild
import Synchronization

/// The build being served, swapped whole after each rebuild; and the requests waiting for a build
/// that is whole (the first one, or one whose pages are still being rendered).
final class CurrentSite: Sendable {
    private struct State {
        var site: SiteFiles?
        /// The number of the build `site` is, counted by the caller.
        var build = 0
        /// The last site with no page pending.
        var whole: SiteFiles?
        /// Whether a build has ended, successful or not.
        var attempted = false
        var waiters: [CheckedContinuation<SiteFiles?, Never>] = []

        var isWhole: Bool { attempted && (site?.pending.isEmpty ?? true) }

        mutating func replace(_ value: SiteFiles, build: Int) {
            site = value
            self.build = build
            if value.pending.isEmpty { whole = value }
        }

        /// The waiters to resume, when the site is whole.
        mutating func takeWaitersIfWhole() -> [CheckedContinuation<SiteFiles?, Never>] {
            guard isWhole else { return [] }
            defer { waiters = [] }
            return waiters
        }
    }
    private let state = Mutex(State())

    var value: SiteFiles? { state.withLock { $0.site } }

    /// Serves `value`, build number `build` (the first build is 1).
    func replace(_ value: SiteFiles, build: Int = 1) {
        change { $0.replace(value, build: build) }
    }

    /// Serves `value`, the same build written to disk, unless a newer build is served already.
    func replace(written value: SiteFiles, build: Int) {
        change { if $0.build == build { $0.replace(value, build: build) } }
    }

    /// Serves the last whole site again, if pages are pending in the one served (their build failed).
    func restoreWhole() {
        change { state in
            if let whole = state.whole, state.site?.pending.isEmpty == false { state.replace(whole, build: state.build) }
        }
    }

    /// Marks the end of a build, successful or not.
    func attempted() {
        change { $0.attempted = true }
    }

    private func change(_ body: (inout State) -> Void) {
        let (waiters, site) = state.withLock { state in
            body(&state)
            return (state.takeWaitersIfWhole(), state.site)
        }
        for waiter in waiters { waiter.resume(returning: site) }
    }

    /// The site once it is whole: the first build has ended and no page is still being rendered.
    /// Nil if the first build failed.
    func whole() async -> SiteFiles? {
        await withCheckedContinuation { waiter in
            let site = state.withLock { state -> SiteFiles?? in
                if state.isWhole { return .some(state.site) }
                state.waiters.append(waiter)
                return .none
            }
            if let site { waiter.resume(returning: site) }
        }
    }
}

/// What is served, by build hash: pages with the live-reload client and the development policy
/// (and their gzip), and files the build holds in memory, each made into a buffer once rather than
/// on every request.
final class ServedBodies: Sendable {
    private struct Cache {
        var buffers: [String: ByteBuffer] = [:]
        var bytes = 0
    }
    private let cache = Mutex(Cache())
    /// Beyond this many bytes the cache starts over.
    private static let budget = 256 << 20

    private func cached(_ key: String, make: () -> ByteBuffer?) -> ByteBuffer? {
        if let buffer = cache.withLock({ $0.buffers[key] }) { return buffer }
        guard let buffer = make() else { return nil }
        cache.withLock { cache in
            if cache.bytes + buffer.readableBytes > Self.budget { cache = Cache() }
            cache.buffers[key] = buffer
            cache.bytes += buffer.readableBytes
        }
        return buffer
    }

    /// The page for `entry`, with the live-reload client; nil when it is not UTF-8.
    func page(_ entry: Manifest.Entry, in site: SiteFiles) -> ByteBuffer? {
        cached("page " + entry.sha256) {
            guard let bytes = site.bodies[entry.path], var html = String(validating: bytes, as: UTF8.self) else { return nil }
            DevResponder.relaxMetaPolicy(&html)
            let tag = "<script type=\"module\" src=\"\(DevResponder.clientPath)\"></script>"
            if let body = html.range(of: "</body>", options: .backwards) { html.insert(contentsOf: tag, at: body.lowerBound) } else { html += tag }
            return ByteBuffer(string: html)
        }
    }

    /// The page for `entry` gzipped as `site build` gzips (so as production sends it); nil when that
    /// is not smaller, or the page is unreadable.
    func gzippedPage(_ entry: Manifest.Entry, in site: SiteFiles) -> ByteBuffer? {
        guard let page = page(entry, in: site),
              let gzipped = cached("gzip page " + entry.sha256, make: { ByteBuffer(bytes: GzipCompressor().compress(Array(buffer: page))) })
        else { return nil }
        return gzipped.readableBytes < page.readableBytes ? gzipped : nil
    }

    /// The bytes of `entry`.
    func file(_ entry: Manifest.Entry, in site: SiteFiles) -> ByteBuffer? {
        guard let body = site.bodies[entry.path] else { return nil }
        return cached("file " + entry.sha256) { ByteBuffer(bytes: body) }
    }
}
