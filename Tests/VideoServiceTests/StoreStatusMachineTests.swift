import AWSClient
import Foundation
@testable import LocalCloud
import SigV4
import Testing
@testable import VideoFunctions
@testable import VideoService

/// The status machine is stated once, in `VideoChange`; each store turns it into a conditional
/// write of its own. This walks every status through every change on both stores, the local cloud's
/// SQLite and production's DynamoDB (moto_server from the project's virtualenv), and holds each to
/// the statement: a store applies a change exactly when `applies(to:)` says so, and then keeps what
/// `applied(to:)` says.
@Suite("Both stores keep the status machine")
struct StoreStatusMachineTests {
    /// Every status, converting with and without progress, and fields a change must keep or clear.
    static var starts: [VideoRecord] {
        var ready = record(alice, status: .ready)
        ready.durationSeconds = 30
        var failed = record(alice, status: .failed)
        failed.error = "The file is not a video."
        var queued = record(alice, status: .queued)
        queued.durationSeconds = 7
        return [record(alice, status: .uploading), queued, record(alice, status: .converting),
                record(alice, status: .converting, progress: 0.5), ready, failed]
    }

    /// Every change, progress below, at and above the converting start's.
    static let changes: [VideoChange] = [
        .queued(), .queued(jobId: "1764950400000-abc123"), .converting(progress: 0.25), .converting(progress: 0.5), .converting(progress: 0.75),
        .ready(durationSeconds: 12.5), .ready(durationSeconds: nil), .ready(durationSeconds: 9, ladder: true),
        .ready(durationSeconds: 10_800, ladder: true, cutFromSeconds: 14_700.5), .failed(reason: "MediaConvert could not read the file."),
    ]

    enum Store: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, dynamoDB
        var testDescription: String { rawValue }
    }

    @Test("every status × every change: each store applies what VideoChange says, and only that", arguments: Store.allCases)
    func everyChangeOnEveryStatus(_ kind: Store) async throws {
        let store = try await OpenStore(kind)
        defer { store.close() }
        for start in Self.starts {
            for change in Self.changes {
                var video = start
                video.id = VideoRules.newVideoId()
                video.uploadKey = VideoRules.uploadKey(sub: alice, videoId: video.id, fileName: video.fileName)
                try await store.put(video)
                let progress = start.progress.map { "\($0)" } ?? "none"
                let context = Comment(rawValue: "\(kind.rawValue): \(start.status.rawValue) (progress \(progress)) ← \(change)")
                // Another user's sub reaches nothing.
                #expect(!(try await store.library.apply(change, sub: bob, id: video.id)), context)
                #expect(try await store.library.apply(change, sub: alice, id: video.id) == change.applies(to: video), context)
                let expected = change.applies(to: video) ? change.applied(to: video) : video
                #expect(try await store.library.video(sub: alice, id: video.id) == expected, context)
            }
        }
        #expect(!(try await store.library.apply(.queued(), sub: alice, id: VideoRules.newVideoId())))
    }

    @Test("the sweeper's read: every user's queued and converting videos asked for before a time, and nothing else",
          arguments: Store.allCases)
    func pendingVideos(_ kind: Store) async throws {
        let store = try await OpenStore(kind)
        defer { store.close() }
        var expected: Set<String> = []
        for (index, status) in VideoStatus.allCases.enumerated() {
            for (sub, createdAt) in [(alice, 1_000.0), (bob, 2_000.0), (alice, 5_000.0)] {
                var video = record(sub, status: status)
                video.createdAt = createdAt + Double(index)
                try await store.put(video)
                if (status == .queued || status == .converting) && createdAt < 3_000 { expected.insert(video.id) }
            }
        }
        let found = try await store.pending.pendingVideos(createdBefore: 3_000)
        #expect(Set(found.map(\.id)) == expected)
        #expect(found.count == 4 && found.allSatisfy { $0.status == .queued || $0.status == .converting })
    }
}

/// A store to walk: its library, and a way to put a video in any state.
struct OpenStore {
    let library: any VideoLibrary
    let pending: any PendingVideos
    let put: (VideoRecord) async throws -> Void
    let close: () -> Void

    init(_ kind: StoreStatusMachineTests.Store) async throws {
        switch kind {
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("library-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let database = try CloudDatabase(path: folder.appendingPathComponent("cloud.sqlite").path)
            let library = LocalLibrary(database: database)
            self.library = library
            pending = library
            // The local library inserts uploads only; the fields later changes write are set here.
            put = { video in
                try await library.insert(video)
                try await database.write { db in
                    try db.execute(sql: "UPDATE videos SET progress = ?, error = ?, durationSeconds = ? WHERE id = ?",
                                   arguments: [video.progress, video.error, video.durationSeconds, video.id])
                }
            }
            close = { try? FileManager.default.removeItem(at: folder) }
        case .dynamoDB:
            let moto = try MotoServer()
            do {
                let endpoint = Endpoint(scheme: "http", host: "127.0.0.1", port: moto.port)
                let credentials = Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret")
                let transport = AWSTransport(http: .shared) { credentials }
                let aws = AWSServices(transport: transport, region: "us-east-1", credentials: credentials,
                                      s3: S3(transport: transport, region: "us-east-1", endpoint: endpoint, pathStyle: true),
                                      dynamoDB: endpoint, mediaConvert: endpoint, secretsManager: endpoint)
                _ = try await aws.json(service: "dynamodb", endpoint: endpoint, target: "DynamoDB_20120810.CreateTable",
                                       contentType: "application/x-amz-json-1.0", body: [
                                           "TableName": "videos", "BillingMode": "PAY_PER_REQUEST",
                                           "AttributeDefinitions": [["AttributeName": "sub", "AttributeType": "S"],
                                                                    ["AttributeName": "id", "AttributeType": "S"]],
                                           "KeySchema": [["AttributeName": "sub", "KeyType": "HASH"], ["AttributeName": "id", "KeyType": "RANGE"]],
                                       ], operation: "DynamoDB CreateTable videos")
                let library = DynamoDBLibrary(aws: aws, table: "videos")
                self.library = library
                pending = library
                put = { try await library.insert($0) }
                close = { moto.stop() }
            } catch {
                moto.stop()
                throw error
            }
        }
    }
}

/// moto_server on a free loopback port, from the project's virtualenv (python3 on PATH otherwise),
/// stopped by closing its standard input.
final class MotoServer: @unchecked Sendable {
    let process: Process
    let input: Pipe
    let port: Int

    struct NotStarted: Error, CustomStringConvertible {
        var description: String
    }

    init() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let venvPython = repository.appendingPathComponent(".venv/bin/python").path
        let script = """
            import sys
            from moto.server import ThreadedMotoServer
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            print(server.get_host_and_port()[1], flush=True)
            sys.stdin.read()
            server.stop()
            """
        let process = Process()
        if FileManager.default.isExecutableFile(atPath: venvPython) {
            process.executableURL = URL(fileURLWithPath: venvPython)
            process.arguments = ["-c", script]
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", script]
        }
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        // Its request log.
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw NotStarted(description: "moto_server did not start (is moto installed? scripts/install-deps test fills .venv/)")
        }
        self.process = process
        self.input = input
        self.port = port
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
