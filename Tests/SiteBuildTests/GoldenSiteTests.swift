import Crypto
import Foundation
import Testing
@testable import SiteBuild

@Suite struct GoldenSiteTests {
    let fixture: Fixture
    let report: BuildReport

    init() throws {
        fixture = try Fixture()
        report = try fixture.build()
    }

    func sri(_ bytes: [UInt8]) -> String { "sha384-" + Data(SHA384.hash(data: bytes)).base64EncodedString() }
    func hex(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }

    /// The published name of an asset, found in the manifest.
    func published(_ source: String) throws -> String {
        try #require(report.manifest.files.first { $0.source == source }).path
    }

    @Test func pagesArePublishedAtTheirURLsInEveryLanguage() throws {
        for path in ["index.html", "en/index.html", "help/index.html", "en/help/index.html", "login/index.html",
                     "en/login/index.html", "posts/first/index.html", "en/posts/first/index.html", "404.html", "en/404.html"] {
            #expect(fixture.exists("dist/" + path), "missing \(path)")
        }
        #expect(report.pages == 10)
        #expect(try fixture.text("dist/en/index.html").contains("<h1>Welcome</h1>"))
        #expect(try fixture.text("dist/index.html").contains("<h1>Bem-vindo</h1>"))
        // help has no English source: the default language stands in, with English strings around it.
        let englishHelp = try fixture.text("dist/en/help/index.html")
        #expect(englishHelp.contains("<h2>Ajuda</h2>") && englishHelp.contains(">Home</a>") && englishHelp.contains("lang=\"en\""))
    }

    @Test func htmlBodiesAndTitlesUseTranslatedStrings() throws {
        #expect(try fixture.text("dist/login/index.html").contains("<title>Entrar · Fixture Site</title>"))
        #expect(try fixture.text("dist/en/login/index.html").contains("<h1>Sign in</h1>"))
    }

    @Test func rawHTMLInMarkdownIsOmittedByDefault() throws {
        let help = try fixture.text("dist/help/index.html")
        #expect(!help.contains("<b>html</b>"))
        #expect(help.contains("raw HTML omitted"))
    }

    @Test func assetsAreFingerprintedWithTheirContentHash() throws {
        for source in ["assets/img/logo.png", "assets/js/util.js", "assets/css/app.css", "assets/css/base.css"] {
            let path = try published(source)
            let bytes = try fixture.bytes("dist/" + path)
            #expect(path.contains("." + String(hex(bytes).prefix(8)) + "."), "\(path) is not named by its hash")
            #expect(!fixture.exists("dist/" + source.dropFirst("assets/".count)))
        }
    }

    @Test func everyReferenceIsRewrittenWithIntegrity() throws {
        let html = try fixture.text("dist/login/index.html")
        let css = try published("assets/css/app.css")
        let cssBytes = try fixture.bytes("dist/" + css)
        #expect(html.contains("<link rel=\"stylesheet\" href=\"/\(css)\" integrity=\"\(sri(cssBytes))\">"))
        let logo = try published("assets/img/logo.png")
        let logo2x = try published("assets/img/logo@2x.png")
        #expect(html.contains("src=\"/\(logo)\""))
        #expect(html.contains("srcset=\"/\(logo) 1x, /\(logo2x) 2x\""))
        #expect(html.contains("poster=\"/\(logo)\""))
        let login = try published("assets/js/pages/login.js")
        #expect(html.contains("<script type=\"module\" src=\"/\(login)\" integrity=\"\(sri(try fixture.bytes("dist/" + login)))\"></script>"))
        #expect(!html.contains("\"/assets/img/logo.png\""))
        // Markdown output is rewritten too.
        #expect(try fixture.text("dist/posts/first/index.html").contains("src=\"/\(logo)\""))
    }

    @Test func stylesheetReferencesAreRewrittenKeepingTheirForm() throws {
        let css = try fixture.text("dist/" + published("assets/css/app.css"))
        let base = try published("assets/css/base.css")
        let logo = try published("assets/img/logo.png")
        #expect(css.contains("@import \"\(base.split(separator: "/").last!)\";"))
        #expect(css.contains("url('../img/\(logo.split(separator: "/").last!)')"))
        #expect(try fixture.text("dist/" + base).contains("url(not-a-reference.png)"), "comments are left alone")
    }

    @Test func modulesArePublishedUnchangedAndMappedByTheImportMap() throws {
        let source = try fixture.text("assets/js/pages/login.js")
        let login = try published("assets/js/pages/login.js")
        #expect(try fixture.text("dist/" + login) == source)
        let html = try fixture.text("dist/login/index.html")
        let start = try #require(html.range(of: "<script type=\"importmap\">"))
        let end = try #require(html[start.upperBound...].range(of: "</script>"))
        let json = String(html[start.upperBound..<end.lowerBound])
        let map = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: [String: String]])
        let modules = ["assets/js/pages/login.js", "assets/js/pages/helper.js", "assets/js/auth/session.js", "assets/js/auth/lazy.js", "assets/js/util.js"]
        #expect(map["imports"]?.count == modules.count)
        for module in modules {
            let output = try published(module)
            #expect(map["imports"]?["/" + module] == "/" + output)
            #expect(map["integrity"]?["/" + output] == sri(try fixture.bytes("dist/" + output)))
        }
        // The import map is an inline script: the policy allows exactly its hash.
        let hash = "'sha256-" + Data(SHA256.hash(data: Array(json.utf8))).base64EncodedString() + "'"
        #expect(html.contains("script-src 'self' \(hash);"))
        // Pages without modules carry no import map and no hash.
        let help = try fixture.text("dist/help/index.html")
        #expect(!help.contains("importmap") && help.contains("script-src 'self';"))
    }

    @Test func configIsInjectedAsDataOnlyWhereModulesRun() throws {
        let html = try fixture.text("dist/login/index.html")
        let start = try #require(html.range(of: "<script type=\"application/json\" id=\"site-config\">"))
        let end = try #require(html[start.upperBound...].range(of: "</script>"))
        let config = try #require(try JSONSerialization.jsonObject(with: Data(html[start.upperBound..<end.lowerBound].utf8)) as? [String: Any])
        #expect(config["environment"] as? String == "local")
        let cognito = try #require(config["cognito"] as? [String: String])
        #expect(cognito == ["region": "us-east-1", "userPoolId": "us-east-1_LocalPool", "clientId": "localclient", "endpoint": "http://127.0.0.1:9400"])
        #expect((config["api"] as? [String: String])?["baseUrl"] == "/api")
        #expect(config["media"] == nil, "media are plain paths on the site's origin")
    }

    @Test func scriptStringsReachModulePagesInTheirLanguageAsSafeJSON() throws {
        let fixture = try Fixture()
        try fixture.write("site/i18n/pt-BR.json", #"{"nav": {"home": "Início"}, "pages": {"login": "Entrar"}, "script": {"errors": {"x": "Erro </script> & <b>"}}}"#)
        try fixture.write("site/i18n/en.json", #"{"nav": {"home": "Home"}, "pages": {"login": "Sign in"}, "script": {"errors": {"x": "Error"}}}"#)
        try fixture.build()
        func strings(_ path: String) throws -> [String: String] {
            let html = try fixture.text(path)
            let start = try #require(html.range(of: "<script type=\"application/json\" id=\"site-strings\">"))
            let end = try #require(html[start.upperBound...].range(of: "</script>"))
            #expect(!html[start.upperBound..<end.lowerBound].contains("<"), "the JSON cannot end its element")
            return try #require(try JSONSerialization.jsonObject(with: Data(html[start.upperBound..<end.lowerBound].utf8)) as? [String: String])
        }
        #expect(try strings("dist/login/index.html") == ["errors.x": "Erro </script> & <b>"])
        #expect(try strings("dist/en/login/index.html") == ["errors.x": "Error"])
        #expect(!(try fixture.text("dist/help/index.html")).contains("site-strings"), "pages without modules get none")
    }

    @Test func contentSecurityPolicyIsStrictAndNamesExactlyTheAppOrigins() throws {
        let html = try fixture.text("dist/help/index.html")
        let policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self' blob:; connect-src 'self' http://127.0.0.1:9400; font-src 'self'; manifest-src 'self'; worker-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; require-trusted-types-for 'script'; trusted-types upload-worker"
        #expect(html.contains("<meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"\(policy)\">"))
        #expect(!html.contains("unsafe-inline") && !html.contains("unsafe-eval"))

        let headers = try #require(try JSONSerialization.jsonObject(with: Data(fixture.bytes("dist/.site/headers.json"))) as? [String: Any])
        let values = try #require(headers["headers"] as? [String: String])
        let headerPolicy = try #require(values["Content-Security-Policy"])
        #expect(headerPolicy.hasSuffix("frame-ancestors 'none'"))
        #expect(headerPolicy.contains("script-src 'self' 'sha256-"), "the header allows every page's inline hashes")
        #expect(values["X-Content-Type-Options"] == "nosniff")
        #expect(values["Referrer-Policy"] != nil && values["Permissions-Policy"] != nil)
        #expect(values["Strict-Transport-Security"] == nil, "no HSTS for the local environment")
    }

    @Test func productionPolicyUpgradesAndPinsHTTPS() throws {
        let production = try Fixture()
        try production.build(env: "production")
        let headers = try production.text("dist/.site/headers.json")
        #expect(headers.contains("Strict-Transport-Security"))
        #expect(headers.contains("connect-src 'self' https://cognito-idp.eu-west-1.amazonaws.com https://api.example.com https://temp.s3.eu-west-1.amazonaws.com"))
        #expect(headers.contains("upgrade-insecure-requests"))
        #expect(try production.text("dist/.site/manifest.json").contains("\"environment\" : \"production\""))
    }

    @Test func gzipSiblingsRoundTripAndAreSmaller() throws {
        var checked = 0
        for entry in report.manifest.files {
            let original = try fixture.bytes("dist/" + entry.path)
            guard let gzip = entry.gzip else {
                #expect(!fixture.exists("dist/" + entry.path + ".gz"))
                continue
            }
            let compressed = try fixture.bytes("dist/" + gzip.path)
            #expect(gunzip(compressed) == original, "\(gzip.path) does not decompress to \(entry.path)")
            #expect(compressed.count < original.count)
            #expect(Array(compressed[4..<8]) == [0, 0, 0, 0], "gzip header carries no time")
            #expect(gzip.size == compressed.count && gzip.sha256 == hex(compressed))
            checked += 1
        }
        #expect(checked >= 10)
        // Tiny files that do not shrink keep no .gz.
        #expect(report.manifest.files.first { $0.source == "assets/js/auth/lazy.js" }?.gzip == nil)
    }

    @Test func manifestListsEveryOutputWithHashAndCacheClass() throws {
        let manifest = try Manifest.decode(try fixture.bytes("dist/.site/manifest.json"))
        #expect(manifest == report.manifest)
        #expect(manifest.environment == "local")
        let listed = Set(manifest.files.map(\.path) + manifest.files.compactMap(\.gzip?.path))
        let written = Set(try fixture.snapshot().keys.filter { !$0.hasPrefix(".site/") })
        #expect(listed == written)
        for entry in manifest.files {
            let bytes = try fixture.bytes("dist/" + entry.path)
            #expect(entry.size == bytes.count && entry.sha256 == hex(bytes))
            #expect(entry.cache == (entry.path.hasPrefix("assets/") ? .immutable : .revalidate))
        }
        #expect(manifest.files.first { $0.path == "index.html" }?.contentType == "text/html; charset=utf-8")
        #expect(manifest.files.map(\.path) == manifest.files.map(\.path).sorted())
    }

    @Test func twoBuildsOfTheSameInputAreByteIdentical() throws {
        let first = try fixture.snapshot()
        try fixture.build()
        let second = try fixture.snapshot()
        #expect(first.keys.sorted() == second.keys.sorted())
        for (path, bytes) in first { #expect(second[path] == bytes, "\(path) differs between builds") }
        // A copy of the project elsewhere builds to the same bytes too.
        let copy = try Fixture()
        try copy.build()
        #expect(try copy.snapshot() == first)
    }

    @Test func changingOneModuleRenamesOnlyThatModule() throws {
        let before = report.manifest.files.filter { $0.path.hasPrefix("assets/") }.map(\.path)
        try fixture.write("assets/js/util.js", "export const value = 'changed';\n")
        let after = try fixture.build().manifest.files.filter { $0.path.hasPrefix("assets/") }.map(\.path)
        let renamed = Set(before).symmetricDifference(after)
        #expect(renamed.count == 2 && renamed.allSatisfy { $0.contains("assets/js/util.") })
    }

    @Test func aMinimalSiteBuilds() throws {
        let minimal = try Fixture([
            "site/site.yml": "title: Minimal\n",
            "site/layouts/page.mustache": "<!doctype html><html><head><title>{{title}}</title></head><body>{{{content}}}</body></html>\n",
            "site/pages/index.md": "---\ntitle: Home\n---\n# Hello\n",
            "site/pages/about.md": "---\ntitle: About\n---\nAbout *us*.\n",
            "assets/site.css": "body{}\n",
        ])
        let report = try minimal.build()
        #expect(report.pages == 2 && report.environment == nil && report.languages == ["en"])
        #expect(try minimal.text("dist/about/index.html").contains("<p>About <em>us</em>.</p>"))
        #expect(try minimal.text("dist/index.html").contains("img-src 'self'; media-src 'self' blob:; connect-src 'self';"))
    }
}
