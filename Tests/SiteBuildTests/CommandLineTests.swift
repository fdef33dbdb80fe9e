import Foundation
import Testing

/// The `site` executable as a person or CI uses it.
@Suite struct CommandLineTests {
    @Test func versionAndHelp() throws {
        let version = try SiteCommand.run(["--version"])
        #expect(version.status == 0 && version.stdout == "0.1.0\n")
        let help = try SiteCommand.run(["build", "--help"])
        #expect(help.status == 0)
        for text in ["--env <NAME>", "--out <DIR>", "--site <DIR>", "SITE_API_BASE_URL", "Examples:"] {
            #expect(help.stdout.contains(text), "build --help lacks \(text)")
        }
    }

    @Test func buildPrintsASummaryAndJSONForCI() throws {
        let fixture = try Fixture()
        let text = try SiteCommand.run(["build", "--site", fixture.root])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("built 10 pages (2 languages) and 9 assets, environment local"))
        #expect(text.stdout.contains("with gzip"))
        let json = try SiteCommand.run(["build", "--site", fixture.root + "/site", "--env", "production", "--json", "--out", fixture.root + "/out"])
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(summary["ok"] as? Bool == true && summary["environment"] as? String == "production" && summary["pages"] as? Int == 10)
        #expect(fixture.exists("out/index.html"))
    }

    @Test func failedBuildExitsNonZeroWithFileAndLine() throws {
        let fixture = try Fixture()
        try fixture.write("site/pages/bad.md", "---\ntitle: Bad\ncolour: red\n---\n")
        let result = try SiteCommand.run(["build", "--site", fixture.root])
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: site/pages/bad.md:3:1: colour: unknown key"))
        #expect(result.stderr.contains("build failed with 1 error; dist/ was left as it was"))
        #expect(!fixture.exists("dist"))
    }
}
