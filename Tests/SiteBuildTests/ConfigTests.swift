import Testing
@testable import SiteBuild

@Suite struct ConfigTests {
    @Test func parsesTheStandardConfig() throws {
        let config = try SiteConfig.parse(Fixture.siteYAML)
        #expect(config.title == "Fixture Site")
        #expect(config.languages == ["pt-BR", "en"] && config.defaultLanguage == "pt-BR")
        #expect(config.environments.map(\.name) == ["local", "production"])
        let production = try #require(config.environment(named: "production"))
        #expect(production.cognito?.effectiveEndpoint == "https://cognito-idp.eu-west-1.amazonaws.com")
        #expect(production.apiBaseURL == "https://api.example.com/v1")
        #expect(production.publish == .init(bucket: "example-site", region: "eu-west-1", prefix: nil, distributionIds: ["E2QWRUHAPOMQZL"]))
        #expect(production.connectOrigins == ["https://cognito-idp.eu-west-1.amazonaws.com", "https://api.example.com", "https://temp.s3.eu-west-1.amazonaws.com"])
    }

    @Test func onlyTitleIsRequired() throws {
        let config = try SiteConfig.parse("title: Minimal\n")
        #expect(config.languages == ["en"] && config.environments.isEmpty && config.markdown == MarkdownOptions())
    }

    @Test func missingTitle() {
        #expect(throws: Diagnostic("missing required key; add e.g. `title: My Site`", at: SourceLocation(file: "site/site.yml", line: 1, column: 1), key: "title")) {
            try SiteConfig.parse("languages: [en]\n")
        }
    }

    @Test(arguments: [
        ("languages: []", "site/site.yml:2:12: languages: list at least one language; the first is the default"),
        ("languages: [english]", "site/site.yml:2:13: languages[0]: 'english' is not a language tag like en or pt-BR"),
        ("languages: [en, en]", "site/site.yml:2:17: languages[1]: language 'en' is listed twice"),
        ("markdown: {unsafeHTML: maybe}", "site/site.yml:2:24: markdown.unsafeHTML: expected true or false"),
        ("environments: {prod: {cognito: {region: eu-west-1, userPoolId: us-east-1_Abc, clientId: abc}}}",
         "site/site.yml:2:64: environments.prod.cognito.userPoolId: user pool 'us-east-1_Abc' is in us-east-1 but cognito.region is eu-west-1"),
        ("environments: {prod: {cognito: {region: eu-west-1, userPoolId: eu-west-1_Abc, clientId: 'a b'}}}",
         "site/site.yml:2:89: environments.prod.cognito.clientId: malformed app client id 'a b': expected letters and digits only (Cognito's are 26 characters)"),
        ("environments: {prod: {media: {origin: 'https://cdn.example.com'}}}",
         "site/site.yml:2:30: environments.prod.media: 'media' is no longer a setting: videos and thumbnails are served from /media/ on the site's own origin (CloudFront's /media/* behaviour; `site serve` forwards it to the local cloud). Remove this section."),
        ("environments: {prod: {api: {baseUrl: '//api.example.com'}}}",
         "site/site.yml:2:38: environments.prod.api.baseUrl: '//api.example.com' must be a path like /api or an absolute URL, not a scheme-relative one"),
        ("environments: {prod: {api: {baseUrl: '/api?x'}}}",
         "site/site.yml:2:38: environments.prod.api.baseUrl: '/api?x' must be a path like /api: ASCII, no spaces, query or fragment"),
        ("environments: {prod: {api: {baseUrl: 'https://user:pw@api.example.com'}}}",
         "site/site.yml:2:38: environments.prod.api.baseUrl: 'https://user:pw@api.example.com' must not contain credentials"),
        ("environments: {prod: {publish: {bucket: My_Bucket, region: eu-west-1}}}",
         "site/site.yml:2:41: environments.prod.publish.bucket: 'My_Bucket' is not an S3 bucket name (3–63 lowercase letters, digits, '.' and '-')"),
        ("environments: {prod: {api: {}}}", "site/site.yml:2:28: environments.prod.api: missing required key 'baseUrl'"),
    ])
    func invalidValuesNameTheirKey(yaml: String, message: String) {
        expectError(message) { _ = try SiteConfig.parse("title: T\n" + yaml + "\n") }
    }

    @Test func theAPIMayBeAPathOnTheSitesOwnOrigin() throws {
        let config = try SiteConfig.parse("title: T\nenvironments: {prod: {api: {baseUrl: '/api/'}, uploads: {origins: ['https://up.example.com']}}}\n")
        #expect(config.environments[0].apiBaseURL == "/api")
        // Same-origin calls need no entry of their own in connect-src.
        #expect(config.environments[0].connectOrigins == ["https://up.example.com"])
    }

    @Test func plainHTTPIsAllowedOnlyInTheLocalEnvironment() throws {
        let local = try SiteConfig.parse("title: T\nenvironments: {local: {api: {baseUrl: 'http://127.0.0.1:9400/api/'}}}\n")
        #expect(local.environments[0].apiBaseURL == "http://127.0.0.1:9400/api")
        #expect(throws: Diagnostic.self) {
            try SiteConfig.parse("title: T\nenvironments: {dev: {api: {baseUrl: 'http://127.0.0.1:9400/api'}}}\n")
        }
    }

    @Test func overridesReplaceFieldsOfTheSelectedEnvironment() throws {
        let config = try SiteConfig.parse(Fixture.siteYAML)
        let environment = try SiteBuilder.selectEnvironment("production", in: config, overrides: [
            "SITE_COGNITO_USER_POOL_ID": "eu-west-1_RealPool42",
            "SITE_COGNITO_CLIENT_ID": "realclientid",
            "SITE_UPLOADS_ORIGINS": "https://a.example.com, https://b.example.com/",
            "SITE_PUBLISH_DISTRIBUTION_IDS": "EAAAAAAAAAAAA,EBBBBBBBBBBBB",
            "UNRELATED": "ignored",
        ])
        #expect(environment?.cognito?.userPoolId == "eu-west-1_RealPool42")
        #expect(environment?.cognito?.clientId == "realclientid")
        #expect(environment?.uploadOrigins == ["https://a.example.com", "https://b.example.com"])
        #expect(environment?.publish?.distributionIds == ["EAAAAAAAAAAAA", "EBBBBBBBBBBBB"])
        #expect(environment?.apiBaseURL == "https://api.example.com/v1")
    }

    @Test func overrideThatBreaksThePoolRegionPairingIsAnError() throws {
        let config = try SiteConfig.parse(Fixture.siteYAML)
        #expect(throws: Diagnostic.self) {
            try SiteBuilder.selectEnvironment("production", in: config, overrides: ["SITE_COGNITO_REGION": "us-west-2"])
        }
    }

    @Test func environmentDefaultsToLocal() throws {
        let config = try SiteConfig.parse(Fixture.siteYAML)
        #expect(try SiteBuilder.selectEnvironment(nil, in: config, overrides: [:])?.name == "local")
        let noLocal = try SiteConfig.parse("title: T\nenvironments: {prod: {api: {baseUrl: 'https://x.example.com'}}}\n")
        #expect(throws: Diagnostic("choose an environment with --env; site/site.yml defines: prod", at: SourceLocation(file: "site/site.yml"), key: "--env")) {
            try SiteBuilder.selectEnvironment(nil, in: noLocal, overrides: [:])
        }
    }
}
