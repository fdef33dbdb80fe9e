import Foundation
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

    @Test func stagingReplacesTheDestinationOnlyOnCommit() throws {
        let fixture = try Fixture([:])
        let destination = fixture.root + "/dist"
        try fixture.write("dist/old.txt", "old")
        let output = try OutputFolder(destination: destination)
        try output.write(Array("new".utf8), to: "a/b/new.txt")
        #expect(try fixture.text("dist/old.txt") == "old", "nothing changes before commit")
        try output.commit()
        #expect(try fixture.text("dist/a/b/new.txt") == "new")
        #expect(!fixture.exists("dist/old.txt"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.root) == ["dist"])
    }

    @Test func discardLeavesTheDestinationAlone() throws {
        let fixture = try Fixture([:])
        try fixture.write("dist/old.txt", "old")
        let output = try OutputFolder(destination: fixture.root + "/dist")
        try output.write(Array("new".utf8), to: "new.txt")
        output.discard()
        #expect(try fixture.snapshot() == ["old.txt": Array("old".utf8)])
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.root) == ["dist"])
    }

    @Test func stagingLeftByAKilledBuildIsRemoved() throws {
        let fixture = try Fixture([:])
        // PID 2^22+1 exceeds Linux's pid_max, so no process can have it.
        try fixture.write(".dist.staging-4194305/index.html", "half-written")
        let output = try OutputFolder(destination: fixture.root + "/dist")
        #expect(!fixture.exists(".dist.staging-4194305"))
        output.discard()
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
    func inode(_ fixture: Fixture, _ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: fixture.root + "/" + path)[.systemFileNumber] as? Int)
    }

    @Test func unchangedFilesAreCarriedOverNotRewritten() throws {
        let fixture = try Fixture()
        try fixture.build()
        let paths = try fixture.snapshot().keys.filter { !$0.hasPrefix(".site/") }
        let before = try Dictionary(uniqueKeysWithValues: paths.map { ($0, try inode(fixture, "dist/" + $0)) })
        try fixture.write("site/pages/help.md", "---\ntitle: Ajuda\n---\nNovo texto.\n")
        try fixture.build()
        for path in paths {
            let changed = path.hasPrefix("help/") || path.hasPrefix("en/help/")
            #expect((try inode(fixture, "dist/" + path) == before[path]) != changed, "\(path)")
        }
        #expect(try fixture.text("dist/help/index.html").contains("Novo texto."))
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
