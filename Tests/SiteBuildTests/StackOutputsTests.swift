import Testing
@testable import SiteBuild

@Suite("stack outputs")
struct StackOutputsTests {
    /// Every output the production template emits, with values unlike the fixture's site.yml.
    static let outputs = [
        "CognitoRegion": "us-west-2",
        "UserPoolId": "us-west-2_StackPool9",
        "UserPoolClientId": "stackclient0000000000000001",
        "ApiEndpoint": "https://abc123.execute-api.us-west-2.amazonaws.com/",
        "UploadOrigin": "https://video-temp.s3.us-west-2.amazonaws.com",
        "SiteBucket": "video-prod-site-1a2b3c",
        "SiteBucketRegion": "us-west-2",
        "DistributionId": "E3STACKDISTRIB",
        "SomethingElse": "ignored",
    ]
    static let stack = StackOutputs(stack: "video-prod", outputs: outputs)

    func production(stack: StackOutputs = StackOutputsTests.stack, overrides: [String: String] = [:],
                    yaml: String = Fixture.siteYAML) throws -> Environment? {
        try SiteBuilder.selectEnvironment("production", in: try SiteConfig.parse(yaml), stack: stack, overrides: overrides)
    }

    @Test func outputsReplaceSiteYAMLValuesNormalisedAsTheFilesAre() throws {
        let environment = try #require(try production())
        #expect(environment.cognito == .init(region: "us-west-2", userPoolId: "us-west-2_StackPool9",
                                             clientId: "stackclient0000000000000001", endpoint: nil))
        // The API is called on the site's own origin: the stack's execute-api host is not the app's to use.
        #expect(environment.apiBaseURL == "https://api.example.com/v1")
        #expect(environment.uploadOrigins == ["https://video-temp.s3.us-west-2.amazonaws.com"])
        #expect(environment.publish == .init(bucket: "video-prod-site-1a2b3c", region: "us-west-2", prefix: nil,
                                             distributionIds: ["E3STACKDISTRIB"]))
    }

    @Test func siteVariablesWinOverOutputs() throws {
        let environment = try #require(try production(overrides: [
            "SITE_API_BASE_URL": "https://api.override.example",
            "SITE_PUBLISH_DISTRIBUTION_IDS": "EOVERRIDE1,EOVERRIDE2",
            "SITE_COGNITO_USER_POOL_ID": "us-west-2_FromCI",
        ]))
        #expect(environment.apiBaseURL == "https://api.override.example")
        #expect(environment.publish?.distributionIds == ["EOVERRIDE1", "EOVERRIDE2"])
        #expect(environment.cognito?.userPoolId == "us-west-2_FromCI")
        #expect(environment.cognito?.clientId == "stackclient0000000000000001")
        #expect(environment.publish?.bucket == "video-prod-site-1a2b3c")
    }

    @Test func aMissingOutputIsNamedWithTheFieldItWasNeededFor() throws {
        var outputs = Self.outputs
        outputs["UploadOrigin"] = nil
        expectError("--stack: stack 'video-prod' has no output 'UploadOrigin' (needed for uploads.origins); deploy the stack's current template or set SITE_UPLOADS_ORIGINS") {
            _ = try production(stack: StackOutputs(stack: "video-prod", outputs: outputs))
        }
    }

    @Test func everyMissingOutputIsReported() throws {
        do {
            _ = try production(stack: StackOutputs(stack: "half-made", outputs: [:]))
            Issue.record("no error")
        } catch let failure as BuildFailure {
            #expect(failure.diagnostics.count == StackOutputs.fields.count)
            #expect(failure.diagnostics.allSatisfy { $0.message.hasPrefix("stack 'half-made' has no output '") })
        }
    }

    @Test func aMissingOutputThatASiteVariableSetsIsNoError() throws {
        var outputs = Self.outputs
        outputs["UploadOrigin"] = nil
        let environment = try production(stack: StackOutputs(stack: "video-prod", outputs: outputs),
                                         overrides: ["SITE_UPLOADS_ORIGINS": "https://up.override.example"])
        #expect(environment?.uploadOrigins == ["https://up.override.example"])
    }

    @Test func outputsAreCheckedLikeTheVariablesAndNamedWhereTheyCameFrom() throws {
        var outputs = Self.outputs
        outputs["UploadOrigin"] = "http://up.example.com"
        expectError("stack video-prod output UploadOrigin: production.uploads.origins: 'http://up.example.com' uses http; only https is allowed outside the local environment") {
            _ = try production(stack: StackOutputs(stack: "video-prod", outputs: outputs))
        }
        outputs = Self.outputs
        outputs["UserPoolId"] = "eu-west-1_OtherRegion"
        expectError("stack video-prod outputs: production.cognito.userPoolId: user pool 'eu-west-1_OtherRegion' is in eu-west-1 but cognito.region is us-west-2") {
            _ = try production(stack: StackOutputs(stack: "video-prod", outputs: outputs))
        }
    }

    @Test func theStackProvidesSectionsSiteYAMLLacksAndKeepsTheRest() throws {
        let yaml = """
            title: T
            environments:
              production:
                publish: {bucket: placeholder, region: eu-west-1, prefix: site/, distributionIds: [EPLACEHOLDER]}
                session: {idleMinutes: 15}
            """
        let environment = try #require(try production(yaml: yaml))
        #expect(environment.cognito?.userPoolId == "us-west-2_StackPool9")
        #expect(environment.publish?.prefix == "site/")
        #expect(environment.idleMinutes == 15)
    }

    @Test func theBuildEmbedsTheStacksConfig() throws {
        let fixture = try Fixture()
        _ = try SiteBuilder.build(BuildOptions(projectRoot: fixture.root, environment: "production",
                                               processEnvironment: ["SITE_API_BASE_URL": "/api"],
                                               stackOutputs: Self.stack))
        // The config goes where modules run; the policy on every page.
        let login = try fixture.text("dist/login/index.html")
        #expect(login.contains(#""userPoolId":"us-west-2_StackPool9""#))
        #expect(login.contains(#""api":{"baseUrl":"/api"}"#))
        let index = try fixture.text("dist/index.html")
        #expect(index.contains("img-src 'self'; media-src 'self' blob:; connect-src 'self' https://cognito-idp.us-west-2.amazonaws.com https://video-temp.s3.us-west-2.amazonaws.com;"))
    }
}
