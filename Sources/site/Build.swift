import ArgumentParser
import Foundation
import SiteBuild

struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build the site into dist/.",
        discussion: """
        Renders every page of site/pages in every language of site.yml, fingerprints the files under \
        assets/ and rewrites references to them (with Subresource Integrity), injects the environment's \
        public config and a strict Content-Security-Policy, gzips text files, and writes \
        dist/.site/manifest.json and dist/.site/headers.json.

        The output is written to a staging folder and replaces dist/ only when the whole build succeeded: \
        a failed build leaves the previous dist/ as it was. Errors name file:line:column and the key.

        Environment overrides (for CI secrets) replace fields of the selected environment:
        \(SiteBuild.Environment.overrideVariables.map { "  \($0.variable) → \($0.key)" }.joined(separator: "\n"))
        (lists are comma-separated). SITE_JOBS limits the number of threads.

        Examples:
          site build                       # the `local` environment, into ./dist
          site build --env production      # what CI publishes
          site build --out /tmp/preview --json
        """)

    @OptionGroup var project: ProjectOptions

    @Option(name: .long, help: ArgumentHelp(
        "The environment from site.yml whose config the app gets (default: local, when site.yml defines it).",
        valueName: "NAME"))
    var env: String?

    @Option(name: .long, help: ArgumentHelp("Output folder (default: dist/ in the project).", valueName: "DIR"))
    var out: String?

    @Flag(name: .customLong("no-gzip"), help: "Do not write .gz siblings.")
    var noGzip = false

    @Flag(help: "Print a JSON summary (or the errors) instead of text.")
    var json = false

    @Flag(name: .shortAndLong, help: "Print nothing on success.")
    var quiet = false

    func run() throws {
        let started = Date()
        let options = BuildOptions(projectRoot: project.projectRoot, environment: env, output: out,
                                   processEnvironment: ProcessInfo.processInfo.environment, compress: !noGzip)
        do {
            let report = try SiteBuilder.build(options)
            let seconds = Date().timeIntervalSince(started)
            if json {
                printJSON(summary(report, seconds: seconds))
            } else if !quiet {
                print(BuildSummary.text(report, seconds: seconds, projectRoot: project.projectRoot))
            }
        } catch {
            let diagnostics = (error as? BuildFailure)?.diagnostics ?? [(error as? Diagnostic) ?? Diagnostic("\(error)")]
            if json {
                printJSON(["ok": false, "errors": diagnostics.map(\.description)])
            }
            Terminal.reportErrors(diagnostics, output: out ?? "dist/")
            throw ExitCode.failure
        }
    }

    private func summary(_ report: BuildReport, seconds: Double) -> [String: Any] {
        [
            "ok": true,
            "output": report.output,
            "environment": report.environment as Any,
            "pages": report.pages,
            "languages": report.languages,
            "assets": report.assets,
            "files": report.files,
            "compressibleBytes": report.compressibleBytes,
            "compressedBytes": report.compressedBytes,
            "seconds": (seconds * 1000).rounded() / 1000,
        ]
    }

}
