import Testing

/// `--stack` as a person meets it on the command line; the lookup itself is tested end to end
/// (Tests/EndToEnd/test_stack_outputs.py).
@Suite struct StackCommandLineTests {
    @Test func bothCommandsDocumentTheStackOptionWithAnExample() throws {
        // The help is wrapped to the terminal's width: compare with single spaces.
        func help(_ command: String) throws -> String {
            let result = try SiteCommand.run([command, "--help"])
            #expect(result.status == 0)
            return result.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }
        for command in ["build", "publish"] {
            let text = try help(command)
            for phrase in ["--stack <NAME>", "--stack video-prod", "still win", "site.yml < stack outputs < SITE_*", "AWS_REGION"] {
                #expect(text.contains(phrase), "\(command) --help lacks \(phrase)")
            }
        }
        #expect(try help("build").contains("UserPoolClientId → cognito.clientId"))
    }

    @Test func stackWithoutEnvIsRefusedBeforeAnyLookup() throws {
        let result = try SiteCommand.run(["build", "--stack", "video-prod"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--stack needs --env"))
    }
}
