import ArgumentParser
import Dispatch
import Foundation
import NIOCore
import NIOPosix
import SiteBuild

@main
enum Main {
    /// The servers (`serve`, `cloud`) run Swift concurrency on the network event loops, so a
    /// request is not handed between two thread pools on its way (which halved the dev server's
    /// request rate). That must happen on the main thread before any task starts; the command then
    /// runs as a task while the main thread serves the main queue.
    static func main() {
        if let command = CommandLine.arguments.dropFirst().first, ["serve", "cloud"].contains(command) {
            _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        Task {
            await Site.main()
            exit(0)
        }
        dispatchMain()
    }
}

struct Site: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "site",
        abstract: "Build, serve and publish the SStech Video frontend.",
        discussion: """
        The project folder holds site/ (site.yml, layouts/, partials/, pages/, i18n/) and \
        assets/.

          site build [--env NAME]     write dist/ (--env production to publish)
          site serve                  the app with live reload and the local cloud
          site cloud                  the local cloud alone
          site publish --env NAME     send dist/ to S3 and CloudFront

        `site help <subcommand>` explains every option, with examples.
        """,
        version: siteVersion,
        subcommands: [Build.self, Serve.self, CloudCommand.self, PublishCommand.self])
}
