import ArgumentParser
import AsyncHTTPClient
import Foundation
import AWSClient
import Publish
import SigV4
import SiteBuild

struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Sync dist/ to the environment's S3 bucket and invalidate CloudFront.",
        discussion: """
        Compares the build's manifest with the bucket by content: every object carries the SHA-256 of \
        its bytes and a hash of its headers in its metadata, so only new and changed objects go up \
        (a rebuild with no source change uploads nothing), and header-only changes are caught.

        Order: new fingerprinted assets, then other files, then HTML, then deletes, then the \
        invalidation, so no page is ever live before what it references. A failure stops before the \
        HTML goes up; running again picks up where it stopped. Fingerprinted assets that leave the \
        site stay for a grace period (--grace-days) so pages cached before the deploy keep working. \
        Each deploy is recorded under .site/deploys/ in the bucket.

        The target comes from site.yml: environments.NAME.publish (bucket, region, prefix, \
        distributionIds, cacheControl rules), overridable with SITE_PUBLISH_* variables. The build in \
        dist/ must have been made for the same environment.

        With --stack NAME the bucket, its region and the distribution come from the deployed \
        CloudFormation stack's outputs SiteBucket, SiteBucketRegion and DistributionId (the stack \
        must have every output `site help build` lists), and SITE_PUBLISH_* variables still win: \
        site.yml < stack outputs < SITE_*. The stack is looked up in \(StackLookup.regionHelp(hasRegionFlag: true)); \
        AWS_ENDPOINT_URL_CLOUDFORMATION or AWS_ENDPOINT_URL sets another endpoint. The bucket is \
        then addressed in its own region, SiteBucketRegion (or SITE_PUBLISH_REGION).

        Credentials, in order: --profile; AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / \
        AWS_SESSION_TOKEN; AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (CI with OIDC); the profile \
        AWS_PROFILE or default in ~/.aws/credentials and ~/.aws/config (static keys, role_arn with \
        source_profile or credential_source, web_identity_token_file); container credentials \
        (AWS_CONTAINER_CREDENTIALS_FULL_URI / _RELATIVE_URI). Region: --region, AWS_REGION, \
        AWS_DEFAULT_REGION, the profile's region, then site.yml. Endpoints: AWS_ENDPOINT_URL_S3, \
        AWS_ENDPOINT_URL_CLOUDFRONT, AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL (a custom S3 endpoint is \
        addressed path-style).

        Examples:
          site build --env production && site publish --env production --dry-run
          site publish --env production --wait
          site publish --env production --stack video-prod   # the stack's bucket
          AWS_PROFILE=deploy site publish --env staging --json
        """)

    @OptionGroup var project: ProjectOptions

    @Option(name: .long, help: ArgumentHelp("The environment from site.yml to publish to (required).", valueName: "NAME"))
    var env: String

    @OptionGroup var stack: StackOption<PublishCommand>

    @Option(name: .long, help: ArgumentHelp("The build to publish (default: dist/ in the project).", valueName: "DIR"))
    var dist: String?

    @Option(name: .long, help: ArgumentHelp("Use this profile of ~/.aws/config and ~/.aws/credentials only.", valueName: "NAME"))
    var profile: String?

    @Option(name: .long, help: ArgumentHelp(
        "The bucket's region (default: AWS_REGION or AWS_DEFAULT_REGION, the profile's region, then site.yml); with --stack, the stack's (the bucket's is its SiteBucketRegion output).",
        valueName: "REGION"))
    var region: String?

    @Flag(name: .customLong("dry-run"), help: "Print the plan (each key and why) and change nothing.")
    var dryRun = false

    @Flag(help: "Wait until CloudFront has finished invalidating.")
    var wait = false

    @Option(name: .long, help: ArgumentHelp("Transfers in flight at once.", valueName: "N"))
    var jobs = 16

    @Option(name: .customLong("max-deletes"), help: ArgumentHelp("Refuse a publish that would delete more objects than this.", valueName: "N"))
    var maxDeletes = 256

    @Flag(name: .customLong("allow-many-deletes"), help: "Allow any number of deletes.")
    var allowManyDeletes = false

    @Option(name: .customLong("grace-days"), help: ArgumentHelp("Days fingerprinted assets stay after leaving the site.", valueName: "DAYS"))
    var graceDays = 7

    @Option(name: .customLong("multipart-above"), help: ArgumentHelp("Upload files larger than this many MiB in parts (at least 5).", valueName: "MiB"))
    var multipartAbove = 64

    @Option(name: .customLong("part-size"), help: ArgumentHelp("The size of each part of a multipart upload, in MiB (at least 5).", valueName: "MiB"))
    var partSize = 16

    @Flag(help: "Print a JSON summary (or the error) instead of text.")
    var json = false

    func validate() throws {
        guard jobs >= 1, jobs <= 256 else { throw ValidationError("--jobs must be between 1 and 256") }
        guard maxDeletes >= 0 else { throw ValidationError("--max-deletes must be 0 or more") }
        guard graceDays >= 0 else { throw ValidationError("--grace-days must be 0 or more") }
        // S3 refuses parts under 5 MiB (except the last) and more than 10,000 parts.
        guard multipartAbove >= 5 else { throw ValidationError("--multipart-above must be 5 MiB or more (S3's smallest part)") }
        guard partSize >= 5, partSize <= 5 * 1024 else { throw ValidationError("--part-size must be between 5 and 5120 MiB") }
    }

    func run() async throws {
        let started = Date()
        let variables = ProcessInfo.processInfo.environment
        let http = AWSTransport.makeHTTPClient(concurrency: jobs)
        let progress = PublishProgress(json: json, dryRun: dryRun)
        do {
            let report = try await publish(variables: variables, http: http, progress: progress)
            try? await http.shutdown()
            progress.finish(report, seconds: Date().timeIntervalSince(started))
        } catch {
            try? await http.shutdown()
            progress.fail(error)
            throw ExitCode.failure
        }
    }

    private func publish(variables: [String: String], http: HTTPClient, progress: PublishProgress) async throws -> PublishReport {
        // With --stack the credentials are resolved once, for the lookup, and serve the publish too.
        var found: StackLookup.Found?
        if stack.name != nil {
            let siteRegion = try SiteBuilder.environment(env, projectRoot: project.projectRoot, overrides: [:])?.publish?.region
            found = try await stack.lookUp(siteRegion: siteRegion, regionFlag: self.region, profile: profile, variables: variables, http: http)
        }
        if let found { progress.stack(found.outputs.stack, region: found.region) }
        let stackOutputs = found?.outputs
        guard let environment = try SiteBuilder.environment(env, projectRoot: project.projectRoot, stack: stackOutputs, overrides: variables),
              let target = environment.publish else {
            throw PublishRefusal(message: "\(SiteConfig.file): environment '\(env)' has no publish section (bucket, region, distributionIds)")
        }
        // A stack knows its bucket's region for certain; without one, the usual lookup.
        let region = stackOutputs != nil ? target.region
            : self.region ?? variables["AWS_REGION"] ?? variables["AWS_DEFAULT_REGION"]
                ?? CredentialChain.profileRegion(variables: variables, profile: profile) ?? target.region
        let endpoints = try ServiceEndpoints.resolve(region: region, bucket: target.bucket, variables: variables)
        let provider = found?.credentials ?? CredentialProvider(
            chain: CredentialChain(variables: variables, profile: profile, region: region, sts: endpoints.sts, http: http))
        let resolved = try await provider.current()
        progress.credentials(resolved.source, region: region)

        let transport = AWSTransport(http: http) { try await provider.current().credentials.credentials }
        var options = PublishOptions(distFolder: dist ?? project.projectRoot + "/dist", environment: env, target: target)
        options.concurrency = jobs
        options.maxDeletes = maxDeletes
        options.allowManyDeletes = allowManyDeletes
        options.graceSeconds = Int64(graceDays) * 86_400
        options.dryRun = dryRun
        options.wait = wait
        options.multipartThreshold = Int64(multipartAbove) << 20
        options.partSize = Int64(partSize) << 20
        let publisher = Publisher(
            s3: S3Client(transport: transport, bucket: target.bucket, region: region,
                         endpoint: endpoints.s3, pathStyle: endpoints.s3PathStyle),
            cloudFront: CloudFrontClient(transport: transport, endpoint: endpoints.cloudFront),
            options: options, events: progress.handle)
        let report = try await publisher.run { await transport.clock.now() }
        progress.requests(await transport.counter.byMethod, retries: await transport.counter.retries)
        return report
    }
}

extension PublishCommand: StackReading {
    static let stackHelp = "Publish to the bucket and distribution of this deployed CloudFormation stack's outputs (SITE_PUBLISH_* still win), e.g. --stack video-prod."
    static let hasRegionFlag = true
}
