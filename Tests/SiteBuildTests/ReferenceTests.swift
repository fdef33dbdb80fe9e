import Testing
@testable import SiteBuild

@Suite struct ReferenceTests {
    @Test(arguments: [
        ("/assets/a.css", "/en/help/", "/assets/a.css"),
        ("../img/x.png", "/assets/css/app.css", "/assets/img/x.png"),
        ("./util.js", "/assets/js/pages/login.js", "/assets/js/pages/util.js"),
        ("x%20y.png?v=1#top", "/assets/css/app.css", "/assets/css/x y.png"),
        ("../../help/", "/posts/first/", "/help/"),
        ("../../../../a.png", "/x/", "/a.png"),
    ])
    func resolvesAgainstTheReferringFile(written: String, base: String, path: String) {
        #expect(Reference.resolve(written, against: base)?.path == path)
    }

    @Test(arguments: ["https://example.com/a.png", "//cdn.example.com/a.js", "data:image/png;base64,AAA", "mailto:a@b.c",
                      "#section", "", "javascript:alert(1)", "?q=1"])
    func ignoresWhatIsNotALocalFile(written: String) {
        #expect(Reference.resolve(written, against: "/") == nil)
    }

    @Test func fingerprintGoesBeforeTheExtensionKeepingTheWrittenForm() {
        let reference = Reference(written: "../img/logo.png?v=2#x", path: "/assets/img/logo.png")
        #expect(reference.fingerprinted("3f2a9c1e") == "../img/logo.3f2a9c1e.png?v=2#x")
        #expect(Reference(written: "/assets/LICENSE", path: "/assets/LICENSE").fingerprinted("abcd1234") == "/assets/LICENSE.abcd1234")
    }

    @Test func cssReferencesSkipCommentsAndStrings() {
        let css = """
        @import "base.css";
        @import url(theme.css);
        /* url(commented.png) */
        .a { background: url( 'a.png' ) , URL("b.png"); content: "url(fake.png)"; }
        .b { background-image: url(data:image/png;base64,AA); mask: my-url(x.png); }
        """
        let found = CSSReferences.scan(Array(css.utf8)).map(\.text)
        #expect(found == ["base.css", "theme.css", "a.png", "b.png", "data:image/png;base64,AA"])
    }

    @Test func jsImportsFindEveryStaticAndLiteralDynamicSpecifier() {
        let js = """
        import a from './a.js';
        import { b,
          c as d } from "../b.js"
        import * as ns from '/assets/js/ns.js';
        import './side-effect.js';
        export { e } from './e.js';
        export * from './star.js';
        export * as all from './all.js';
        export const notAnImport = 1;
        export default function f() { return import('./lazy.js'); }
        const dynamic = import(variable);
        // import x from './line-comment.js';
        /* import y from './block-comment.js'; */
        const s = "import z from './string.js'";
        const t = `import w from './template.js' ${ '${x}' }`;
        const r = /import q from '.\\/regex.js'/;
        obj.import('./method.js');
        const meta = import.meta.url;
        """
        let found = JSImports.scan(Array(js.utf8)).map(\.specifier)
        #expect(found == ["./a.js", "../b.js", "/assets/js/ns.js", "./side-effect.js", "./e.js", "./star.js", "./all.js", "./lazy.js"])
    }

    @Test func htmlScannerReadsAttributesInEveryQuotingStyle() {
        let html = "<!DOCTYPE html><!-- <img src=\"no.png\"> --><IMG SRC='a.png' alt=x data-x = \"1\" hidden><br/><script>if (a<b) { '<img src=c>' }</script><p class=\"a&amp;b\">"
        let document = HTMLScanner.scan(Array(html.utf8))
        #expect(document.afterDoctype == 15)
        #expect(document.tags.map(\.name) == ["img", "br", "script", "p"])
        let img = document.tags[0]
        #expect(img.attributes.map(\.name) == ["src", "alt", "data-x", "hidden"])
        #expect(document.value(img.attribute("src")) == "a.png" && document.value(img.attribute("alt")) == "x")
        #expect(document.value(img.attribute("data-x")) == "1" && document.value(img.attribute("hidden")) == "")
        #expect(document.tags[2].content.map(document.text) == "if (a<b) { '<img src=c>' }")
        #expect(document.value(document.tags[3].attribute("class")) == "a&b")
    }

    @Test func entitiesDecodeAndAttributesEscape() {
        #expect(HTMLScanner.decodeEntities("a&amp;b&#39;c&#x41;&unknown;") == "a&b'cA&unknown;")
        #expect(HTMLScanner.escapeAttribute("a\"<b>&") == "a&quot;&lt;b&gt;&amp;")
    }

    @Test func lineIndexGivesOneBasedPositions() {
        let index = LineIndex(Array("ab\ncd\n\nef".utf8))
        #expect(index.position(of: 0) == (1, 1))
        #expect(index.position(of: 4) == (2, 2))
        #expect(index.position(of: 7) == (4, 1))
    }
}
