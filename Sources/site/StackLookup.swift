import AWSClient
import ArgumentParser
import AsyncHTTPClient
import SiteBuild

/// What a command that reads a stack says of `--stack` in its help, and whether it has `--region`.
protocol StackReading {
    static var stackHelp: String { get }
    /// Whether the command has a `--region`, which then names the region the stack is looked up in.
    static var hasRegionFlag: Bool { get }
}

/// `--stack NAME` of `site build` and `site publish`, and the lookup of that stack's outputs.
struct StackOption<Command: StackReading>: ParsableArguments {
    @Option(name: .customLong("stack"), help: ArgumentHelp(Command.stackHelp, valueName: "NAME"))
    var name: String?

    /// The named stack's outputs, read in the region the command's `--region` (`regionFlag`),
    /// AWS_REGION, AWS_DEFAULT_REGION or the environment's `siteRegion` names, with the credentials
    /// that read them; nil without `--stack`.
    func lookUp(siteRegion: String?, regionFlag: String?, profile: String?, variables: [String: String],
                 http: HTTPClient) async throws -> StackLookup.Found? {
        guard let name else { return nil }
        guard let region = StackLookup.region(flag: regionFlag, variables: variables, siteRegion: siteRegion) else {
            throw StackLookup.NoRegion(stack: name, hasRegionFlag: Command.hasRegionFlag)
        }
        let credentials = try StackLookup.credentials(variables: variables, profile: profile, region: region.region, http: http)
        let outputs = try await StackLookup.outputs(of: name, region: region, hasRegionFlag: Command.hasRegionFlag,
                                                    credentials: credentials, variables: variables, http: http)
        return StackLookup.Found(outputs: outputs, region: region.region, credentials: credentials)
    }
}

/// `--stack NAME` of `site build` and `site publish`: reads a deployed stack's outputs with
/// CloudFormation's DescribeStacks, signed with the usual credential chain.
enum StackLookup {
    /// A stack's outputs, the region they were read in, and the credentials that read them.
    struct Found {
        var outputs: StackOutputs
        var region: String
        var credentials: CredentialProvider
    }

    /// What `--help` says about the region the stack is looked up in.
    static func regionHelp(hasRegionFlag: Bool) -> String {
        (hasRegionFlag ? "the region of --region, else " : "the region of ")
            + "AWS_REGION or AWS_DEFAULT_REGION, else publish.region of the environment in site.yml"
    }

    /// The region to look the stack up in, and where that came from (for messages): `flag`, then
    /// AWS_REGION, AWS_DEFAULT_REGION, then site.yml's `publish.region`.
    static func region(flag: String?, variables: [String: String], siteRegion: String?) -> (region: String, source: String)? {
        if let flag { return (flag, "--region") }
        for variable in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
            if let value = variables[variable], !value.isEmpty { return (value, variable) }
        }
        return siteRegion.map { ($0, "publish.region in \(SiteConfig.file)") }
    }

    /// No region to look the stack up in.
    struct NoRegion: Error, CustomStringConvertible {
        var stack: String
        var hasRegionFlag: Bool
        var description: String {
            "no region to look up stack '\(stack)' in: set AWS_REGION\(hasRegionFlag ? ", pass --region" : "") or give the environment a publish.region in \(SiteConfig.file)"
        }
    }

    /// The credentials `site` signs with, for `region`: the chain `site help publish` describes.
    static func credentials(variables: [String: String], profile: String?, region: String, http: HTTPClient) throws -> CredentialProvider {
        let sts = try Endpoint.resolve(service: "sts", region: region, variables: variables)
        return CredentialProvider(chain: CredentialChain(variables: variables, profile: profile, region: region, sts: sts, http: http))
    }

    /// The outputs of `stack` in `region`; a stack unknown there is an error naming where the region came from.
    static func outputs(of stack: String, region: (region: String, source: String), hasRegionFlag: Bool,
                        credentials: CredentialProvider, variables: [String: String], http: HTTPClient) async throws -> StackOutputs {
        let endpoint = try Endpoint.resolve(service: "cloudformation", region: region.region, variables: variables)
        let transport = AWSTransport(http: http) { try await credentials.current().credentials.credentials }
        let client = CloudFormationClient(transport: transport, endpoint: endpoint, region: region.region)
        do {
            return StackOutputs(stack: stack, outputs: try await client.outputs(ofStack: stack))
        } catch let notFound as CloudFormationClient.StackNotFound {
            throw StackMissing(notFound: notFound, regionSource: region.source, hasRegionFlag: hasRegionFlag)
        }
    }

    /// DescribeStacks did not find the stack; says where the region it looked in came from.
    struct StackMissing: Error, CustomStringConvertible {
        var notFound: CloudFormationClient.StackNotFound
        var regionSource: String
        var hasRegionFlag: Bool
        var description: String {
            "stack '\(notFound.stack)' does not exist in \(notFound.region) (the region from \(regionSource)); "
                + "check the stack's name, or name the region it was deployed to with \(hasRegionFlag ? "--region or " : "")AWS_REGION"
        }
    }
}
