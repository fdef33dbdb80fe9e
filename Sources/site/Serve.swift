import ArgumentParser
import DevServer
import Foundation
import HTTPServing
import LocalCloud
import SiteBuild

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build, serve dist/ with live reload, and run the local cloud beside it.",
        discussion: """
        Builds the site (with the `local` environment when site.yml defines one), serves dist/ on \
        loopback as production would (pretty URLs, the 404 page, ETags, ranges, gzip, the CSP and \
        security headers of dist/.site/headers.json), watches site/ and assets/, rebuilds on every \
        change and reloads the browser. A failed build shows its message over the page until fixed.

        When site.yml has a `local` environment, the local cloud starts too (see `site help cloud`): \
        Cognito, the video API, S3 and the conversion pipeline, with the mailbox for sign-up codes. \
        Its Cognito allows sign-up as that environment's `signup` says (open unless set; with invite \
        or closed, `site cloud invite EMAIL` makes accounts). \
        Requests for /api and under /api/ and /media/ are forwarded to it, as CloudFront forwards them \
        in production, so the app, its API and its media share one origin. The cloud runs in this \
        process, so a forwarded request is handed to it directly, bodies streamed both ways. With \
        --cloud-url, no cloud starts: those paths are proxied over HTTP to one you run yourself \
        (`site cloud`, e.g. to keep conversions running while you restart this), and Cognito and \
        uploads go to its origin. Without a cloud (--no-cloud, or another environment) those paths \
        are the site's 404. Ctrl-C stops both.

        Examples:
          site serve
          site serve --port 8080 --no-cloud
          site cloud --port 9500 --allow-origin http://127.0.0.1:8000 &
          site serve --cloud-url http://127.0.0.1:9500
        """)

    @OptionGroup var project: ProjectOptions

    @Option(help: ArgumentHelp("The port to serve on (0 picks a free one).", valueName: "N"))
    var port: Int = 8000

    @Option(help: ArgumentHelp("The address to listen on. Loopback unless you name another, which is then reachable by others.", valueName: "HOST"))
    var host: String = "127.0.0.1"

    @Option(help: ArgumentHelp("The environment to build with (default: local, when site.yml defines it). The local cloud runs only with the local environment.", valueName: "NAME"))
    var env: String?

    @Option(name: .customLong("cloud-port"), help: ArgumentHelp("The local cloud's port.", valueName: "N"))
    var cloudPort: Int = 9400

    @Option(name: .customLong("cloud-data"), help: ArgumentHelp("The local cloud's data folder.", valueName: "DIR"))
    var cloudData: String = ".local-cloud"

    @Flag(name: .customLong("no-cloud"), help: "Do not start the local cloud.")
    var noCloud = false

    @Option(name: .customLong("cloud-url"), help: ArgumentHelp(
        "Use a local cloud already running at this origin (`site cloud`, started with --allow-origin naming this server's origin) instead of starting one: /api and /media/ are proxied to it, and the build points Cognito and uploads at it.",
        valueName: "ORIGIN"))
    var cloudURL: String?

    @OptionGroup var tokenLifetime: TokenLifetimeOption

    @OptionGroup var limits: LimitsOptions

    @OptionGroup var requestRate: RequestRateOptions

    @Flag(help: "Watch by polling every 100 ms instead of inotify (e.g. for network file systems).")
    var poll = false

    @OptionGroup var allowedHosts: AllowedHostsOption<Serve>

    func validate() throws {
        guard (0...65535).contains(port), (0...65535).contains(cloudPort) else { throw ValidationError("Ports are 0 to 65535.") }
        if let cloudURL {
            guard !noCloud else { throw ValidationError("--cloud-url and --no-cloud contradict each other: choose one.") }
            guard let url = URL(string: cloudURL), url.scheme == "http" || url.scheme == "https", url.host != nil,
                  url.path.isEmpty || url.path == "/", url.query == nil else {
                throw ValidationError("--cloud-url must be an origin like http://127.0.0.1:9500, not '\(cloudURL)'.")
            }
        }
    }

    func run() async throws {
        let root = project.projectRoot
        if !["127.0.0.1", "::1", "localhost"].contains(host) {
            FileHandle.standardError.write(Data("warning: serving on \(host): anyone who can reach this address can read the site\n".utf8))
        }
        // Both ports are fixed before either server starts: the site is built with the cloud's
        // origin, and the cloud allows the site's origin (CORS).
        let sitePort = port == 0 ? try freePort() : port
        // A site.yml that does not parse gets no cloud; the build then reports its errors.
        let config = (try? String(contentsOfFile: root + "/" + SiteConfig.file, encoding: .utf8)).flatMap { try? SiteConfig.parse($0) }
        let hasLocal = config?.environment(named: "local") != nil
        let localEnvironment = hasLocal && (env == nil || env == "local")
        let withCloud = !noCloud && cloudURL == nil && localEnvironment
        var options = ServeOptions(projectRoot: root)
        options.environment = env
        options.host = host
        options.port = sitePort
        options.poll = poll
        options.allowedHosts = allowedHosts.names
        options.processEnvironment = ProcessInfo.processInfo.environment
        let say: @Sendable (String) -> Void = { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }
        if let cloudURL, localEnvironment {
            let origin = cloudURL.hasSuffix("/") ? String(cloudURL.dropLast()) : cloudURL
            options.upstream = .origin(origin)
            for variable in ["SITE_COGNITO_ENDPOINT", "SITE_UPLOADS_ORIGINS"] where options.processEnvironment[variable] == nil {
                options.processEnvironment[variable] = origin
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            if withCloud {
                let folder = cloudData.hasPrefix("/") ? cloudData : root + "/" + cloudData
                var cloud = LocalCloudConfiguration(dataDirectory: URL(fileURLWithPath: folder).standardizedFileURL)
                cloud.port = cloudPort == 0 ? try freePort() : cloudPort
                cloud.tokenLifetime = tokenLifetime.seconds
                cloud.limits = limits.limits
                cloud.requestRate = requestRate.rate
                cloud.allowedHosts = allowedHosts.names
                // Who may sign up: site.yml's `local` environment (or SITE_SIGNUP), as the build tells the app.
                let local = config?.environment(named: "local")
                let policy = ((try? local?.applying(overrides: options.processEnvironment)) ?? local)?.effectiveSignUp
                cloud.selfSignUp = (policy ?? .fallback(isLocal: true)) == .open
                cloud.allowedOrigins = ["http://127.0.0.1:\(sitePort)", "http://localhost:\(sitePort)"]
                let origin = "http://127.0.0.1:\(cloud.port)"
                // The API and the media are paths on the site's own origin, handed to the cloud in
                // this process; Cognito and presigned uploads go to the cloud's origin itself.
                let gateway = LocalCloudGateway()
                options.upstream = .inProcess { await gateway.respond($0) }
                if cloud.port != 9400 {
                    for (variable, value) in [("SITE_COGNITO_ENDPOINT", origin), ("SITE_UPLOADS_ORIGINS", origin)]
                    where options.processEnvironment[variable] == nil {
                        options.processEnvironment[variable] = value
                    }
                }
                let configuration = cloud
                group.addTask {
                    try await LocalCloud.run(configuration, gateway: gateway) { endpoints in
                        say(endpoints.lines.joined(separator: "\n"))
                    }
                }
            }
            let serveOptions = options
            group.addTask {
                try await DevServer.run(serveOptions, events: ServeEvents(ready: { say("site: \($0)") }, rebuilt: say))
            }
            try await group.next()
            group.cancelAll()
        }
    }
}

extension Serve: AllowedHostsHelp {
    static let allowedHostsScope = " (both servers)"
    static let rebindingHarm = "reach the servers"
}

/// A free loopback port, or a validation error saying none could be had.
func freePort() throws -> Int {
    guard let port = freeLoopbackPort() else { throw ValidationError("cannot find a free port") }
    return port
}
