import Testing
@testable import SiteBuild

@Suite struct PageTests {
    @Test(arguments: [
        ("index", "pt-BR", "/"), ("help", "pt-BR", "/help/"), ("posts/p1", "pt-BR", "/posts/p1/"),
        ("posts/index", "pt-BR", "/posts/"), ("404", "pt-BR", "/404.html"),
        ("index", "en", "/en/"), ("help", "en", "/en/help/"), ("404", "en", "/en/404.html"),
    ])
    func urlIsThePath(route: String, language: String, url: String) {
        #expect(PageRoute.url(route: route, language: language, defaultLanguage: "pt-BR") == url)
    }

    @Test func outputPathOfAPrettyURLIsItsIndex() {
        let page = Page(source: "site/pages/help.md", format: .markdown, route: "help", language: "en", isFallback: false, url: "/en/help/")
        #expect(page.outputPath == "en/help/index.html")
    }

    @Test func languageSuffixIsRecognisedOnlyForConfiguredLanguages() {
        let languages = ["pt-BR", "en"]
        #expect(PageRoute.parse(source: "site/pages/help.en.md", languages: languages)?.route == "help")
        #expect(PageRoute.parse(source: "site/pages/help.en.md", languages: languages)?.language == "en")
        #expect(PageRoute.parse(source: "site/pages/v1.2.md", languages: languages)?.route == "v1.2")
        #expect(PageRoute.parse(source: "site/pages/v1.2.md", languages: languages)?.language == nil)
        #expect(PageRoute.parse(source: "site/pages/app.html", languages: languages)?.format == .html)
        #expect(PageRoute.parse(source: "site/pages/logo.png", languages: languages) == nil)
    }

    @Test func defaultLanguageSourcesStandInForMissingTranslations() throws {
        let pages = try PageRoute.plan(sources: ["site/pages/help.md", "site/pages/only.en.md", "site/pages/index.md", "site/pages/index.en.md"],
                                       languages: ["pt-BR", "en"])
        let summary = pages.map { "\($0.url) \($0.source)\($0.isFallback ? " (fallback)" : "")" }
        #expect(summary == [
            "/help/ site/pages/help.md", "/en/help/ site/pages/help.md (fallback)",
            "/ site/pages/index.md", "/en/ site/pages/index.en.md",
            "/en/only/ site/pages/only.en.md",
        ])
    }

    @Test func frontMatterIsReadWithLineNumbers() throws {
        let text = "---\ntitle: Sign in\nauth: guest\nscripts:\n  - js/pages/login.js\n  - /assets/js/extra.js\n---\n<h1>Body</h1>\n"
        let (matter, body, line) = try FrontMatter.parse(text, file: "site/pages/login.html")
        #expect(matter.title == "Sign in" && matter.auth == .guest && matter.layout == "page")
        #expect(matter.scripts.map(\.url) == ["/assets/js/pages/login.js", "/assets/js/extra.js"])
        #expect(matter.scripts[0].location == SourceLocation(file: "site/pages/login.html", line: 5, column: 5))
        #expect(body == "<h1>Body</h1>\n" && line == 8)
    }

    @Test(arguments: [
        "title: Hello world\n",
        "title: Olá, mundo — 2º\nlayout: wide\ndescription: A page.\nauth: required\n",
        "  \ntitle: Spaces   \nlayout: page\n",
        "title: 100\ndescription: true\n",
    ])
    func quickFrontMatterReadsAsYAMLDoes(yaml: String) throws {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { $0 }
        let quick = try #require(FrontMatter.simple(lines, file: "p.md"), "not taken by the quick path")
        let full = try FrontMatter.yaml(lines, file: "p.md")
        #expect(quick.title == full.title && quick.layout == full.layout && quick.description == full.description)
        #expect(quick.auth == full.auth && quick.layoutLocation == full.layoutLocation)
    }

    @Test(arguments: ["title: 'quoted'", "title: a: b", "title: x # comment", "title: ~", "title:", "scripts: [a.js]\ntitle: T",
                      "title: T\ntitle: U", "title: T\nauth: admins", "title: [a]", "title: T\ncolour: red", "title:\tT"])
    func quickFrontMatterLeavesEverythingElseToYAML(yaml: String) {
        #expect(FrontMatter.simple(yaml.split(separator: "\n").map { $0 }, file: "p.md") == nil)
    }

    @Test(arguments: [
        ("---\ntitle: T\nauth: admins\n---\n", "site/pages/p.md:3:7: auth: 'admins' is not one of: required, guest, public"),
        ("---\ntitle: T\nscripts: [app.css]\n---\n", "site/pages/p.md:3:11: scripts[0]: 'app.css' is not a JavaScript module (.js or .mjs)"),
        ("---\ntitle: T\n", "site/pages/p.md:1:1: front matter is not closed; end it with a --- line"),
        ("---\ntitle: [a, b]\n---\n", "site/pages/p.md:2:8: title: expected a text value"),
        ("---\ntitle:\n---\n", "site/pages/p.md:2:7: title: expected a text value, found nothing"),
        ("# No front matter\n", "site/pages/p.md:1:1: title: missing front matter; start the file with ---, a `title:` line and ---"),
    ])
    func badFrontMatter(text: String, message: String) {
        expectError(message) { _ = try FrontMatter.parse(text, file: "site/pages/p.md") }
    }

    @Test func markdownRendersCommonMarkAndOmitsRawHTMLUnlessAllowed() {
        let text = "# Title\n\n*em* and `code` <script>alert(1)</script>\n"
        let safe = Markdown.render(text, options: MarkdownOptions())
        #expect(safe.contains("<h1>Title</h1>") && safe.contains("<em>em</em>") && safe.contains("<code>code</code>"))
        #expect(!safe.contains("<script>"))
        #expect(Markdown.render(text, options: MarkdownOptions(unsafeHTML: true)).contains("<script>alert(1)</script>"))
        #expect(Markdown.render("\"quoted\" -- dash\n", options: MarkdownOptions(smartPunctuation: true)).contains("“quoted” – dash"))
    }

    @Test func stringsAreFlattenedWithLocations() throws {
        let strings = try Strings.parse("{\n  \"nav\": {\n    \"home\": \"In\\u00edcio \\\"1\\\"\"\n  },\n  \"x\": \"\\ud83d\\ude00\"\n}", language: "pt-BR", file: "site/i18n/pt-BR.json")
        #expect(strings.values == ["nav.home": "Início \"1\"", "x": "😀"])
        #expect(strings.locations["nav.home"] == SourceLocation(file: "site/i18n/pt-BR.json", line: 3, column: 5))
        let nested = strings.templateValue["nav"] as? [String: Any]
        #expect(nested?["home"] as? String == "Início \"1\"")
    }

    @Test(arguments: [
        ("{\"a\": 1}", "site/i18n/en.json:1:7: t.a: translations must be text (or objects grouping text)"),
        ("{\"a\": \"x\",\n \"a\": \"y\"}", "site/i18n/en.json:2:2: t.a: duplicate key"),
        ("{\"a\": \"x\"", "site/i18n/en.json:1:10: invalid JSON: unexpected end of file"),
        ("{\"a.b\": \"x\"}", "site/i18n/en.json:1:2: t.a.b: keys must be non-empty and contain no '.' (nest objects instead)"),
    ])
    func badStrings(text: String, message: String) {
        expectError(message) { _ = try Strings.parse(text, language: "en", file: "site/i18n/en.json") }
    }
}
