import HTTPServing
import Testing

@Suite("Hosts a loopback server answers (DNS rebinding)")
struct AllowedHostsTests {
    @Test("loopback names, names under .localhost, IP addresses and no Host at all are answered", arguments: [
        nil, "", "localhost", "localhost:8000", "LOCALHOST:9400", "localhost.", "app.localhost:8000", "a.b.localhost",
        "127.0.0.1", "127.0.0.1:8000", "127.1.2.3:1", "10.0.0.7:8000", "[::1]", "[::1]:8000", "[fe80::1%25eth0]:80",
    ])
    func answered(authority: String?) {
        #expect(AllowedHosts().allows(authority: authority))
    }

    @Test("any other name is refused, however it is dressed", arguments: [
        "evil.example", "evil.example:8000", "EVIL.example.", "localhost.evil.example", "evillocalhost",
        "127.0.0.1.evil.example", "1.2.3.4.5", "256.1.1.1", "127.0.0.1:80:80", "evil.example:abc", "[::1", "[::1]x",
        "evil.example/path", "evil example", "evil.example@127.0.0.1",
    ])
    func refused(authority: String) {
        #expect(!AllowedHosts().allows(authority: authority))
    }

    @Test("a configured name is answered, in any case and with any port; its lookalikes are not")
    func configured() {
        let hosts = AllowedHosts(["Dev.Example."])
        #expect(hosts.allows(authority: "dev.example:8000"))
        #expect(hosts.allows(authority: "DEV.EXAMPLE"))
        #expect(!hosts.allows(authority: "sub.dev.example"))
        #expect(!hosts.allows(authority: "dev.example.evil"))
    }

    @Test("the refusal names the host and the option that allows it")
    func refusal() {
        let text = AllowedHosts.refusal(authority: "Evil.Example:8000", option: "--allowed-host")
        #expect(text.contains("evil.example is not one of them"))
        #expect(text.contains("--allowed-host evil.example"))
    }
}
