import Foundation
import Testing
@testable import SiteBuild

/// Every bad input stops the build with a message naming file:line:column and key, and leaves the
/// previous `dist/` exactly as it was.
@Suite struct BadInputTests {
    /// Builds the standard fixture, applies `change`, builds again and returns the errors, after
    /// checking that `dist/` was not touched.
    func errorsAfter(env: String? = nil, _ change: (Fixture) throws -> Void) throws -> String {
        let fixture = try Fixture()
        try fixture.build()
        let before = try fixture.snapshot()
        try change(fixture)
        let errors = fixture.buildErrors(env: env).joined(separator: "\n")
        #expect(try fixture.snapshot() == before, "dist/ changed after a failed build")
        return errors
    }

    func replace(_ old: String, with new: String, in path: String) -> (Fixture) throws -> Void {
        { fixture in
            let text = try fixture.text(path)
            #expect(text.contains(old), "fixture lacks \(old)")
            try fixture.write(path, text.replacingOccurrences(of: old, with: new))
        }
    }

    @Test func invalidYAMLInSiteConfig() throws {
        let errors = try errorsAfter(replace("languages: [pt-BR, en]", with: "languages: [pt-BR, en", in: "site/site.yml"))
        #expect(errors == "site/site.yml:3:13: invalid YAML: while parsing a flow sequence did not find expected ',' or ']'")
    }

    @Test func stringThatNoLanguageHasIsNamedWithItsLine() throws {
        let errors = try errorsAfter(replace("<h1>{{t.pages.login}}</h1>", with: "<h1>{{t.pages.login}}</h1>\n<p>{{t.login.nope}}</p>",
                                             in: "site/pages/login.html"))
        #expect(errors.contains("site/pages/login.html:7:4: t.login.nope: no string t.login.nope in site/i18n/"), "\(errors)")
    }

    @Test func stringMissingInALayoutFails() throws {
        let errors = try errorsAfter { fixture in
            let layout = try fixture.text("site/layouts/page.mustache")
            try fixture.write("site/layouts/page.mustache", layout.replacingOccurrences(of: "</body>", with: "{{t.footer.gone}}</body>"))
        }
        #expect(errors.contains("site/layouts/page.mustache:"), "\(errors)")
        #expect(errors.contains("t.footer.gone"), "\(errors)")
    }

    @Test func unknownEnvironmentListsTheKnownOnes() throws {
        let errors = try errorsAfter(env: "staging") { _ in }
        #expect(errors == "site/site.yml: --env: unknown environment 'staging'; site/site.yml defines: local, production")
    }

    @Test func malformedUserPoolId() throws {
        let errors = try errorsAfter(replace("userPoolId: eu-west-1_AbC123xyZ", with: "userPoolId: AbC123xyZ", in: "site/site.yml"))
        #expect(errors.hasPrefix("site/site.yml:17:19: environments.production.cognito.userPoolId: malformed user pool id 'AbC123xyZ'"), "\(errors)")
    }

    @Test func plainHTTPOutsideTheLocalEnvironment() throws {
        let errors = try errorsAfter(replace("baseUrl: https://api.example.com/v1", with: "baseUrl: http://api.example.com/v1", in: "site/site.yml"))
        #expect(errors == "site/site.yml:20:16: environments.production.api.baseUrl: 'http://api.example.com/v1' uses http; only https is allowed outside the local environment")
    }

    @Test func unknownKeyInSiteConfig() throws {
        let errors = try errorsAfter(replace("  production:\n    cognito:", with: "  production:\n    cognitoo:", in: "site/site.yml"))
        #expect(errors.hasPrefix("site/site.yml:15:5: environments.production.cognitoo: unknown key; expected one of: cognito, api, uploads, publish"), "\(errors)")
    }

    @Test func pageWithoutTitle() throws {
        let errors = try errorsAfter { try $0.write("site/pages/untitled.md", "---\ndescription: no title\n---\nBody\n") }
        #expect(errors == "site/pages/untitled.md:1:1: title: missing front matter; start the file with ---, a `title:` line and ---")
    }

    @Test func unknownFrontMatterKey() throws {
        let errors = try errorsAfter { try $0.write("site/pages/draft.md", "---\ntitle: Draft\ndraft: true\n---\nBody\n") }
        #expect(errors == "site/pages/draft.md:3:1: draft: unknown key; expected one of: title, layout, description, scripts, auth")
    }

    @Test func missingLayout() throws {
        let errors = try errorsAfter { try $0.write("site/pages/wide.md", "---\ntitle: Wide\nlayout: wide\n---\nBody\n") }
        #expect(errors == "site/pages/wide.md:3:9: layout: layout 'wide' not found (looked for site/layouts/wide.mustache; have: page)")
    }

    @Test func missingPartial() throws {
        let errors = try errorsAfter { try $0.remove("site/partials/header.mustache") }
        #expect(errors.contains("site/layouts/page.mustache:9:1: partial 'header' not found (looked for site/partials/header.mustache; used by site/pages/"), "\(errors)")
    }

    @Test func mustacheSyntaxErrorNamesTheTemplateAndThePage() throws {
        let errors = try errorsAfter(replace("<header>", with: "<header>{{#open}}", in: "site/partials/header.mustache"))
        #expect(errors.contains("site/partials/header.mustache:"), "\(errors)")
        #expect(errors.contains("template syntax error: a section is opened but never closed (used by site/pages/"), "\(errors)")
    }

    @Test func referenceToAMissingAsset() throws {
        let errors = try errorsAfter(replace("logo@2x.png 2x", with: "logo@3x.png 3x", in: "site/partials/header.mustache"))
        #expect(errors.contains("site/partials/header.mustache:1:"), "\(errors)")
        #expect(errors.contains("reference to missing asset /assets/img/logo@3x.png"), "\(errors)")
    }

    @Test func missingAssetInAStylesheetNamesItsLine() throws {
        let errors = try errorsAfter { try $0.write("assets/css/base.css", "main {}\n.x { background: url(/assets/img/gone.png); }\n") }
        #expect(errors == "assets/css/base.css:2:22: reference to missing asset /assets/img/gone.png (/assets/img/gone.png)")
    }

    @Test func missingModuleInAnImportNamesItsLine() throws {
        let errors = try errorsAfter { try $0.write("assets/js/util.js", "\nimport { x } from './nope.js';\n") }
        #expect(errors == "assets/js/util.js:2:20: cannot find module /assets/js/nope.js (imported as './nope.js')")
    }

    @Test func brokenInternalLink() throws {
        let errors = try errorsAfter { try $0.write("site/pages/links.md", "---\ntitle: Links\n---\nSee [gone](/gone/).\n") }
        #expect(errors.contains("site/pages/links.md:4:"), "\(errors)")
        #expect(errors.contains("link to /gone/, which is neither a page nor an asset"))
    }

    @Test func twoPagesWithTheSameURL() throws {
        let errors = try errorsAfter { try $0.write("site/pages/help/index.md", "---\ntitle: Other help\n---\n") }
        #expect(errors == "site/pages/help/index.md: two pages have the URL /help/: site/pages/help.md and site/pages/help/index.md")
    }

    @Test func stringMissingInOneLanguage() throws {
        let errors = try errorsAfter { try $0.write("site/i18n/en.json", #"{"nav": {"home": "Home"}, "pages": {}}"#) }
        #expect(errors == "site/i18n/en.json: t.pages.login: missing in en; defined at site/i18n/pt-BR.json:1:40; every string needs a translation in each language")
    }

    @Test func symlinkOutOfTheProject() throws {
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("outside-\(UUID().uuidString).css").path
        try Data("secret".utf8).write(to: URL(fileURLWithPath: outside))
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let errors = try errorsAfter { fixture in
            try FileManager.default.createSymbolicLink(atPath: fixture.root + "/assets/css/leak.css", withDestinationPath: outside)
        }
        #expect(errors.hasPrefix("assets/css/leak.css: symlink points outside the project (to \(outside))"), "\(errors)")
    }

    @Test func symlinkInsideTheProjectIsFollowed() throws {
        let fixture = try Fixture()
        try FileManager.default.createSymbolicLink(atPath: fixture.root + "/assets/img/alias.png", withDestinationPath: fixture.root + "/assets/img/logo.png")
        let report = try fixture.build()
        #expect(report.manifest.files.contains { $0.source == "assets/img/alias.png" })
    }

    @Test func unreadableFile() throws {
        let fixture = try Fixture()
        try fixture.build()
        let before = try fixture.snapshot()
        try fixture.write("site/pages/secret.md", "---\ntitle: Secret\n---\n")
        chmod(fixture.root + "/site/pages/secret.md", 0)
        let errors: String
        if getuid() == 0 {
            // Root reads any file; build as an unprivileged user so the permission really denies it.
            errors = try SiteCommand.runAsNobody(["build", "--site", fixture.root], owning: fixture.root).stderr
        } else {
            errors = fixture.buildErrors().joined(separator: "\n")
        }
        #expect(errors.contains("site/pages/secret.md: cannot read file: Permission denied"), "\(errors)")
        #expect(try fixture.snapshot() == before)
    }

    @Test func invalidUTF8InAPage() throws {
        let errors = try errorsAfter { fixture in
            try Data([0x2d, 0x2d, 0x2d, 0x0a, 0xff, 0xfe]).write(to: URL(fileURLWithPath: fixture.root + "/site/pages/binary.md"))
        }
        #expect(errors == "site/pages/binary.md: file is not valid UTF-8 text")
    }

    @Test func overrideFromTheEnvironmentIsValidatedToo() throws {
        let fixture = try Fixture()
        let errors = fixture.buildErrors(env: "production", overrides: ["SITE_API_BASE_URL": "http://insecure.example.com"])
        #expect(errors == ["environment variable SITE_API_BASE_URL: production.api.baseUrl: 'http://insecure.example.com' uses http; only https is allowed outside the local environment"])
    }

    @Test func everyProblemIsReportedNotJustTheFirst() throws {
        let errors = try errorsAfter { fixture in
            try fixture.write("site/pages/a.md", "---\ntitle: A\nlayout: nope\n---\n")
            try fixture.write("site/pages/b.md", "---\ntitle: B\n---\n![x](/assets/none.png)\n")
        }
        #expect(errors.contains("site/pages/a.md:3:9: layout: layout 'nope'"))
        #expect(errors.contains("reference to missing asset /assets/none.png"))
    }
}
