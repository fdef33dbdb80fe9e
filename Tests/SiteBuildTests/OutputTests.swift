import Foundation
import Glibc
import Testing
@testable import SiteBuild

@Suite struct OutputTests {
    @Test func gzipIsDeterministicAndRoundTrips() {
        let input = Array(String(repeating: "<p>hello, compressible world</p>\n", count: 200).utf8)
        let compressor = GzipCompressor()
        let first = compressor.compress(input)
        let second = GzipCompressor().compress(input)
        #expect(first == second)
        #expect(first.count < input.count / 10)
        #expect(Array(first[0..<4]) == [0x1f, 0x8b, 8, 0], "gzip magic, deflate, no name")
        #expect(Array(first[4..<8]) == [0, 0, 0, 0], "no modification time")
        #expect(gunzip(first) == input)
        #expect(gunzip(compressor.compress([])) == [])
    }

    /// A project folder with an earlier build holding `old.txt`, and an output folder over it.
    func earlierBuild() throws -> (Fixture, OutputFolder) {
        let fixture = try Fixture([:])
        try fixture.write("dist/old.txt", "old")
        try fixture.write("dist/.site/manifest.json", "{}")
        return (fixture, try OutputFolder(destination: fixture.root + "/dist", project: "/nonexistent-project"))
    }

    @Test func theSpareReplacesTheDestinationOnlyOnCommit() throws {
        let (fixture, output) = try earlierBuild()
        try output.write(Array("new".utf8), to: "a/b/new.txt")
        #expect(try fixture.text("dist/old.txt") == "old", "nothing changes before commit")
        try output.commit()
        #expect(try fixture.snapshot() == ["a/b/new.txt": Array("new".utf8)])
        #expect(try fixture.text(".dist.spare/old.txt") == "old", "the old output is kept as the next spare")
    }

    @Test func aFailedBuildLeavesTheDestinationAlone() throws {
        let (fixture, output) = try earlierBuild()
        try output.write(Array("new".utf8), to: "new.txt")
        // A failed build never commits.
        #expect(try fixture.snapshot() == ["old.txt": Array("old".utf8), ".site/manifest.json": Array("{}".utf8)])
    }

    @Test func whatAKilledBuildLeftInTheSpareIsRepairedOrRemoved() throws {
        let fixture = try Fixture()
        try fixture.build()
        try fixture.build()
        let clean = try fixture.snapshot()
        // A build killed half-way: it marked the spare as being changed, then overwrote, added and
        // turned files into folders.
        try fixture.write(".dist.spare/.site/incomplete", "")
        try fixture.write(".dist.spare/index.html", "half-written")
        try fixture.write(".dist.spare/help/index.html.gz", "not gzip")
        try fixture.write(".dist.spare/stray/file.html", "stray")
        try fixture.remove(".dist.spare/404.html")
        try fixture.write(".dist.spare/404.html/oops", "a folder where a file goes")
        try fixture.build()
        #expect(try fixture.snapshot() == clean)
    }

    @Test func contentTypesAndCompressibility() {
        #expect(ContentType.of("a/b/index.html") == "text/html; charset=utf-8")
        #expect(ContentType.of("app.3f2a9c1e.JS") == "text/javascript; charset=utf-8")
        #expect(ContentType.of("LICENSE") == "application/octet-stream")
        #expect(ContentType.isCompressible("x.svg") && !ContentType.isCompressible("x.png"))
    }

    @Test func policyOmitsFrameAncestorsFromTheMetaForm() {
        let policy = SecurityPolicy(environment: nil)
        let meta = policy.contentSecurityPolicy(scriptHashes: ["'sha256-b'", "'sha256-a'"], styleHashes: [], forHeader: false)
        #expect(meta.contains("script-src 'self' 'sha256-a' 'sha256-b';"))
        #expect(!meta.contains("frame-ancestors"))
        #expect(policy.contentSecurityPolicy(scriptHashes: [], styleHashes: [], forHeader: true).contains("frame-ancestors 'none'"))
    }

    @Test func configJSONCannotCloseItsScriptElement() {
        struct Value: Encodable { let text: String }
        let json = AppConfig.scriptSafeJSON(Value(text: "</script><script>alert(1)</script>&\u{2028}"))
        #expect(!json.contains("<") && !json.contains(">") && !json.contains("&"))
        #expect(json == #"{"text":"\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e\u0026\u2028"}"#)
    }
}

@Suite struct OutputReuseTests {
    /// Inode and modification time: both stay the same only for a file that was not written.
    func identity(_ fixture: Fixture, _ path: String) throws -> String {
        var info = stat()
        #expect(lstat(fixture.root + "/" + path, &info) == 0)
        return "\(info.st_ino)/\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    }

    @Test func aRebuildWritesOnlyWhatChanged() throws {
        let fixture = try Fixture()
        try fixture.build()
        try fixture.build()
        // The spare now holds the build before last, which the next build updates in place.
        let paths = try fixture.snapshot(".dist.spare").keys.filter { !$0.hasPrefix(".site/") }
        let before = try Dictionary(uniqueKeysWithValues: paths.map { ($0, try identity(fixture, ".dist.spare/" + $0)) })
        usleep(20_000)
        try fixture.write("site/pages/help.md", "---\ntitle: Ajuda\n---\nNovo texto.\n")
        try fixture.build()
        for path in paths {
            let changed = path.hasPrefix("help/") || path.hasPrefix("en/help/")
            #expect((try identity(fixture, "dist/" + path) == before[path]) != changed, "\(path)")
        }
        #expect(try fixture.text("dist/help/index.html").contains("Novo texto."))
    }

    @Test func aRemovedPageIsRemovedWithItsFolders() throws {
        let fixture = try Fixture()
        for _ in 0..<3 { try fixture.build() }
        try fixture.remove("site/pages/posts/first.md")
        try fixture.build()
        #expect(!fixture.exists("dist/posts") && !fixture.exists("dist/en/posts"))
        try fixture.build()
        #expect(!fixture.exists("dist/posts") && !fixture.exists(".dist.spare/posts"))
        #expect(!fixture.exists("dist/.site/incomplete") && !fixture.exists(".dist.spare/.site/incomplete"))
    }

    @Test func aHandEditedOutputIsRewrittenNotCarriedOver() throws {
        let fixture = try Fixture()
        try fixture.build()
        let clean = try fixture.snapshot()
        var page = try fixture.bytes("dist/index.html")
        page[page.count - 2] = UInt8(ascii: "X")
        try Data(page).write(to: URL(fileURLWithPath: fixture.root + "/dist/index.html"))
        try Data("not gzip".utf8).write(to: URL(fileURLWithPath: fixture.root + "/dist/help/index.html.gz"))
        try fixture.build()
        #expect(try fixture.snapshot() == clean)
    }
}

@Suite struct OutputSafetyTests {
    @Test(arguments: [".", "..", "site", "site/pages/out", "assets"])
    func refusesToReplaceTheProjectOrItsSources(out: String) throws {
        let fixture = try Fixture()
        let before = try fixture.snapshot("")
        #expect(throws: Diagnostic.self) { try fixture.build(output: fixture.root + "/" + out) }
        #expect(try fixture.snapshot("") == before)
    }

    @Test func refusesAFolderThatIsNotAnEarlierBuild() throws {
        let fixture = try Fixture()
        try fixture.write("photos/holiday.jpg", "precious")
        do {
            try fixture.build(output: fixture.root + "/photos")
            Issue.record("replaced a folder of other files")
        } catch {
            #expect("\(error)".hasSuffix("photos: it has files but no .site/manifest.json, so it is not an earlier build and would be replaced; choose another --out"))
        }
        #expect(try fixture.text("photos/holiday.jpg") == "precious")
        try fixture.build(output: fixture.root + "/empty-or-new")
        try fixture.build(output: fixture.root + "/empty-or-new")
    }
}

@Suite struct ManifestEncodingTests {
    /// What the hand-written encoder must match.
    private func reference(_ manifest: Manifest) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(manifest)) + [UInt8(ascii: "\n")]
    }

    @Test("the manifest's JSON is byte for byte JSONEncoder's, odd names and absent fields included")
    func sameAsJSONEncoder() throws {
        var odd = ""
        for scalar in 0..<0x80 { odd.unicodeScalars.append(Unicode.Scalar(UInt8(scalar))) }
        odd += "é\u{2028}\u{2029}😀\u{85}"
        let entries = [
            Manifest.Entry(path: "a/b/index.html", size: 10, sha256: "ab", contentType: "text/html; charset=utf-8",
                           cache: .revalidate, source: "site/pages/b.md", gzip: .init(path: "a/b/index.html.gz", size: 8, sha256: "cd")),
            Manifest.Entry(path: "assets/\(odd).png", size: 0, sha256: "ef", contentType: "image/png", cache: .immutable, source: nil, gzip: nil),
            Manifest.Entry(path: "x\"y\\z/", size: Int.max, sha256: "", contentType: "", cache: .immutable, source: odd, gzip: nil),
        ]
        let manifests = [
            Manifest(generator: "site 0.1.0", environment: "local", compression: "zlib-6", files: entries),
            Manifest(generator: odd, environment: nil, compression: nil, files: entries),
            Manifest(generator: "g", environment: nil, compression: nil, files: []),
            Manifest(generator: "g", environment: "production", compression: "zlib-6", files: [entries[0]]),
        ]
        for manifest in manifests {
            let ours = try manifest.encoded()
            #expect(ours == (try reference(manifest)))
            #expect(try Manifest.decode(ours) == manifest)
        }
    }
}
