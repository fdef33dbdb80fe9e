import AsyncHTTPClient
import AWSClient
import SigV4
import Testing

@Suite("credentials")
struct CredentialTests {
    @Test("the environment's keys and session token, as Lambda sets them, come first")
    func lambdaEnvironment() async throws {
        // The environment's keys need no HTTP call; the shared client is there for the other sources.
        let chain = CredentialChain(
            variables: ["AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
                        "AWS_SESSION_TOKEN": "token", "HOME": "/nonexistent"],
            profile: nil, region: "us-east-1", sts: Endpoint(scheme: "http", host: "127.0.0.1", port: 9), http: .shared)
        let resolved = try await chain.resolve()
        #expect(resolved.credentials.credentials.accessKeyId == "ASIAEXAMPLE")
        #expect(resolved.credentials.credentials.sessionToken == "token")
        #expect(resolved.source == "environment variables")
    }
}
