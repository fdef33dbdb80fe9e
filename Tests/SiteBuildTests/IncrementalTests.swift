import Foundation
import Testing
@testable import SiteBuild

/// A small seeded generator, so a failing sequence can be replayed.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The outcome of a build: the output's files, or the sorted diagnostics.
private enum Outcome: Equatable {
    case built([String: [UInt8]])
    case failed([String])

    var summary: String {
        switch self {
        case .built(let files): "built \(files.count) files"
        case .failed(let problems): "failed: \(problems.joined(separator: " | "))"
        }
    }

    /// How `self` differs from `other`, briefly: the files that differ, or both summaries.
    func difference(from other: Outcome) -> String? {
        guard self != other else { return nil }
        if case .built(let mine) = self, case .built(let theirs) = other {
            let paths = Set(mine.keys).union(theirs.keys).filter { mine[$0] != theirs[$0] }.sorted()
            return "files differ: \(paths.joined(separator: ", "))"
        }
        return "\(summary), but \(other.summary)"
    }
}

@Suite("Incremental rebuilds")
struct IncrementalTests {
    /// Runs `body` and says what it made: the files of `folder`, or the build's diagnostics.
    private func outcome(_ fixture: Fixture, folder: String, _ body: () throws -> Void) throws -> Outcome {
        do {
            try body()
            return .built(try fixture.snapshot(folder))
        } catch let failure as BuildFailure {
            return .failed(failure.diagnostics.map(\.description).sorted())
        } catch {
            return .failed(["\(error)"])
        }
    }

    /// A clean build of the fixture's current sources into a folder no build has used.
    private func cleanBuild(_ fixture: Fixture, step: Int) throws -> Outcome {
        let folder = "clean-\(step)"
        defer {
            try? FileManager.default.removeItem(atPath: fixture.root + "/" + folder)
            try? FileManager.default.removeItem(atPath: fixture.root + "/.\(folder).spare")
            try? FileManager.default.removeItem(atPath: fixture.root + "/.\(folder).lock")
        }
        return try outcome(fixture, folder: folder) { try fixture.build(output: fixture.root + "/" + folder) }
    }

    /// One random edit to the fixture; returns the paths a watcher would report.
    private func edit(_ fixture: Fixture, _ random: inout SplitMix64, step: Int, addedPages: inout [String],
                      broken: inout String?) throws -> [String] {
        let word = ["alpha", "beta", "gamma", "delta", "omega"].randomElement(using: &random)! + "\(step)"
        // Put back what the last step broke, half of the time together with another edit.
        if let path = broken, Bool.random(using: &random) {
            broken = nil
            try fixture.write(path, Fixture.standardFiles[path]!)
            return [path]
        }
        switch Int.random(in: 0..<15, using: &random) {
        case 0:
            let page = (["site/pages/help.md", "site/pages/index.en.md", "site/pages/posts/first.md"] + addedPages).randomElement(using: &random)!
            try fixture.write(page, try fixture.text(page) + "\nA line about \(word).\n")
            return [page]
        case 1:
            let page = "site/pages/notes/\(word).md"
            try fixture.write(page, "---\ntitle: \(word)\n---\nSee the [help](/help/) and ![logo](/assets/img/logo.png).\n")
            addedPages.append(page)
            return [page]
        case 2:
            guard !addedPages.isEmpty else { return [] }
            let page = addedPages.remove(at: Int.random(in: 0..<addedPages.count, using: &random))
            try fixture.remove(page)
            return [page]
        case 3:
            try fixture.write("site/partials/header.mustache",
                              Fixture.standardFiles["site/partials/header.mustache"]!.replacingOccurrences(of: "<header>", with: "<header class=\"\(word)\">"))
            return ["site/partials/header.mustache"]
        case 4:
            // A new partial, included by the login page's own text.
            try fixture.write("site/partials/extra.mustache", "<p>\(word) {{t.nav.home}}</p>\n")
            let login = Fixture.standardFiles["site/pages/login.html"]!
            try fixture.write("site/pages/login.html", login + "{{> extra}}\n")
            return ["site/partials/extra.mustache", "site/pages/login.html"]
        case 5:
            try fixture.write("site/layouts/page.mustache", try fixture.text("site/layouts/page.mustache") + "<!-- \(word) -->\n")
            return ["site/layouts/page.mustache"]
        case 6:
            try fixture.write("assets/css/base.css", "main { margin: \(step)px auto; }\n")
            return ["assets/css/base.css"]
        case 7:
            try fixture.write("assets/img/logo.png", "PNG-\(word)")
            return ["assets/img/logo.png"]
        case 8:
            try fixture.write("assets/js/util.js", "export const value = '\(word)';\n")
            return ["assets/js/util.js"]
        case 9:
            try fixture.write("site/i18n/en.json", #"{"nav": {"home": "Home \#(word)"}, "pages": {"login": "Sign in"}}"#)
            return ["site/i18n/en.json"]
        case 10:
            try fixture.write("site/site.yml", Fixture.siteYAML.replacingOccurrences(of: "Fixture Site", with: "Fixture \(word)"))
            return ["site/site.yml"]
        case 11:
            // Something that fails the build: a broken layout, a missing key, a link to nowhere.
            let path = ["site/layouts/page.mustache", "site/i18n/en.json", "site/pages/help.md"].randomElement(using: &random)!
            let text = Fixture.standardFiles[path]!
            let bad = path.hasSuffix(".mustache") ? text + "{{#open}}\n"
                : path.hasSuffix(".json") ? #"{"nav": {"home": "Home"}}"# : text + "[gone](/nowhere/)\n"
            try fixture.write(path, bad)
            broken = path
            return [path]
        case 12:
            // A folder renamed: the watcher reports the folders, not the files in them.
            let from = fixture.exists("site/pages/posts") ? "site/pages/posts" : "site/pages/articles"
            let to = from == "site/pages/posts" ? "site/pages/articles" : "site/pages/posts"
            try FileManager.default.moveItem(atPath: fixture.root + "/" + from, toPath: fixture.root + "/" + to)
            return [from, to]
        case 13:
            try fixture.write("assets/img/unused-\(word).png", word)
            return ["assets/img/unused-\(word).png"]
        default:
            // An editor's swap file, which no build reads.
            try fixture.write("site/pages/.help.md.swp", word)
            return ["site/pages/.help.md.swp"]
        }
    }

    @Test("random edit sequences leave dist/ equal to a clean build, byte for byte", arguments: [1, 2, 3] as [UInt64])
    func randomEdits(seed: UInt64) throws {
        let fixture = try Fixture()
        let session = BuildSession(BuildOptions(projectRoot: fixture.root, environment: "local", output: fixture.root + "/dist"))
        var random = SplitMix64(state: seed)
        var addedPages: [String] = []
        var broken: String?
        var last = try outcome(fixture, folder: "dist") { _ = try session.build() }
        #expect(last.difference(from: try cleanBuild(fixture, step: 0)) == nil)
        var incremental = 0
        for step in 1...40 {
            let changed = try edit(fixture, &random, step: step, addedPages: &addedPages, broken: &broken)
            if step % 13 == 0 {
                // Other builds of the same output in between (twice, so the spare holds one of
                // theirs): the session must notice the spare is no longer the build it remembers.
                for _ in 1...2 { _ = try? fixture.build(env: "production", output: fixture.root + "/dist") }
            }
            var rebuild: Rebuild?
            let result = try outcome(fixture, folder: "dist") { rebuild = try session.build(changed: changed) }
            let clean = try cleanBuild(fixture, step: step)
            if let difference = result.difference(from: clean) {
                Issue.record("seed \(seed) step \(step) \(changed): the incremental build against a clean one: \(difference)")
            }
            if case .built = clean {
                if rebuild?.full == false { incremental += 1 }
                last = result
            } else if step % 13 != 0, let difference = try outcome(fixture, folder: "dist", {}).difference(from: last) {
                // A failed build leaves the last good output in place.
                Issue.record("seed \(seed) step \(step): dist/ changed by a failed build: \(difference)")
            }
        }
        #expect(incremental >= 15, "only \(incremental) of 40 rebuilds were incremental")
    }

    @Test("a page edit renders only that page; a partial edit only the pages using it")
    func rendersOnlyWhatChanged() throws {
        var files = Fixture.standardFiles
        files["site/layouts/bare.mustache"] = "<!doctype html><html><head><title>{{title}}</title></head><body>{{{content}}}</body></html>\n"
        files["site/pages/plain.md"] = "---\ntitle: Plain\nlayout: bare\n---\nPlain.\n"
        let fixture = try Fixture(files)
        let session = BuildSession(BuildOptions(projectRoot: fixture.root, environment: "local"))
        let first = try session.build()
        #expect(first.full && first.rendered == first.report.pages)

        try fixture.write("site/pages/help.md", Fixture.standardFiles["site/pages/help.md"]! + "More.\n")
        let page = try session.build(changed: ["site/pages/help.md"])
        #expect(!page.full && page.rendered == 2)  // help in pt-BR, and its English fallback

        try fixture.write("site/partials/header.mustache", "<header>{{t.nav.home}}</header>\n")
        let partial = try session.build(changed: ["site/partials/header.mustache"])
        #expect(partial.rendered == first.report.pages - 2)  // all but plain.md, in two languages

        try fixture.write("assets/js/util.js", "export const value = 'w';\n")
        let module = try session.build(changed: ["assets/js/util.js"])
        #expect(module.rendered == 2)  // the login page, which carries the import map

        let nothing = try session.build(changed: ["site/pages/.help.md.swp"])
        #expect(nothing.rendered == 0 && !nothing.full)
        let config = try session.build(changed: ["site/site.yml"])
        #expect(config.full)
    }

    @Test("a stylesheet edit is staged early: the new stylesheets and the pages not linking them, the others still to render")
    func stylesheetsFirst() throws {
        var files = Fixture.standardFiles
        files["site/layouts/bare.mustache"] = "<!doctype html><html><head><title>{{title}}</title></head><body>{{{content}}}</body></html>\n"
        files["site/pages/plain.md"] = "---\ntitle: Plain\nlayout: bare\n---\nPlain.\n"
        let fixture = try Fixture(files)
        let session = BuildSession(BuildOptions(projectRoot: fixture.root, environment: "local", output: fixture.root + "/dist"))
        let first = try session.build()

        // base.css is imported by app.css, which the page layout links: both are renamed.
        try fixture.write("assets/css/base.css", "main { margin: 7px auto; }\n")
        let staged = try session.stage(changed: ["assets/css/base.css"])
        let early = try #require(staged.early)
        let base = try #require(early.files.first { $0.source == "assets/css/base.css" })
        let app = try #require(early.files.first { $0.source == "assets/css/app.css" })
        #expect(String(decoding: base.bytes, as: UTF8.self).contains("7px"))
        #expect(String(decoding: app.bytes, as: UTF8.self).contains(base.path.split(separator: "/").last!))
        #expect(early.pending.count == first.report.pages - 2)  // all but plain.md, in two languages
        #expect(early.files.contains { $0.path.hasPrefix("plain/") })
        #expect(!early.files.contains { early.pending.contains($0.path) })

        let prepared = try session.prepare(staged)
        #expect(prepared.rendered == early.pending.count)
        let pages = prepared.files.filter { early.pending.contains($0.path) }
        #expect(pages.count == early.pending.count)
        #expect(pages.allSatisfy { String(decoding: $0.bytes, as: UTF8.self).contains("/" + app.path) })
        _ = try session.write(prepared)
        let clean = try cleanBuild(fixture, step: 1)
        #expect(try outcome(fixture, folder: "dist", {}).difference(from: clean) == nil)

        // Nothing else is staged early: a page, an image that a stylesheet uses, a module.
        for (path, text) in [("site/pages/help.md", "---\ntitle: Help\n---\nOther help.\n"),
                             ("assets/img/logo.png", "PNG-BYTES-3"), ("assets/js/util.js", "export const value = 'x';\n")] {
            try fixture.write(path, text)
            let staged = try session.stage(changed: [path])
            #expect(staged.early == nil, "\(path)")
            _ = try session.write(try session.prepare(staged))
        }
    }

    @Test("a staged build whose session moved on is read again before it is rendered")
    func staleStage() throws {
        let fixture = try Fixture()
        let session = BuildSession(BuildOptions(projectRoot: fixture.root, environment: "local", output: fixture.root + "/dist"))
        _ = try session.build()
        try fixture.write("assets/css/base.css", "main { margin: 8px auto; }\n")
        let stale = try session.stage(changed: ["assets/css/base.css"])
        try fixture.write("site/pages/help.md", Fixture.standardFiles["site/pages/help.md"]! + "Later.\n")
        _ = try session.build(changed: ["site/pages/help.md"])
        _ = try session.write(try session.prepare(stale))
        #expect(try outcome(fixture, folder: "dist", {}).difference(from: try cleanBuild(fixture, step: 1)) == nil)
    }

    @Test("a cancelled rendering keeps its changes: the next build takes them with its own")
    func cancelled() throws {
        let fixture = try Fixture()
        let session = BuildSession(BuildOptions(projectRoot: fixture.root, environment: "local", output: fixture.root + "/dist"))
        _ = try session.build()
        try fixture.write("assets/css/base.css", "main { margin: 9px auto; }\n")
        let staged = try session.stage(changed: ["assets/css/base.css"])
        #expect(throws: BuildCancelled.self) { try session.prepare(staged, isCancelled: { true }) }
        try fixture.write("site/pages/help.md", Fixture.standardFiles["site/pages/help.md"]! + "Later.\n")
        let next = try session.stage(changed: ["site/pages/help.md"])
        #expect(next.changed == ["assets/css/base.css", "site/pages/help.md"] && next.early == nil)
        _ = try session.write(try session.prepare(next))
        #expect(try outcome(fixture, folder: "dist", {}).difference(from: try cleanBuild(fixture, step: 1)) == nil)
    }
}
