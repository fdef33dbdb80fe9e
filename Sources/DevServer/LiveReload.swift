import Foundation
import NIOCore
import Synchronization

/// What happened to the build, as the browser's live-reload client hears it.
public enum LiveEvent: Sendable, Equatable {
    /// Reload the page.
    case reload
    /// Only stylesheets changed: swap them in place.
    case styles([Stylesheet])
    /// The build failed: show the message (with file:line) over the page.
    case failure(String)

    var serverSentEvent: String {
        switch self {
        case .reload: return "event: reload\ndata: {}\n\n"
        case .styles(let sheets):
            let list = sheets.map { ["source": $0.source, "href": $0.href, "integrity": $0.integrity] }
            let json = (try? JSONSerialization.data(withJSONObject: ["stylesheets": list], options: [.withoutEscapingSlashes]))
                .map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            return "event: styles\ndata: \(json)\n\n"
        case .failure(let message):
            let json = (try? JSONSerialization.data(withJSONObject: ["message": message]))
                .map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            return "event: failure\ndata: \(json)\n\n"
        }
    }
}

/// Hands each event to every connected live-reload client; the last failure is replayed to a
/// client that connects while the build is broken.
public final class LiveReload: Sendable {
    private struct State {
        var clients: [Int: AsyncStream<LiveEvent>.Continuation] = [:]
        var next = 0
        var failure: String?
    }
    private let state = Mutex(State())

    public init() {}

    public func send(_ event: LiveEvent) {
        let clients = state.withLock { state -> [AsyncStream<LiveEvent>.Continuation] in
            if case .failure(let message) = event { state.failure = message } else { state.failure = nil }
            return Array(state.clients.values)
        }
        for client in clients { client.yield(event) }
    }

    public var clientCount: Int { state.withLock { $0.clients.count } }

    func subscribe() -> (Int, AsyncStream<LiveEvent>) {
        let (stream, continuation) = AsyncStream<LiveEvent>.makeStream(bufferingPolicy: .bufferingNewest(8))
        let id = state.withLock { state -> Int in
            state.next += 1
            state.clients[state.next] = continuation
            if let failure = state.failure { continuation.yield(.failure(failure)) }
            return state.next
        }
        return (id, stream)
    }

    /// Drops a client and ends its stream.
    func unsubscribe(_ id: Int) {
        state.withLock { $0.clients.removeValue(forKey: id) }?.finish()
    }
}

extension DevResponder {
    /// The live-reload client: reloads on `reload`, shows a build failure over the page (as text).
    static let client = """
        // SStech Video dev server: live reload (never part of `site build` output).
        const overlayId = "site-build-failure";
        function showFailure(message) {
          let overlay = document.getElementById(overlayId);
          if (!overlay) {
            overlay = document.createElement("pre");
            overlay.id = overlayId;
            overlay.setAttribute("role", "alert");
            overlay.style.cssText = "position:fixed;inset:0;margin:0;padding:2rem;z-index:2147483647;overflow:auto;" +
              "background:rgba(20,20,28,.94);color:#ffb4b4;font:14px/1.5 ui-monospace,monospace;white-space:pre-wrap";
            document.body.append(overlay);
          }
          overlay.textContent = "Build failed\\n\\n" + message;
        }
        // Closed when the page is hidden: a page kept in the back/forward cache with its stream open
        // would hold one of the browser's six connections to this server, and a few such pages stall
        // every later request until the cache lets them go.
        let source = null;
        let failed = false;
        // A stylesheet's URL is its source's with an 8-digit fingerprint: /assets/css/app.1a2b3c4d.css.
        const unfingerprinted = (path) => path.replace(/\\.[0-9a-f]{8}(\\.css)$/, "$1");
        function swapStyles(event) {
          if (failed) { location.reload(); return; }
          const sheets = JSON.parse(event.data).stylesheets;
          for (const link of document.querySelectorAll('link[rel="stylesheet"]')) {
            const current = unfingerprinted(new URL(link.href).pathname);
            const sheet = sheets.find((candidate) => "/" + candidate.source === current);
            if (!sheet || new URL(link.href).pathname === sheet.href) continue;
            const next = link.cloneNode();
            next.integrity = sheet.integrity;
            next.href = sheet.href;
            next.addEventListener("load", () => link.remove(), { once: true });
            link.after(next);
          }
        }
        function connect() {
          source = new EventSource("/_site/events");
          source.addEventListener("failure", (event) => { failed = true; showFailure(JSON.parse(event.data).message); });
          source.addEventListener("reload", () => { location.reload(); });
          source.addEventListener("styles", swapStyles);
        }
        addEventListener("pagehide", () => { source?.close(); source = null; });
        // Back from the cache: the page may be stale, so load it again rather than reconnect.
        addEventListener("pageshow", (event) => { if (event.persisted) location.reload(); });
        connect();
        """
}
