import Foundation
import Testing
@testable import SiteBuild

@Suite("sign-up policy")
struct SignUpPolicyTests {
    @Test func siteYAMLNamesThePolicyPerEnvironment() throws {
        let config = try SiteConfig.parse("title: T\nenvironments: {local: {signup: invite}, prod: {signup: open}, shop: {signup: closed}}\n")
        #expect(config.environments.map(\.effectiveSignUp) == [.invite, .open, .closed])
    }

    @Test func unsetIsOpenLocallyAndByInvitationElsewhere() throws {
        let config = try SiteConfig.parse("title: T\nenvironments: {local: {}, production: {}}\n")
        #expect(config.environment(named: "local")?.effectiveSignUp == .open)
        #expect(config.environment(named: "production")?.effectiveSignUp == .invite)
    }

    @Test func aValueThatNamesNoPolicyIsAnErrorWithFileAndLine() {
        expectError("site/site.yml:3:18: environments.prod.signup: signup must be one of open, invite, closed, not 'friends'") {
            _ = try SiteConfig.parse("title: T\nenvironments:\n  prod: {signup: friends}\n")
        }
    }

    @Test func siteSignupOverridesTheFileAndIsChecked() throws {
        let config = try SiteConfig.parse("title: T\nenvironments: {prod: {signup: invite}}\n")
        #expect(try SiteBuilder.selectEnvironment("prod", in: config, overrides: ["SITE_SIGNUP": "closed"])?.effectiveSignUp == .closed)
        expectError("environment variable SITE_SIGNUP: prod.signup: signup must be one of open, invite, closed, not 'yes'") {
            _ = try SiteBuilder.selectEnvironment("prod", in: config, overrides: ["SITE_SIGNUP": "yes"])
        }
    }

    @Test func theStacksOutputSetsThePolicyAndItsAbsenceKeepsTheFiles() throws {
        let config = try SiteConfig.parse(Fixture.siteYAML)
        var outputs = StackOutputsTests.outputs
        #expect(try SiteBuilder.selectEnvironment("production", in: config, stack: .init(stack: "s", outputs: outputs), overrides: [:])?
            .effectiveSignUp == .invite)
        outputs["SignUpPolicy"] = "open"
        let stack = StackOutputs(stack: "s", outputs: outputs)
        #expect(try SiteBuilder.selectEnvironment("production", in: config, stack: stack, overrides: [:])?.effectiveSignUp == .open)
        #expect(try SiteBuilder.selectEnvironment("production", in: config, stack: stack, overrides: ["SITE_SIGNUP": "closed"])?
            .effectiveSignUp == .closed)
        outputs["SignUpPolicy"] = "Invite"
        expectError("stack s output SignUpPolicy: production.signup: signup must be one of open, invite, closed, not 'Invite'") {
            _ = try SiteBuilder.selectEnvironment("production", in: config, stack: .init(stack: "s", outputs: outputs), overrides: [:])
        }
    }

    @Test func theAppConfigCarriesThePolicy() throws {
        let config = try SiteConfig.parse("title: T\nenvironments: {prod: {signup: closed}}\n")
        let environment = try #require(config.environment(named: "prod"))
        #expect(AppConfig.json(environment).contains(#""signUp":"closed""#))
        let value = AppConfig.templateValue(environment)
        #expect(value["signUp"] as? String == "closed" && value["signUpOpen"] as? Bool == false && value["signUpInvite"] as? Bool == false)
    }
}
