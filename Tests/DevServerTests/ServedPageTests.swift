import Foundation
import HTTPServing
import HTTPTypes
import NIOCore
import SiteBuild
import Testing
@testable import DevServer

/// A small project built in memory, served by a `DevResponder` without a network.
private final class Served: Sendable {
    let root: String
    let session: BuildSession
    let responder: DevResponder
    let files = CurrentSite()

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("served-\(UUID().uuidString)").path
        let page = (1...40).map { "Paragraph \($0) of a page long enough to be worth compressing." }.joined(separator: "\n\n")
        let sources = [
            "site/site.yml": "title: Served\n",
            "site/layouts/page.mustache": """
                <!doctype html><html><head><title>{{title}}</title><link rel="stylesheet" href="/assets/css/app.css"></head>
                <body>{{{content}}}</body></html>

                """,
            "site/layouts/bare.mustache": "<!doctype html><html><head><title>{{title}}</title></head><body>{{{content}}}</body></html>\n",
            "site/pages/index.md": "---\ntitle: Home\n---\n\(page)\n",
            "site/pages/plain.md": "---\ntitle: Plain\nlayout: bare\n---\nPlain.\n",
            "site/pages/404.md": "---\ntitle: Not found\n---\nNothing here.\n",
            "assets/css/app.css": "body { margin: 0; }\n",
        ]
        for (path, text) in sources { try Self.write(path, text, in: root) }
        session = BuildSession(BuildOptions(projectRoot: root, output: root + "/dist"))
        responder = DevResponder(files: files, root: root + "/dist", live: LiveReload())
        files.replace(SiteFiles(root: root + "/dist", prepared: try session.prepare()))
        files.attempted()
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func write(_ path: String, _ text: String) throws {
        try Self.write(path, text, in: root)
    }

    private static func write(_ path: String, _ text: String, in root: String) throws {
        let url = URL(fileURLWithPath: root + "/" + path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    /// The answer from memory to GET `path` with `fields`.
    func get(_ path: String, _ fields: HTTPFields = [:], site: SiteFiles? = nil) throws -> (status: Int, fields: HTTPFields, body: [UInt8]) {
        let request = HTTPRequest(method: .get, scheme: "http", authority: "127.0.0.1", path: path, headerFields: fields)
        guard case .answer(let status, let fields, let body) = responder.decide(request, site: site ?? files.value, waited: false) else {
            throw Failure("\(path) was not answered from memory")
        }
        return (status.code, fields, body.map { Array(buffer: $0) } ?? [])
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

@Suite("Pages as production serves them")
struct ServedPageTests {
    @Test("a page asked for with gzip comes compressed, decompresses to the plain answer, and has its own strong ETag")
    func gzippedPage() throws {
        let served = try Served()
        let plain = try served.get("/")
        let gzipped = try served.get("/", [.acceptEncoding: "gzip, deflate, br"])
        #expect(plain.status == 200 && plain.fields[.contentEncoding] == nil)
        #expect(gzipped.status == 200 && gzipped.fields[.contentEncoding] == "gzip")
        #expect(plain.fields[.vary] == "Accept-Encoding" && gzipped.fields[.vary] == "Accept-Encoding")
        #expect(gunzip(gzipped.body) == plain.body)
        #expect(gzipped.body.count < plain.body.count)
        #expect(String(decoding: plain.body, as: UTF8.self).contains(DevResponder.clientPath))
        let plainTag = try #require(plain.fields[.eTag]), gzipTag = try #require(gzipped.fields[.eTag])
        #expect(plainTag != gzipTag && !plainTag.hasPrefix("W/") && !gzipTag.hasPrefix("W/"))
        #expect(gzipped.fields[.contentLength] == String(gzipped.body.count))
        // Each ETag validates its own encoding only.
        #expect(try served.get("/", [.acceptEncoding: "gzip", .ifNoneMatch: gzipTag]).status == 304)
        #expect(try served.get("/", [.acceptEncoding: "gzip", .ifNoneMatch: plainTag]).status == 200)
        #expect(try served.get("/", [.ifNoneMatch: plainTag]).status == 304)
        #expect(try served.get("/", [.acceptEncoding: "gzip;q=0"]).fields[.contentEncoding] == nil)
        // The 404 page too, with its status.
        let missing = try served.get("/nowhere/", [.acceptEncoding: "gzip"])
        #expect(missing.status == 404 && gunzip(missing.body).map { String(decoding: $0, as: UTF8.self).contains("Nothing here.") } == true)
    }

    @Test("a page honours ranges: a suffix range returns its last bytes, a range past its end is refused")
    func pageRanges() throws {
        let served = try Served()
        let plain = try served.get("/").body
        let tail = try served.get("/", [.range: "bytes=-20", .acceptEncoding: "gzip"])
        #expect(tail.status == 206 && tail.body == Array(plain.suffix(20)))
        #expect(tail.fields[.contentEncoding] == nil)
        #expect(tail.fields[.contentRange] == "bytes \(plain.count - 20)-\(plain.count - 1)/\(plain.count)")
        let head = try served.get("/", [.range: "bytes=0-9"])
        #expect(head.status == 206 && head.body == Array(plain.prefix(10)))
        #expect(try served.get("/", [.range: "bytes=\(plain.count)-"]).status == 416)
        #expect(try served.get("/").fields[.acceptRanges] == "bytes")
    }

    @Test("after a stylesheet edit the new stylesheet is served at once; a page still being rendered waits for its build")
    func stylesheetFirst() async throws {
        let served = try Served()
        try served.write("assets/css/app.css", "body { margin: 1px; }\n")
        let staged = try served.session.stage(changed: ["assets/css/app.css"])
        let early = SiteFiles(root: served.root + "/dist", early: try #require(staged.early))
        served.files.replace(early)
        let sheet = try #require(early.stylesheets().first)
        let css = try served.get(sheet.href)
        #expect(css.status == 200 && String(decoding: css.body, as: UTF8.self).contains("1px"))
        // A page not linking it is there already; one linking it, and the 404 page, wait.
        #expect(try served.get("/plain/").status == 200)
        for path in ["/", "/nowhere/"] {
            let request = HTTPRequest(method: .get, scheme: "http", authority: "127.0.0.1", path: path, headerFields: [:])
            guard case .wait = served.responder.decide(request, site: early, waited: false) else {
                Issue.record("\(path) did not wait for its page")
                continue
            }
        }
        let waiting = Task { await served.files.whole() }
        try await Task.sleep(for: .milliseconds(50))
        served.files.replace(SiteFiles(root: served.root + "/dist", prepared: try served.session.prepare(staged)))
        let whole = try #require(await waiting.value)
        #expect(whole.pending.isEmpty)
        let page = try served.get("/", site: whole)
        #expect(String(decoding: page.body, as: UTF8.self).contains(sheet.href))
    }
}
