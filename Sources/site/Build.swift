import AWSClient
import ArgumentParser
import Foundation
import SiteBuild

struct Build: AsyncParsableCommand {
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

        With --stack NAME the deployed CloudFormation stack's outputs replace the environment's fields \
        first, and the SITE_* variables still win over them (site.yml < stack outputs < SITE_*):
        \(StackOutputs.fields.map { "  \($0.output) → \($0.key)" }.joined(separator: "\n"))
        \(StackOutputs.optionalFields.map { "  \($0.output) → \($0.key) (when the stack has it)" }.joined(separator: "\n"))
        A missing output is an error naming it, unless a SITE_* variable sets its field. The stack is \
        looked up in \(StackLookup.regionHelp(hasRegionFlag: false)), with the credentials `site help publish` describes \
        (AWS_ENDPOINT_URL_CLOUDFORMATION or AWS_ENDPOINT_URL for another endpoint).

        Examples:
          site build                       # the `local` environment, into ./dist
          site build --env production      # what CI publishes
          site build --env production --stack video-prod   # ids from the stack
          site build --out /tmp/preview --json
        """)

    @OptionGroup var project: ProjectOptions

    @Option(name: .long, help: ArgumentHelp(
        "The environment from site.yml whose config the app gets (default: local, when site.yml defines it).",
        valueName: "NAME"))
    var env: String?

    @OptionGroup var stack: StackOption<Build>

    @Option(name: .long, help: ArgumentHelp("Output folder (default: dist/ in the project).", valueName: "DIR"))
    var out: String?

    @Flag(name: .customLong("no-gzip"), help: "Do not write .gz siblings.")
    var noGzip = false

    @Flag(help: "Print a JSON summary (or the errors) instead of text.")
    var json = false

    @Flag(name: .shortAndLong, help: "Print nothing on success.")
    var quiet = false

    func validate() throws {
        if stack.name != nil && env == nil {
            throw ValidationError("--stack needs --env: the environment whose values the stack's outputs replace")
        }
    }

    func run() async throws {
        let started = Date()
        let variables = ProcessInfo.processInfo.environment
        do {
            let stackOutputs = try await lookUpStack(variables: variables)
            let options = BuildOptions(projectRoot: project.projectRoot, environment: env, output: out,
                                       processEnvironment: variables, stackOutputs: stackOutputs, compress: !noGzip)
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

    /// The outputs of the stack `--stack` names, nil without it; a failure to read them becomes a
    /// diagnostic of `--stack`.
    private func lookUpStack(variables: [String: String]) async throws -> StackOutputs? {
        guard stack.name != nil else { return nil }
        let siteRegion = try SiteBuilder.environment(env, projectRoot: project.projectRoot, overrides: [:])?.publish?.region
        let http = AWSTransport.makeHTTPClient(concurrency: 1)
        do {
            let found = try await stack.lookUp(siteRegion: siteRegion, regionFlag: nil, profile: nil, variables: variables, http: http)
            try? await http.shutdown()
            return found?.outputs
        } catch {
            try? await http.shutdown()
            throw Diagnostic("\(error)", key: "--stack")
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

extension Build: StackReading {
    static let stackHelp = "Take the environment's Cognito, API, upload and media values from this deployed CloudFormation stack's outputs (SITE_* variables still win), e.g. --stack video-prod."
    static let hasRegionFlag = false
}
