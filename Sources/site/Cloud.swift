import ArgumentParser
import Foundation
import LocalCloud
import SiteBuild

struct CloudCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cloud",
        abstract: "Run the local cloud: Cognito, the video API, S3 and the conversion pipeline on loopback.",
        discussion: """
        A stand-in for every AWS service the app uses, speaking their real protocols, so the whole \
        journey (sign up, MFA, upload, convert, watch) works with no AWS account. `site serve` starts \
        it for you; run it alone to point other clients (boto3, the AWS CLI) at it.

        On start it prints one line per endpoint:
          cognito: URL       Cognito's endpoint (JWKS: URL/<pool>/.well-known/)
          api: URL           the video API (its document: URL/openapi.yaml)
          s3: URL            path-style S3: video-temp-conversion, video-main
          mailbox: URL       confirmation and reset codes (JSON if asked for)
          userPoolId: ID     and clientId: ID, as in site.yml's `local` environment
          credentials: FILE  the S3 keys, as AWS credentials (profile localcloud)
          overview: URL      the mailbox, users, videos and the conversion queue

        Media are served as CloudFront's /media/* behaviour serves them: GET /media/videos/<sub>/… \
        reads the main bucket only with the signed cookies `POST /api/session` sets (checked as \
        CloudFront checks them, against the key pair in the data folder's media-key.pem), else 403. \
        `site serve` forwards /api/ and /media/ to it, so the browser sees one origin.

        State (SQLite), objects and keys live in the data folder and survive restarts; queued and \
        interrupted conversions resume. Conversion needs ffmpeg and ffprobe on PATH.

        With --signup invite or closed, Cognito's SignUp is refused ("SignUp is not permitted for \
        this user pool"), as by a production pool whose SignUpPolicy is not open, and `site cloud \
        invite EMAIL` makes accounts; open, the default, lets anyone sign up. `site serve` takes the \
        policy from site.yml's `local` environment instead.

        Examples:
          site cloud
          site cloud --port 0 --data /tmp/cloud
          site cloud --signup invite & site cloud invite ana@example.com
          AWS_SHARED_CREDENTIALS_FILE=.local-cloud/aws-credentials AWS_PROFILE=localcloud \\
            aws --endpoint-url http://127.0.0.1:9400 s3 ls s3://video-main/
        """,
        subcommands: [CloudInvite.self, CloudLimits.self])

    @Option(help: ArgumentHelp("The port to listen on (0 picks a free one).", valueName: "N"))
    var port: Int = 9400

    @Option(help: ArgumentHelp("The loopback address to listen on.", valueName: "HOST"))
    var host: String = "127.0.0.1"

    @Option(help: ArgumentHelp("The data folder (state, objects, keys).", valueName: "DIR"))
    var data: String = ".local-cloud"

    @Option(name: .customLong("allow-origin"), parsing: .singleValue, help: ArgumentHelp(
        "An origin whose pages may call the local cloud (CORS); repeatable. Default: the dev server's, http://127.0.0.1:8000 and http://localhost:8000.",
        valueName: "ORIGIN"))
    var allowOrigins: [String] = []

    @Option(help: ArgumentHelp("How many conversions run at once.", valueName: "N"))
    var workers: Int = 1

    @Option(name: .customLong("sweep-every"), help: ArgumentHelp(
        "How often the sweeper looks for videos whose conversion ended without settling them, in seconds (default 60).",
        valueName: "SECONDS"))
    var sweepEvery: Double = 60

    @Option(name: .customLong("sweep-after"), help: ArgumentHelp(
        "How long a video waits for its conversion before the sweeper asks the job queue about it, in seconds (default 600).",
        valueName: "SECONDS"))
    var sweepAfter: Double = 600

    @Option(help: ArgumentHelp("Who may make an account: open (anyone signs up), invite or closed (SignUp refused; `site cloud invite` makes accounts).",
                               valueName: "POLICY"))
    var signup: SignUpPolicy = .fallback(isLocal: true)

    @OptionGroup var allowedHosts: AllowedHostsOption<CloudCommand>

    @OptionGroup var tokenLifetime: TokenLifetimeOption

    @OptionGroup var limits: LimitsOptions

    @OptionGroup var requestRate: RequestRateOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535.") }
        guard (1...16).contains(workers) else { throw ValidationError("--workers must be between 1 and 16.") }
        guard sweepEvery >= 0.1, sweepEvery <= 86_400 else { throw ValidationError("--sweep-every must be from 0.1 to 86400 seconds.") }
        guard sweepAfter >= 0, sweepAfter <= 30 * 86_400 else { throw ValidationError("--sweep-after must be from 0 to 2592000 seconds.") }
        for origin in allowOrigins where !(origin.hasPrefix("http://") || origin.hasPrefix("https://")) || origin.hasSuffix("/") {
            throw ValidationError("--allow-origin \(origin): an origin is scheme://host[:port] with no path, e.g. http://127.0.0.1:8000.")
        }
    }

    func run() async throws {
        var configuration = LocalCloudConfiguration(dataDirectory: URL(fileURLWithPath: data).standardizedFileURL)
        configuration.port = port
        configuration.host = host
        configuration.workers = workers
        configuration.sweepInterval = sweepEvery
        configuration.sweepAfter = sweepAfter
        configuration.tokenLifetime = tokenLifetime.seconds
        configuration.limits = limits.limits
        configuration.requestRate = requestRate.rate
        configuration.allowedHosts = allowedHosts.names
        configuration.selfSignUp = signup == .open
        if !allowOrigins.isEmpty { configuration.allowedOrigins = allowOrigins }
        do {
            try await LocalCloud.run(configuration) { endpoints in
                let text = (endpoints.lines + ["overview: \(endpoints.overview)"]).joined(separator: "\n") + "\n"
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        } catch let error as LocalCloudError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

extension CloudCommand: AllowedHostsHelp {
    static let allowedHostsScope = ""
    static let rebindingHarm = "read the mailbox"
}

extension SignUpPolicy: ExpressibleByArgument {}

/// `site cloud invite EMAIL`: an account made by the administrator, as `infra/invite` makes one in production.
struct CloudInvite: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invite",
        abstract: "Invite someone: make their account and mail a temporary password to the local mailbox.",
        discussion: """
        Makes the account as Cognito's AdminCreateUser does (what `infra/invite` runs in production): \
        its e-mail verified, its status FORCE_CHANGE_PASSWORD, and an invitation in the local \
        mailbox holding the temporary password. The invited person signs in with it, chooses a \
        password and sets up the authenticator app, all on the sign-in page. It writes the data \
        folder (`site cloud`'s --data, .local-cloud unless given), so the cloud may be running or not.

        Examples:
          site cloud invite ana@example.com
          site cloud --data /tmp/cloud invite ana@example.com
        """)

    @Argument(help: ArgumentHelp("The e-mail address of the person invited (also their username).", valueName: "EMAIL"))
    var email: String

    /// `site cloud`'s options: its --data names the data folder here too.
    @ParentCommand var cloud: CloudCommand

    func validate() throws {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !email.contains(where: \.isWhitespace) else {
            throw ValidationError("'\(email)' is not an e-mail address, like ana@example.com.")
        }
    }

    func run() async throws {
        let configuration = LocalCloudConfiguration(dataDirectory: URL(fileURLWithPath: cloud.data).standardizedFileURL)
        do {
            let invitation = try await LocalCloud.invite(email: email, configuration: configuration)
            print("invited \(invitation.username): the temporary password is in the local mailbox (/_local/mailbox); "
                  + "they sign in with it, then choose a password and set up two-step verification")
        } catch let error as LocalCloudError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
