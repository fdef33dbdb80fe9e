import AsyncHTTPClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore
import SigV4

/// Finds AWS credentials the way the AWS CLI does, and says where they came from.
///
/// With `--profile`, only that profile is used. Otherwise, in order: the environment
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` — what Lambda gives a function); web identity
/// (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`, the CI/OIDC case); the profile `AWS_PROFILE`
/// or `default` of the shared files (static keys, `role_arn` with `source_profile` or
/// `credential_source`, or `web_identity_token_file`); container credentials
/// (`AWS_CONTAINER_CREDENTIALS_FULL_URI` / `_RELATIVE_URI`).
public struct CredentialChain: Sendable {
    public var variables: [String: String]
    public var profile: String?
    public var region: String
    /// Where STS is reached, for assumed roles and web identity.
    public var sts: Endpoint
    let http: HTTPClient

    public init(variables: [String: String], profile: String?, region: String, sts: Endpoint, http: HTTPClient) {
        self.variables = variables
        self.profile = profile
        self.region = region
        self.sts = sts
        self.http = http
    }

    /// Credentials and a description of their source ("environment", "profile ci (assumed role …)").
    public struct Resolved: Sendable {
        public var credentials: TemporaryCredentials
        public var source: String
    }

    public struct NotFound: Error, CustomStringConvertible, Sendable {
        public var tried: [String]
        public var description: String {
            "no AWS credentials found. Tried, in order:\n" + tried.map { "  - \($0)" }.joined(separator: "\n")
                + "\nSet AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, configure a profile (aws configure) and pass --profile, or run where web identity or container credentials are provided."
        }
    }

    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public var message: String
        public var description: String { message }
    }

    public func resolve() async throws -> Resolved {
        let profiles = Self.sharedProfiles(variables: variables)
        if let profile {
            return try await fromProfile(profile, profiles: profiles, visited: [])
        }
        var tried: [String] = []
        if let environment = try fromEnvironment() { return environment }
        tried.append("environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: not set")

        if let tokenFile = variables["AWS_WEB_IDENTITY_TOKEN_FILE"], let role = variables["AWS_ROLE_ARN"] {
            return try await webIdentity(tokenFile: tokenFile, roleARN: role,
                                         sessionName: variables["AWS_ROLE_SESSION_NAME"], source: "web identity (AWS_WEB_IDENTITY_TOKEN_FILE)")
        }
        tried.append("web identity AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN: not set")

        let name = variables["AWS_PROFILE"] ?? variables["AWS_DEFAULT_PROFILE"] ?? "default"
        if profiles.settings[name] != nil {
            return try await fromProfile(name, profiles: profiles, visited: [])
        }
        if variables["AWS_PROFILE"] != nil {
            throw Invalid(message: "AWS_PROFILE names profile '\(name)', which is in neither \(profiles.credentialsPath) nor \(profiles.configPath)")
        }
        tried.append("profile 'default' in \(profiles.credentialsPath) and \(profiles.configPath): not found")

        if let container = try await fromContainer() { return container }
        tried.append("container credentials AWS_CONTAINER_CREDENTIALS_FULL_URI / _RELATIVE_URI: not set")
        throw NotFound(tried: tried)
    }

    // MARK: - Sources

    private func fromEnvironment() throws -> Resolved? {
        let key = variables["AWS_ACCESS_KEY_ID"].flatMap { $0.isEmpty ? nil : $0 }
        let secret = variables["AWS_SECRET_ACCESS_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        switch (key, secret) {
        case (nil, nil): return nil
        case (.some(let key), .some(let secret)):
            let token = variables["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            return Resolved(credentials: .init(credentials: Credentials(accessKeyId: key, secretAccessKey: secret, sessionToken: token),
                                               expiration: nil),
                            source: "environment variables")
        default:
            throw Invalid(message: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together; only \(key != nil ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY") is")
        }
    }

    private func fromProfile(_ name: String, profiles: Profiles, visited: [String]) async throws -> Resolved {
        guard let settings = profiles.settings[name] else {
            throw Invalid(message: "profile '\(name)' is in neither \(profiles.credentialsPath) nor \(profiles.configPath)")
        }
        if let role = settings["role_arn"] {
            let session = settings["role_session_name"]
            if let tokenFile = settings["web_identity_token_file"] {
                return try await webIdentity(tokenFile: tokenFile, roleARN: role, sessionName: session,
                                             source: "profile \(name) (web identity)")
            }
            let source: Resolved
            if let sourceProfile = settings["source_profile"] {
                guard !visited.contains(sourceProfile) else {
                    throw Invalid(message: "profiles \((visited + [name, sourceProfile]).joined(separator: " → ")) form a source_profile loop")
                }
                if sourceProfile == name {
                    source = try staticKeys(settings, profile: name)
                } else {
                    source = try await fromProfile(sourceProfile, profiles: profiles, visited: visited + [name])
                }
            } else if let credentialSource = settings["credential_source"] {
                switch credentialSource {
                case "Environment":
                    guard let environment = try fromEnvironment() else {
                        throw Invalid(message: "profile '\(name)' has credential_source = Environment but AWS_ACCESS_KEY_ID is not set")
                    }
                    source = environment
                case "EcsContainer":
                    guard let container = try await fromContainer() else {
                        throw Invalid(message: "profile '\(name)' has credential_source = EcsContainer but no container credentials are provided")
                    }
                    source = container
                default:
                    throw Invalid(message: "profile '\(name)': credential_source = \(credentialSource) is not supported (use Environment or EcsContainer)")
                }
            } else {
                throw Invalid(message: "profile '\(name)' has role_arn but neither source_profile, credential_source nor web_identity_token_file")
            }
            let sts = STSClient(transport: AWSTransport(http: http) { source.credentials.credentials },
                                endpoint: sts, region: settings["region"] ?? region)
            let assumed = try await sts.assumeRole(roleARN: role, sessionName: session ?? defaultSessionName(),
                                                   externalId: settings["external_id"],
                                                   durationSeconds: settings["duration_seconds"].flatMap { Int($0) })
            return Resolved(credentials: assumed, source: "profile \(name) (role \(role) via \(source.source))")
        }
        if settings["credential_process"] != nil || settings["sso_session"] != nil || settings["sso_start_url"] != nil {
            throw Invalid(message: "profile '\(name)' uses credential_process or SSO, which this tool does not run; export keys with `aws configure export-credentials --profile \(name) --format env` first")
        }
        return try staticKeys(settings, profile: name)
    }

    private func staticKeys(_ settings: [String: String], profile: String) throws -> Resolved {
        guard let key = settings["aws_access_key_id"], let secret = settings["aws_secret_access_key"] else {
            throw Invalid(message: "profile '\(profile)' has no aws_access_key_id and aws_secret_access_key")
        }
        return Resolved(credentials: .init(credentials: Credentials(accessKeyId: key, secretAccessKey: secret,
                                                                    sessionToken: settings["aws_session_token"]),
                                           expiration: nil),
                        source: "profile \(profile)")
    }

    private func webIdentity(tokenFile: String, roleARN: String, sessionName: String?, source: String) async throws -> Resolved {
        guard let data = FileManager.default.contents(atPath: tokenFile),
              let token = String(data: data, encoding: .utf8).map(trimmed), !token.isEmpty
        else {
            throw Invalid(message: "cannot read the web identity token file \(tokenFile)")
        }
        let sts = STSClient(transport: AWSTransport(http: http) { throw Invalid(message: "unsigned call") },
                            endpoint: sts, region: region)
        let assumed = try await sts.assumeRoleWithWebIdentity(roleARN: roleARN, sessionName: sessionName ?? defaultSessionName(),
                                                              token: token)
        return Resolved(credentials: assumed, source: "\(source), role \(roleARN)")
    }

    private func fromContainer() async throws -> Resolved? {
        let url: String
        if let full = variables["AWS_CONTAINER_CREDENTIALS_FULL_URI"], !full.isEmpty {
            guard let endpoint = Endpoint(url: full),
                  endpoint.scheme == "https" || ["127.0.0.1", "localhost", "[::1]", "169.254.170.2", "169.254.170.23", "[fd00:ec2::23]"].contains(endpoint.host)
            else {
                throw Invalid(message: "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to loopback or the container credentials host; got \(full)")
            }
            url = full
        } else if let relative = variables["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], !relative.isEmpty {
            url = "http://169.254.170.2" + relative
        } else {
            return nil
        }
        var request = HTTPClientRequest(url: url)
        if let tokenFile = variables["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] {
            guard let data = FileManager.default.contents(atPath: tokenFile), let token = String(data: data, encoding: .utf8) else {
                throw Invalid(message: "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(tokenFile)")
            }
            request.headers.add(name: "Authorization", value: trimmed(token))
        } else if let token = variables["AWS_CONTAINER_AUTHORIZATION_TOKEN"] {
            request.headers.add(name: "Authorization", value: token)
        }
        let response = try await http.execute(request, timeout: .seconds(10))
        let body = Array(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status.code == 200,
              let object = try? JSONDecoder().decode(ContainerCredentials.self, from: Data(body)),
              let key = object.AccessKeyId, let secret = object.SecretAccessKey
        else {
            throw Invalid(message: "container credentials at \(url) answered HTTP \(response.status.code) without AccessKeyId and SecretAccessKey")
        }
        return Resolved(credentials: .init(credentials: Credentials(accessKeyId: key, secretAccessKey: secret,
                                                                    sessionToken: object.Token),
                                           expiration: object.Expiration.flatMap { Timestamp(iso8601: $0) }),
                        source: "container credentials (\(url))")
    }

    /// What the container credentials endpoint answers.
    private struct ContainerCredentials: Decodable {
        var AccessKeyId: String?
        var SecretAccessKey: String?
        var Token: String?
        var Expiration: String?
    }

    // MARK: - Files

    struct Profiles {
        var settings: [String: [String: String]]
        var credentialsPath: String
        var configPath: String
    }

    static func sharedProfiles(variables: [String: String]) -> Profiles {
        let home = variables["HOME"] ?? FileManager.default.homeDirectoryForCurrentUser.path
        let credentialsPath = variables["AWS_SHARED_CREDENTIALS_FILE"] ?? home + "/.aws/credentials"
        let configPath = variables["AWS_CONFIG_FILE"] ?? home + "/.aws/config"
        func read(_ path: String, config: Bool) -> SharedConfigFile {
            let text = FileManager.default.contents(atPath: path).flatMap { String(data: $0, encoding: .utf8) } ?? ""
            return SharedConfigFile(parsing: text, isConfigFile: config)
        }
        return Profiles(settings: SharedConfigFile.merged(config: read(configPath, config: true),
                                                          credentials: read(credentialsPath, config: false)),
                        credentialsPath: credentialsPath, configPath: configPath)
    }

    /// The region the selected profile names, for the region lookup (flag, env, profile, site.yml).
    public static func profileRegion(variables: [String: String], profile: String?) -> String? {
        let name = profile ?? variables["AWS_PROFILE"] ?? variables["AWS_DEFAULT_PROFILE"] ?? "default"
        return sharedProfiles(variables: variables).settings[name]?["region"]
    }

    private func defaultSessionName() -> String { "site-publish-\(Timestamp.now.secondsSince1970)" }
}

/// Hands out current credentials, resolving again shortly before temporary ones expire.
public actor CredentialProvider {
    let chain: CredentialChain
    private var resolved: CredentialChain.Resolved?

    public init(chain: CredentialChain) { self.chain = chain }

    public func current() async throws -> CredentialChain.Resolved {
        if let resolved {
            guard let expiration = resolved.credentials.expiration,
                  expiration.secondsSince1970 - Timestamp.now.secondsSince1970 < 300 else { return resolved }
        }
        let fresh = try await chain.resolve()
        resolved = fresh
        return fresh
    }
}

/// `text` without leading and trailing white space and line breaks.
func trimmed(_ text: String) -> String {
    String(text.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
}
