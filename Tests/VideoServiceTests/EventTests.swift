import AWSClient
import Foundation
import SigV4
import Testing
import VideoService
@testable import VideoFunctions

@Suite("Lambda events")
struct EventTests {
    func bytes(_ value: Any) -> [UInt8] { Array(try! JSONSerialization.data(withJSONObject: value)) }

    @Test("API Gateway payload 2.0: stage, query, base64 body and the authorizer's claims")
    func gateway() throws {
        let event: [String: Any] = [
            "version": "2.0", "routeKey": "GET /videos/multipart/parts", "rawPath": "/prod/videos/multipart/parts",
            "rawQueryString": "key=uploads%2Fa%2Fb%2Fmy+clip.mp4&uploadId=u1",
            "headers": ["authorization": "Bearer x", "x-forwarded-for": "1.2.3.4"],
            "requestContext": ["stage": "prod", "http": ["method": "GET", "path": "/prod/videos/multipart/parts"],
                               "authorizer": ["jwt": ["claims": ["sub": alice, "token_use": "access", "client_id": "c"], "scopes": NSNull()]]],
            "body": Data("{\"a\":1}".utf8).base64EncodedString(), "isBase64Encoded": true,
        ]
        let request = try GatewayEvent.request(bytes(event))
        #expect(request.method == "GET" && request.path == "/videos/multipart/parts")
        #expect(request.queryValue("key") == "uploads/a/b/my clip.mp4" && request.queryValue("uploadId") == "u1")
        #expect(request.body == Array("{\"a\":1}".utf8))
        #expect(request.authorizerClaims?["sub"] == .string(alice))
        #expect(request.header("Authorization") == "Bearer x")
        #expect(throws: EventError.self) { try GatewayEvent.request(bytes(["Records": []])) }
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(GatewayEvent.response(.json(201, ["ok": true])))) as? [String: Any])
        #expect(answer["statusCode"] as? Int == 201 && answer["body"] as? String == "{\"ok\":true}")
        #expect((answer["headers"] as? [String: String])?["Content-Type"] == "application/json")
    }

    @Test("SQS batches of SNS-wrapped S3 events: decoded keys, the test event skipped, a bad body kept apart")
    func queue() throws {
        let s3 = ["Records": [["eventName": "ObjectCreated:Put", "s3": ["bucket": ["name": "temp"], "object": ["key": "uploads/a/b/my+clip%C3%A9.mp4", "size": 5]]]]]
        let sns = ["Type": "Notification", "Message": String(decoding: bytes(s3), as: UTF8.self)]
        let test = ["Type": "Notification", "Message": String(decoding: bytes(["Service": "Amazon S3", "Event": "s3:TestEvent"]), as: UTF8.self)]
        let event = ["Records": [
            ["messageId": "m1", "body": String(decoding: bytes(sns), as: UTF8.self)],
            ["messageId": "m2", "body": String(decoding: bytes(test), as: UTF8.self)],
            ["messageId": "m3", "body": "not json"],
        ]]
        let messages = try QueueEvent.messages(bytes(event))
        #expect(messages.map(\.messageId) == ["m1", "m2", "m3"])
        #expect(messages[0].objects.map(\.key) == ["uploads/a/b/my clipé.mp4"] && messages[0].objects.map(\.bucket) == ["temp"])
        #expect(messages[1].objects.isEmpty)
        #expect(messages[2].objects.map(\.bucket) == [""])
        #expect(String(decoding: QueueEvent.response(failed: ["m3"]), as: UTF8.self) == #"{"batchItemFailures":[{"itemIdentifier":"m3"}]}"#)
    }

    @Test("MediaConvert job events: progress, completion with its duration and whether the job wrote a ladder, errors in words, strangers' jobs ignored")
    func jobs() throws {
        let id = "abcdefghijklmnopqrstuvwxya"
        func event(_ detail: [String: Any]) -> [UInt8] {
            var detail = detail
            detail["jobId"] = "1515368087458-qnoxtd"
            if detail["userMetadata"] == nil { detail["userMetadata"] = ["sub": alice, "videoId": id] }
            return bytes(["source": "aws.mediaconvert", "detail-type": "MediaConvert Job State Change", "detail": detail])
        }
        #expect(try JobEvent.parse(event(["status": "STATUS_UPDATE", "jobProgress": ["jobPercentComplete": 42]])) ==
                JobEvent.Event(sub: alice, videoId: id, jobId: "1515368087458-qnoxtd", change: .progress(percent: 42)))
        let complete = event(["status": "COMPLETE", "outputGroupDetails": [["outputDetails": [["durationInMs": 20_500, "outputFilePaths": ["s3://main/x.mp4"]]]],
                                                                         ["outputDetails": [["durationInMs": 20_000]]]]])
        #expect(try JobEvent.parse(complete)?.change == .complete(durationSeconds: 20.5, ladder: false, cutFromSeconds: nil))
        let withLadder = event(["status": "COMPLETE", "userMetadata": ["sub": alice, "videoId": id, "hls": "360p,480p"]])
        #expect(try JobEvent.parse(withLadder)?.change == .complete(durationSeconds: nil, ladder: true, cutFromSeconds: nil))
        // A job that converted only the first three hours of a longer source says so in its metadata.
        let cut = event(["status": "COMPLETE", "userMetadata": ["sub": alice, "videoId": id, "hls": "360p", "cutFrom": "14700.5"],
                         "outputGroupDetails": [["outputDetails": [["durationInMs": 10_800_000]]]]])
        #expect(try JobEvent.parse(cut)?.change == .complete(durationSeconds: 10_800, ladder: true, cutFromSeconds: 14_700.5))
        // GetJob's job has the same members, its id named `id`: what the sweeper reads.
        let job = JSONValue.parse(Array(#"{"id":"1515368087458-qnoxtd","status":"CANCELED","userMetadata":{"sub":"\#(alice)","videoId":"\#(id)"}}"#.utf8))!
        #expect(JobEvent.job(job) == JobEvent.Event(sub: alice, videoId: id, jobId: "1515368087458-qnoxtd", change: .other("CANCELED")))
        guard case .error(let reason)? = try JobEvent.parse(event(["status": "ERROR", "errorCode": 1010, "errorMessage": "Failed probe/open"]))?.change else {
            Issue.record("no error")
            return
        }
        #expect(reason.contains("could not be opened") && reason.contains("1010"))
        #expect(try JobEvent.parse(event(["status": "COMPLETE", "userMetadata": [:] as [String: String]])) == nil)
        #expect(throws: EventError.self) { try JobEvent.parse(bytes(["source": "aws.s3"])) }
    }

    @Test("the sweeper's lookup: a video with no job id (submitted before they were recorded) is converting for a day, then lost; MediaConvert is not asked")
    func noJobId() async throws {
        // An endpoint nothing listens on: any call would fail the test with a connection error.
        let endpoint = Endpoint(scheme: "http", host: "127.0.0.1", port: 9)
        let credentials = Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret")
        let transport = AWSTransport(http: .shared) { credentials }
        let aws = AWSServices(transport: transport, region: "us-east-1", credentials: credentials,
                              s3: S3(transport: transport, region: "us-east-1", endpoint: endpoint, pathStyle: true),
                              dynamoDB: endpoint, mediaConvert: endpoint, secretsManager: endpoint)
        var video = record(alice, status: .converting)
        video.createdAt = 1_000_000
        let lookup = { (now: Double) in MediaConvertLookup(aws: aws, now: { now }) }
        #expect(try await lookup(1_000_000 + 23 * 3600).state(of: video) == .running)
        #expect(try await lookup(1_000_000 + 25 * 3600).state(of: video) == .unknown)
    }
}
