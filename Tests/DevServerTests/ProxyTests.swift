import Foundation
import Synchronization
import Testing
@testable import DevServer

/// `site serve` forwards `/api`, `/api/…` and `/media/…` to the local cloud, as CloudFront does in
/// production; here the cloud is a small Hummingbird app (`Upstream`) and the client writes raw bytes.
@Suite("The dev server's proxy to the local cloud", .serialized)
struct ProxyTests {
    @Test("only /api, /api/… and /media/… are forwarded, by the raw path", arguments: [
        ("/api", true), ("/api/", true), ("/api?x=1", true), ("/api/videos/01J?limit=5", true), ("/media/videos/u/v/video.mp4", true),
        ("/media/", true), ("/api#x", true),
        ("/apis", false), ("/api.json", false), ("/media", false), ("/mediax/a", false), ("/API/videos", false), ("/%61pi/videos", false),
        ("/", false), ("/_site/live.js", false), ("/assets/api/x.js", false), ("/x/api/", false),
    ])
    func forwards(target: String, forwarded: Bool) {
        #expect(Proxy.forwards(target) == forwarded)
    }

    @Test("every method goes through with its target and body, and other paths stay the site's")
    func methods() async throws {
        try await withRig { rig in
            let host = "Host: 127.0.0.1:\(rig.port)"
            for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
                let body = method == "GET" ? [] : Array("body of \(method)".utf8)
                let answer = try await rig.send(["\(method) /api/echo?q=a%20b&x=1 HTTP/1.1", host, "Content-Length: \(body.count)"], body: body)
                #expect(answer.status == 200, "\(method)")
                #expect(answer.body == body, "\(method)")
                #expect(answer.value("X-Seen-Method") == method)
                #expect(rig.log.last?.target == "/api/echo?q=a%20b&x=1")
            }
            // A chunked body arrives whole.
            let chunked = try await rig.send(["POST /api/echo HTTP/1.1", host, "Transfer-Encoding: chunked"],
                                             body: Array("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n".utf8))
            #expect(chunked.status == 200 && chunked.text == "hello world")
            // Targets go through byte for byte, even those a URL parser would re-encode.
            for target in ["/api/echo?q=%zz&r=a%2Fb", "/api/echo?q={x}|y&s='%E2%82%AC'", "/api/echo/%E2%82%AC/../x;p=1?", "/api?"] {
                _ = try await rig.send(["GET \(target) HTTP/1.1", host, "X-Site-Proxy-Target: /elsewhere"])
                #expect(rig.log.last?.target == target)
                #expect(rig.log.last?.values("X-Site-Proxy-Target") == [])
            }
            let head = try await rig.send(["HEAD /api/echo HTTP/1.1", host], head: true)
            #expect(head.status == 200 && head.value("Content-Length") == "5" && rig.log.last?.method == "HEAD")
            #expect(try await rig.send(["GET /api HTTP/1.1", host]).status == 200)
            #expect(rig.log.last?.target == "/api")

            let forwarded = rig.log.seen.count
            for target in ["/apis", "/media", "/mediax/a", "/API/videos", "/nowhere/"] {
                let answer = try await rig.send(["GET \(target) HTTP/1.1", host])
                #expect(answer.status == 404 && answer.text.contains("Nothing here."), "\(target)")
            }
            #expect(try await rig.send(["GET /_site/live.js HTTP/1.1", host]).status == 200)
            // A method the site does not serve is still the site's 405 off the forwarded paths.
            #expect(try await rig.send(["POST /apis HTTP/1.1", host, "Content-Length: 0"]).status == 405)
            #expect(rig.log.seen.count == forwarded)
        }
    }

    @Test("requests on one connection, forwarded and not, are answered in order")
    func keepAlive() async throws {
        try await withRig { rig in
            let port = rig.port
            let answers = try await blocking {
                let connection = try RawConnection(port: port)
                defer { connection.close() }
                let host = "Host: 127.0.0.1:\(port)\r\n"
                try connection.send("POST /api/echo HTTP/1.1\r\n\(host)Content-Length: 3\r\n\r\none"
                    + "GET /_site/live.js HTTP/1.1\r\n\(host)\r\n"
                    + "POST /api/echo HTTP/1.1\r\n\(host)Content-Length: 3\r\n\r\ntwo"
                    + "GET / HTTP/1.1\r\n\(host)\r\n"
                    + "PUT /api/echo HTTP/1.1\r\n\(host)Content-Length: 5\r\nConnection: close\r\n\r\nthree")
                return try (0..<5).map { _ in try connection.readResponse() }
            }
            #expect(answers.map(\.status) == [200, 200, 200, 200, 200])
            #expect(answers[0].text == "one" && answers[2].text == "two" && answers[4].text == "three")
            #expect(answers[1].text.contains("EventSource") && answers[3].text.contains("Home."))
        }
    }

    @Test("bodies of several MiB stream both ways, byte for byte, without being held whole")
    func largeBodies() async throws {
        try await withRig { rig in
            let port = rig.port

            // Both ways at once: the upstream sends back each part as it reads it.
            let sent = pattern(12 << 20)
            let echoed = try await blocking {
                let connection = try RawConnection(port: port)
                defer { connection.close() }
                try connection.send("PUT /api/stream-echo HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Length: \(sent.count)\r\n\r\n")
                let writer = Thread {
                    for start in stride(from: 0, to: sent.count, by: 100_000) { try? connection.send(Array(sent[start..<min(sent.count, start + 100_000)])) }
                }
                writer.start()
                return try connection.readResponse()
            }
            let echoedWhole = echoed.body == sent
            #expect(echoed.status == 200 && echoed.body.count == sent.count && echoedWhole)

            // Upload: the upstream has the first MiB before the client sends the rest.
            let upload = pattern(6 << 20, seed: 5)
            let connection = try RawConnection(port: port)
            defer { connection.close() }
            try connection.send("PUT /api/count HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Length: \(upload.count)\r\n\r\n")
            try await blocking { try connection.send(Array(upload[..<(1 << 20)])) }
            #expect(try await rig.eventually { rig.log.received >= 1 << 20 }, "the first MiB did not reach the upstream before the rest was sent")
            try await blocking { try connection.send(Array(upload[(1 << 20)...])) }
            let counted = try await blocking { try connection.readResponse() }
            let storedWhole = rig.log.stored == upload
            #expect(counted.status == 200 && storedWhole)

            // Download: the client has the first half before the upstream sends the rest.
            let download = try RawConnection(port: port)
            defer { download.close() }
            try download.send("GET /media/gated HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n")
            let head = try await blocking { try download.readHead() }
            #expect(head.status == 200 && head.value("Content-Length") == String(Upstream.gated.count))
            let half = Upstream.gated.count / 2
            let first = try await blocking { try download.read(half) }
            let firstHalf = first == Array(Upstream.gated[..<half])
            #expect(!rig.log.gateOpen && firstHalf)
            rig.log.openGate()
            let rest = try await blocking { try download.read(Upstream.gated.count - half) }
            let secondHalf = rest == Array(Upstream.gated[half...])
            #expect(secondHalf)
        }
    }

    @Test("a GiB each way goes through without the process's memory growing by anything like it")
    func gigabytes() async throws {
        try await withRig { rig in
            let port = rig.port
            let size = 1 << 30
            let before = residentBytes()
            let peak = Mutex(before)
            let sampling = Task {
                while !Task.isCancelled {
                    let now = residentBytes()
                    peak.withLock { $0 = max($0, now) }
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
            defer { sampling.cancel() }
            let uploaded = try await blocking {
                let connection = try RawConnection(port: port, timeout: 60)
                defer { connection.close() }
                try connection.send("PUT /api/sink HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Length: \(size)\r\n\r\n")
                let block = pattern(1 << 20, seed: 3)
                for _ in 0..<(size >> 20) { try connection.send(block) }
                return try connection.readResponse()
            }
            #expect(uploaded.status == 200 && uploaded.text == String(size))
            let downloaded = try await blocking {
                let connection = try RawConnection(port: port, timeout: 60)
                defer { connection.close() }
                try connection.send("GET /media/big?bytes=\(size) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n")
                let head = try connection.readHead()
                var count = 0
                while count < size {
                    let part = try connection.read(min(size - count, 4 << 20))
                    if part.isEmpty { break }
                    count += part.count
                }
                return (head.status, count)
            }
            #expect(downloaded.0 == 200 && downloaded.1 == size)
            let growth = peak.withLock { $0 } - before
            #expect(growth < 256 << 20, "resident memory grew by \(growth >> 20) MiB")
        }
    }

    @Test("a cloud that answers before reading the body: the answer arrives, and the connection serves the next request")
    func earlyAnswer() async throws {
        try await withRig { rig in
            let port = rig.port
            let answers = try await blocking {
                let connection = try RawConnection(port: port)
                defer { connection.close() }
                let body = pattern(8 << 20, seed: 9)
                try connection.send("PUT /api/refuse HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Length: \(body.count)\r\n\r\n")
                let writer = Thread { try? connection.send(body) }
                writer.start()
                let refused = try connection.readResponse()
                // The rest of the refused body is read and dropped; then the next request is answered.
                while !writer.isFinished { usleep(10_000) }
                try connection.send("POST /api/echo HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Length: 4\r\n\r\nnext")
                return [refused, try connection.readResponse()]
            }
            #expect(answers[0].status == 413)
            #expect(answers[1].status == 200 && answers[1].text == "next")
        }
    }

    @Test("ranges, 206, 304 and 416 pass through with their fields")
    func ranges() async throws {
        try await withRig { rig in
            let host = "Host: 127.0.0.1:\(rig.port)"
            let path = "/media/videos/user/video/video.mp4"
            let part = try await rig.send(["GET \(path) HTTP/1.1", host, "Range: bytes=100-199"])
            #expect(part.status == 206 && part.body == Array(Upstream.video[100...199]))
            #expect(part.value("Content-Range") == "bytes 100-199/1000" && part.value("Accept-Ranges") == "bytes")
            #expect(part.value("ETag") == "\"v1\"" && part.value("Content-Length") == "100")
            let tail = try await rig.send(["GET \(path) HTTP/1.1", host, "Range: bytes=-10"])
            #expect(tail.status == 206 && tail.body == Array(Upstream.video.suffix(10)))
            let whole = try await rig.send(["GET \(path) HTTP/1.1", host])
            #expect(whole.status == 200 && whole.body == Upstream.video)
            let head = try await rig.send(["HEAD \(path) HTTP/1.1", host, "Range: bytes=0-9"], head: true)
            #expect(head.status == 206 && head.value("Content-Length") == "10" && head.value("Content-Range") == "bytes 0-9/1000")
            #expect(try await rig.send(["GET \(path) HTTP/1.1", host, "If-None-Match: \"v1\""]).status == 304)
            let refused = try await rig.send(["GET \(path) HTTP/1.1", host, "Range: bytes=2000-"])
            #expect(refused.status == 416 && refused.value("Content-Range") == "bytes */1000")
        }
    }

    @Test("each Set-Cookie stays a line of its own; challenges, back-off, encodings and redirects pass as they are")
    func answerFields() async throws {
        try await withRig { rig in
            let host = "Host: 127.0.0.1:\(rig.port)"
            let session = try await rig.send(["POST /api/session HTTP/1.1", host, "Authorization: Bearer token", "Content-Length: 0"])
            #expect(session.status == 204)
            #expect(session.values("Set-Cookie") == [
                "CloudFront-Policy=abc_-~; Path=/media/videos/user/; Secure; HttpOnly; SameSite=Strict",
                "CloudFront-Signature=x~y; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/media/videos/user/",
            ])
            #expect(session.value("Cache-Control") == "no-store")
            let refused = try await rig.send(["GET /api/videos HTTP/1.1", host])
            #expect(refused.status == 401 && refused.text == #"{"message":"Unauthorized"}"#)
            #expect(refused.value("WWW-Authenticate") == "Bearer realm=\"video\", error=\"invalid_token\"")
            #expect(refused.value("Content-Type") == "application/json")
            let busy = try await rig.send(["GET /api/busy HTTP/1.1", host])
            #expect(busy.status == 503 && busy.value("Retry-After") == "3")
            let encoded = try await rig.send(["GET /api/gzip HTTP/1.1", host, "Accept-Encoding: gzip"])
            #expect(encoded.value("Content-Encoding") == "gzip" && encoded.body == [0x1f, 0x8b, 1, 2, 3])
            #expect(rig.log.last?.value("Accept-Encoding") == "gzip")
            let redirect = try await rig.send(["GET /api/redirect HTTP/1.1", host])
            #expect(redirect.status == 302 && redirect.value("Location") == "/elsewhere")
            #expect(rig.log.seen.filter { $0.target == "/elsewhere" }.isEmpty)
        }
    }

    @Test("Host is kept as sent, X-Forwarded-* are set, and hop-by-hop fields go no further, either way")
    func fields() async throws {
        try await withRig { rig in
            let answer = try await rig.send([
                "GET /api/hop HTTP/1.1", "Host: localhost:4321", "Connection: keep-alive, X-Private-Hop", "X-Private-Hop: 1",
                "Keep-Alive: timeout=5", "TE: trailers", "Trailer: X-Checksum", "Upgrade: websocket", "Proxy-Authorization: Basic eA==",
                "Proxy-Connection: keep-alive", "X-Forwarded-For: 203.0.113.9", "X-Forwarded-Proto: https", "X-Forwarded-Host: evil.example",
                "X-End-To-End: kept", "Cookie: a=1; b=2", "Authorization: Bearer t",
            ])
            #expect(answer.status == 200)
            let seen = try #require(rig.log.last)
            #expect(seen.authority == "localhost:4321")
            for name in ["Connection", "X-Private-Hop", "Keep-Alive", "TE", "Trailer", "Upgrade", "Proxy-Authorization", "Proxy-Connection"] {
                #expect(seen.values(name).isEmpty, "\(name) was forwarded")
            }
            #expect(seen.values("X-Forwarded-For") == ["203.0.113.9, 127.0.0.1"])
            #expect(seen.values("X-Forwarded-Proto") == ["http"])
            #expect(seen.values("X-Forwarded-Host") == ["localhost:4321"])
            #expect(seen.value("X-End-To-End") == "kept" && seen.value("Cookie") == "a=1; b=2" && seen.value("Authorization") == "Bearer t")
            for name in ["X-Upstream-Hop", "Keep-Alive", "Proxy-Authenticate"] {
                #expect(answer.values(name).isEmpty, "\(name) came back")
            }
            #expect(answer.value("X-Kept") == "yes")

            // Without a Host (HTTP/1.0) there is none to keep, nor a forwarded one.
            _ = try await rig.send(["GET /api/echo HTTP/1.0"])
            #expect(rig.log.last?.values("X-Forwarded-Host") == [])
            #expect(rig.log.last?.values("X-Forwarded-For") == ["127.0.0.1"])
        }
    }

    @Test("Expect: 100-continue is answered at once, and the body then goes through")
    func expectContinue() async throws {
        try await withRig { rig in
            let port = rig.port
            let answer = try await blocking {
                let connection = try RawConnection(port: port, timeout: 5)
                defer { connection.close() }
                try connection.send("PUT /api/echo HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
                let interim = try connection.readHead()
                guard interim.status == 100 else { return interim }
                try connection.send("hello")
                return try connection.readResponse()
            }
            #expect(answer.status == 200 && answer.text == "hello")
            #expect(rig.log.last?.values("Expect") == [])
        }
    }

    @Test("an unreachable cloud gets 502, saying so and where")
    func unreachable() async throws {
        try await withRig(upstreamDown: true) { rig in
            let started = ContinuousClock.now
            let answer = try await rig.send(["GET /api/videos HTTP/1.1", "Host: 127.0.0.1:\(rig.port)"])
            #expect(answer.status == 502)
            #expect(answer.value("Content-Type") == "text/plain; charset=utf-8")
            #expect(answer.text.hasPrefix("The local cloud is not answering at \(rig.upstreamOrigin) (connection refused)."), "\(answer.text)")
            #expect(ContinuousClock.now - started < .seconds(3))
            // The site is still served.
            #expect(try await rig.send(["GET / HTTP/1.1", "Host: 127.0.0.1:\(rig.port)"]).status == 200)
        }
    }

    @Test("the Host check comes before forwarding")
    func hostCheckFirst() async throws {
        try await withRig(allowedHosts: ["dev.example"]) { rig in
            for host in ["evil.example", "evil.example:8000", "127.0.0.1.evil.example"] {
                for target in ["/api/videos", "/media/videos/user/video/video.mp4", "/api"] {
                    let answer = try await rig.send(["GET \(target) HTTP/1.1", "Host: \(host)"])
                    #expect(answer.status == 403 && answer.text.contains("DNS rebinding"), "\(host) \(target)")
                }
            }
            #expect(rig.log.seen.isEmpty)
            #expect(try await rig.send(["GET /api/videos HTTP/1.1", "Host: dev.example:8000"]).status == 401)
            #expect(rig.log.last?.authority == "dev.example:8000")
        }
    }

    @Test("a client that goes away cancels its request to the cloud: while waiting for the answer, and while it streams")
    func clientGoesAway() async throws {
        try await withRig { rig in
            let port = rig.port

            let waiting = try RawConnection(port: port)
            try waiting.send("GET /api/wait HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n")
            #expect(try await rig.eventually { rig.log.seen.contains { $0.target == "/api/wait" } })
            let closedBefore = rig.log.closedConnections
            waiting.close()
            #expect(try await rig.eventually(5) { rig.log.closedConnections > closedBefore }, "the upstream request was not given up")
            #expect(try await rig.eventually(5) { rig.proxy.clients.count == 0 })

            let streaming = try RawConnection(port: port)
            try streaming.send("GET /api/drip HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n")
            let head = try await blocking { try streaming.readHead() }
            #expect(head.status == 200)
            _ = try await blocking { try streaming.read(4096) }
            streaming.close()
            #expect(try await rig.eventually(5) { rig.log.dripEnded }, "the upstream kept streaming to a client that had gone")
        }
    }
}
