import Foundation
import Testing
@testable import SiteBuild

/// Checks that `body` throws an error whose text is exactly `message`.
func expectError(_ message: String, sourceLocation: Testing.SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("no error; expected: \(message)", sourceLocation: sourceLocation)
    } catch {
        #expect("\(error)" == message, sourceLocation: sourceLocation)
    }
}

/// A throwaway project folder written from a dictionary of files, with helpers to build it and read the output.
final class Fixture {
    let root: String

    init(_ files: [String: String] = Fixture.standardFiles) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("site-fixture-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        root = base.path
        for (path, text) in files { try write(path, text) }
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func write(_ path: String, _ text: String) throws {
        let url = URL(fileURLWithPath: root).appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func remove(_ path: String) throws {
        try FileManager.default.removeItem(atPath: root + "/" + path)
    }

    @discardableResult
    func build(env: String? = nil, overrides: [String: String] = [:], output: String? = nil) throws -> BuildReport {
        try SiteBuilder.build(BuildOptions(projectRoot: root, environment: env, output: output, processEnvironment: overrides))
    }

    /// The build's diagnostics, or a test failure message if it unexpectedly succeeded.
    func buildErrors(env: String? = nil, overrides: [String: String] = [:]) -> [String] {
        do {
            try build(env: env, overrides: overrides)
            return ["(build succeeded)"]
        } catch let failure as BuildFailure {
            return failure.diagnostics.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    func bytes(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: root + "/" + path)))
    }

    func text(_ path: String) throws -> String {
        String(decoding: try bytes(path), as: UTF8.self)
    }

    func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: root + "/" + path)
    }

    /// Every file under `folder` (relative path → bytes), for byte-for-byte comparisons.
    func snapshot(_ folder: String = "dist") throws -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        let base = root + "/" + folder
        guard let enumerator = FileManager.default.enumerator(atPath: base) else { return [:] }
        while let path = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: base + "/" + path, isDirectory: &isDirectory)
            if !isDirectory.boolValue { result[path] = Array(try Data(contentsOf: URL(fileURLWithPath: base + "/" + path))) }
        }
        return result
    }

    static let siteYAML = """
    title: Fixture Site
    languages: [pt-BR, en]
    environments:
      local:
        cognito:
          region: us-east-1
          userPoolId: us-east-1_LocalPool
          clientId: localclient
          endpoint: http://127.0.0.1:9400
        api:
          baseUrl: /api
        uploads:
          origins: [http://127.0.0.1:9400]
      production:
        cognito:
          region: eu-west-1
          userPoolId: eu-west-1_AbC123xyZ
          clientId: 1example23456789abcdefghij
        api:
          baseUrl: https://api.example.com/v1
        uploads:
          origins: [https://temp.s3.eu-west-1.amazonaws.com]
        publish:
          bucket: example-site
          region: eu-west-1
          distributionIds: [E2QWRUHAPOMQZL]

    """

    static let standardFiles: [String: String] = [
        "site/site.yml": siteYAML,
        "site/layouts/page.mustache": """
        <!doctype html>
        <html lang="{{lang}}">
        <head>
        <meta charset="utf-8">
        <title>{{title}} · {{site.title}}</title>
        <link rel="stylesheet" href="/assets/css/app.css">
        </head>
        <body>
        {{> header}}
        <main>{{{content}}}</main>
        {{#page.scripts}}<script type="module" src="{{.}}"></script>{{/page.scripts}}
        </body>
        </html>

        """,
        "site/partials/header.mustache": """
        <header><a href="{{site.home}}">{{t.nav.home}}</a> <img src="/assets/img/logo.png" srcset="/assets/img/logo.png 1x, /assets/img/logo@2x.png 2x" alt=""></header>

        """,
        "site/pages/index.md": """
        ---
        title: Início
        ---
        # Bem-vindo

        Veja a [ajuda](/help/) e a *imagem* ![logo](/assets/img/logo.png).

        """,
        "site/pages/index.en.md": """
        ---
        title: Home
        ---
        # Welcome

        See the [help](/en/help/).

        """,
        "site/pages/help.md": """
        ---
        title: Ajuda
        description: Como usar
        ---
        ## Ajuda

        Texto com <b>html</b> cru.

        """,
        "site/pages/login.html": """
        ---
        title: "{{t.pages.login}}"
        auth: guest
        scripts: [js/pages/login.js]
        ---
        <h1>{{t.pages.login}}</h1>
        <video poster="/assets/img/logo.png"></video>

        """,
        "site/pages/posts/first.md": """
        ---
        title: First post
        layout: page
        ---
        Relative link: [help](../../help/) and ![x](/assets/img/logo.png)

        """,
        "site/pages/404.md": """
        ---
        title: Não encontrado
        ---
        Nada aqui.

        """,
        "site/i18n/pt-BR.json": #"{"nav": {"home": "Início"}, "pages": {"login": "Entrar"}}"#,
        "site/i18n/en.json": #"{"nav": {"home": "Home"}, "pages": {"login": "Sign in"}}"#,
        "assets/css/app.css": """
        @import "base.css";
        body { background: url('../img/logo.png') no-repeat; }

        """,
        "assets/css/base.css": "main { margin: 0 auto; } /* url(not-a-reference.png) */\n",
        "assets/img/logo.png": "PNG-BYTES-1",
        "assets/img/logo@2x.png": "PNG-BYTES-2",
        "assets/js/pages/login.js": """
        import { signIn } from '../auth/session.js';
        import * as util from "/assets/js/util.js";
        export { helper } from './helper.js';
        const later = () => import('../auth/lazy.js');
        // import x from './commented-out.js';
        const text = "import y from './in-a-string.js'";
        signIn(util, later, text);

        """,
        "assets/js/pages/helper.js": "export const helper = 1;\n",
        "assets/js/auth/session.js": "import { value } from '../util.js';\nexport function signIn() { return value; }\n",
        "assets/js/auth/lazy.js": "export default 42;\n",
        "assets/js/util.js": "export const value = 'v';\n",
    ]
}
