import Foundation
import SigV4
import Testing

/// Compares `SigV4` with botocore (the signer of boto3 and the AWS CLI) on random S3 requests with
/// odd keys: spaces, `+`, `%`, `~`, sub-delimiters, unicode, session tokens and query parameters.
@Suite("SigV4 against botocore")
struct DifferentialTests {
    struct Case: Decodable {
        var accessKeyId: String
        var secretAccessKey: String
        var sessionToken: String?
        var region: String
        var method: String
        var target: String
        var headers: [[String]]
        var signedHeaders: String
        var signature: String
        var presignedTarget: String
        var key: String
        var query: [[String]]
    }

    static func cases(count: Int, seed: Int) throws -> [Case] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("botocore_signatures.py")
        // The project's virtualenv, where scripts/install-deps puts botocore; python3 on PATH otherwise.
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let venvPython = repository.appendingPathComponent(".venv/bin/python").path
        let process = Process()
        if FileManager.default.isExecutableFile(atPath: venvPython) {
            process.executableURL = URL(fileURLWithPath: venvPython)
            process.arguments = [script.path, String(count), String(seed)]
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script.path, String(count), String(seed)]
        }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "botocore_signatures.py failed (is botocore installed? scripts/install-deps test fills .venv/)"])
        }
        return try JSONDecoder().decode([Case].self, from: data)
    }

    @Test("random requests sign, presign and verify exactly as botocore does")
    func matchesBotocore() throws {
        // SIGV4_SEED=N repeats the run a failure names.
        let seed = ProcessInfo.processInfo.environment["SIGV4_SEED"].flatMap(Int.init) ?? Int.random(in: 0..<1_000_000)
        let cases = try Self.cases(count: 300, seed: seed)
        #expect(cases.count == 300)
        for item in cases {
            let context = Comment(rawValue: "seed \(seed), key \(item.key.debugDescription), query \(item.query)")
            let credentials = Credentials(accessKeyId: item.accessKeyId, secretAccessKey: item.secretAccessKey,
                                          sessionToken: item.sessionToken)
            let wireHeaders = [SignableRequest.Header("Host", "127.0.0.1:9000")] + item.headers.map { SignableRequest.Header($0[0], $0[1]) }
            let time = Timestamp(amzDate: wireHeaders.first { $0.name == "X-Amz-Date" }!.value)!

            let signedNames = Set(item.signedHeaders.split(separator: ";").map(String.init))
            // Sign the logical request ourselves: same signature, same bytes on the wire.
            var ours = SignableRequest(method: item.method, path: "/bucket/" + item.key,
                                       query: item.query.map { .init($0[0], $0[1]) },
                                       headers: [.init("Host", "127.0.0.1:9000")] + wireHeaders.filter {
                                           signedNames.contains($0.name.lowercased())
                                               && !["host", "x-amz-date", "x-amz-security-token"].contains($0.name.lowercased())
                                       })
            let payloadHash = wireHeaders.first { $0.name.lowercased() == "x-amz-content-sha256" }!.value
            let signer = Signer(credentials: credentials, region: item.region, service: "s3")
            let result = signer.sign(&ours, payloadHash: payloadHash, at: time, contentSHA256Header: true)
            #expect(result.signature == item.signature, context)
            #expect(result.signedHeaders == item.signedHeaders, context)
            // botocore writes a space in the query as `+`, we as `%20`: both mean the same.
            #expect(ours.target == item.target.replacingOccurrences(of: "+", with: "%20"), context)

            // Verify botocore's request as a server receives it.
            let verifier = Verifier(region: item.region, service: "s3")
            let received = try #require(SignableRequest(method: item.method, target: item.target, headers: wireHeaders), context)
            #expect(throws: Never.self, context) { try verifier.verify(received, now: time) { _ in credentials } }

            // Presign the same object and verify botocore's presigned URL.
            let get = SignableRequest(method: "GET", path: "/bucket/" + item.key, query: item.query.map { .init($0[0], $0[1]) },
                                      headers: [.init("Host", "127.0.0.1:9000")])
            // botocore presigns after it signs: the clock may have moved on a second since.
            let presignDate = item.presignedTarget.components(separatedBy: "X-Amz-Date=").last.map { String($0.prefix(16)) }
            let presignTime = try #require(presignDate.flatMap(Timestamp.init(amzDate:)), context)
            let presigned = signer.presign(get, expiresIn: 3600, at: presignTime)
            #expect(item.presignedTarget.hasSuffix("X-Amz-Signature=" + presigned.signature.signature), context)
            let botocoreURL = try #require(SignableRequest(method: "GET", target: item.presignedTarget,
                                                           headers: [.init("Host", "127.0.0.1:9000")]), context)
            #expect(throws: Never.self, context) { try verifier.verify(botocoreURL, now: presignTime) { _ in credentials } }
        }
    }
}
