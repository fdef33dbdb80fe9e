import ArgumentParser

// The options more than one command has, each declared once: a group per option (or per options
// that go together), placed with @OptionGroup where the option stands in each command's help. Where
// the commands describe an option in different words, the group takes them from the command.

/// Where the project is: `--site DIR` may name the project folder or its `site/` folder.
struct ProjectOptions: ParsableArguments {
    @Option(name: .customLong("site"), help: ArgumentHelp(
        "The project folder (holding site/site.yml and assets/), or its site/ folder.", valueName: "DIR"))
    var site: String = "."

    var projectRoot: String {
        var path = site
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        if !fileExists(path + "/site/site.yml") && fileExists(path + "/site.yml") {
            return path + "/.."
        }
        return path
    }
}

/// `--token-lifetime` of `site serve` and `site cloud`: how long the local cloud's tokens live.
struct TokenLifetimeOption: ParsableArguments {
    @Option(name: .customLong("token-lifetime"), help: ArgumentHelp(
        "Seconds the local cloud's access and ID tokens live (default 900, as production's); a short one lets you watch the app refresh them.",
        valueName: "SECONDS"))
    var seconds: Int = 900

    func validate() throws {
        guard (10...86400).contains(seconds) else { throw ValidationError("--token-lifetime must be between 10 and 86400 seconds.") }
    }
}

/// What a command's `--allowed-host` help says about the servers it guards.
protocol AllowedHostsHelp {
    /// Which servers the names apply to, said after "IP addresses" (empty, or " (both servers)").
    static var allowedHostsScope: String { get }
    /// What a page on another site could otherwise do through DNS rebinding ("read the mailbox").
    static var rebindingHarm: String { get }
}

/// `--allowed-host NAME` (repeatable) of `site serve` and `site cloud`: the host names besides
/// loopback ones that requests may name in Host.
struct AllowedHostsOption<Command: AllowedHostsHelp>: ParsableArguments {
    @Option(name: .customLong("allowed-host"), parsing: .singleValue, help: ArgumentHelp(
        "A host name requests may use besides localhost, names under .localhost and IP addresses\(Command.allowedHostsScope); repeatable. Requests naming any other host in Host get 403, so a page on another site cannot \(Command.rebindingHarm) through DNS rebinding.",
        valueName: "NAME"))
    var names: [String] = []
}
