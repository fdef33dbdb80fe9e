import Foundation
import AWSClient
import VideoService

/// The library in DynamoDB: one table, partition key `sub` and sort key `id`, so every read and
/// write names its owner and a user's videos are one Query. A status change is an `UpdateItem`
/// whose condition is the status machine's, so a repeated or late event is refused by the table
/// itself, however many functions run at once.
public struct DynamoDBLibrary: VideoLibrary {
    let aws: AWSServices
    let table: String

    public init(aws: AWSServices, table: String) {
        self.aws = aws
        self.table = table
    }

    private func call(_ action: String, _ body: [String: Any]) async throws -> [String: Any] {
        var body = body
        body["TableName"] = table
        return try await aws.json(service: "dynamodb", endpoint: aws.dynamoDB, target: "DynamoDB_20120810.\(action)",
                                  contentType: "application/x-amz-json-1.0", body: body, operation: "DynamoDB \(action) \(table)")
    }

    private static func key(sub: String, id: String) -> [String: Any] { ["sub": ["S": sub], "id": ["S": id]] }

    public func insert(_ video: VideoRecord) async throws {
        _ = try await call("PutItem", ["Item": Self.item(video), "ConditionExpression": "attribute_not_exists(id)"])
    }

    public func video(sub: String, id: String) async throws -> VideoRecord? {
        let answer = try await call("GetItem", ["Key": Self.key(sub: sub, id: id), "ConsistentRead": true])
        return (answer["Item"] as? [String: Any]).flatMap(Self.record)
    }

    public func videos(sub: String) async throws -> [VideoRecord] {
        var records: [VideoRecord] = []
        var start: Any?
        repeat {
            var body: [String: Any] = ["KeyConditionExpression": "#sub = :sub", "ExpressionAttributeNames": ["#sub": "sub"],
                                       "ExpressionAttributeValues": [":sub": ["S": sub]], "ConsistentRead": true]
            if let start { body["ExclusiveStartKey"] = start }
            let answer = try await call("Query", body)
            records += (answer["Items"] as? [[String: Any]] ?? []).compactMap(Self.record)
            start = answer["LastEvaluatedKey"]
        } while start != nil
        return records.sorted { ($0.createdAt, $1.id) > ($1.createdAt, $0.id) }
    }

    public func remove(sub: String, id: String) async throws -> VideoRecord? {
        let answer = try await call("DeleteItem", ["Key": Self.key(sub: sub, id: id), "ReturnValues": "ALL_OLD"])
        return (answer["Attributes"] as? [String: Any]).flatMap(Self.record)
    }

    public func apply(_ change: VideoChange, sub: String, id: String) async throws -> Bool {
        var names: [String: String] = ["#status": "status", "#id": "id"]
        var values: [String: Any] = [":status": ["S": change.status.rawValue]]
        var set = ["#status = :status"]
        var remove: [String] = []
        let from = change.from.map(\.rawValue).sorted()
        for (index, status) in from.enumerated() { values[":from\(index)"] = ["S": status] }
        var condition = "attribute_exists(#id) AND #status IN (\(from.indices.map { ":from\($0)" }.joined(separator: ", ")))"
        switch change {
        case .queued:
            remove = ["progress"]
        case .converting(let progress):
            names["#progress"] = "progress"
            values[":progress"] = ["N": String(progress)]
            set.append("#progress = :progress")
            values[":converting"] = ["S": VideoStatus.converting.rawValue]
            values[":queued"] = ["S": VideoStatus.queued.rawValue]
            condition = "attribute_exists(#id) AND (#status = :queued OR (#status = :converting AND (attribute_not_exists(#progress) OR #progress < :progress)))"
            for index in from.indices { values[":from\(index)"] = nil }
        case .ready(let duration):
            remove = ["progress", "#error"]
            names["#error"] = "error"
            if let duration {
                values[":duration"] = ["N": String(duration)]
                set.append("durationSeconds = :duration")
            }
        case .failed(let reason):
            names["#error"] = "error"
            values[":error"] = ["S": reason]
            set.append("#error = :error")
            remove = ["progress"]
        }
        let expression = "SET " + set.joined(separator: ", ") + (remove.isEmpty ? "" : " REMOVE " + remove.joined(separator: ", "))
        do {
            _ = try await call("UpdateItem", ["Key": Self.key(sub: sub, id: id), "UpdateExpression": expression,
                                              "ConditionExpression": condition, "ExpressionAttributeNames": names,
                                              "ExpressionAttributeValues": values])
            return true
        } catch let error as AWSError where error.code == "ConditionalCheckFailedException" {
            return false
        }
    }

    // MARK: Items

    static func item(_ video: VideoRecord) -> [String: Any] {
        var item: [String: Any] = [
            "sub": ["S": video.sub], "id": ["S": video.id], "title": ["S": video.title], "fileName": ["S": video.fileName],
            "contentType": ["S": video.contentType], "sizeBytes": ["N": String(video.sizeBytes)], "uploadKey": ["S": video.uploadKey],
            "status": ["S": video.status.rawValue], "createdAt": ["N": String(video.createdAt)],
        ]
        if let uploadId = video.uploadId { item["uploadId"] = ["S": uploadId] }
        if let partSize = video.partSize { item["partSize"] = ["N": String(partSize)] }
        if let duration = video.durationSeconds { item["durationSeconds"] = ["N": String(duration)] }
        if let progress = video.progress { item["progress"] = ["N": String(progress)] }
        if let error = video.error { item["error"] = ["S": error] }
        return item
    }

    static func record(_ item: [String: Any]) -> VideoRecord? {
        func string(_ name: String) -> String? { (item[name] as? [String: Any])?["S"] as? String }
        func number(_ name: String) -> Double? { ((item[name] as? [String: Any])?["N"] as? String).flatMap(Double.init) }
        guard let sub = string("sub"), let id = string("id"), let title = string("title"), let fileName = string("fileName"),
              let contentType = string("contentType"), let size = number("sizeBytes"), let uploadKey = string("uploadKey"),
              let status = string("status").flatMap(VideoStatus.init), let createdAt = number("createdAt") else { return nil }
        return VideoRecord(id: id, sub: sub, title: title, fileName: fileName, contentType: contentType, sizeBytes: Int64(size),
                           uploadKey: uploadKey, uploadId: string("uploadId"), partSize: number("partSize").map { Int64($0) },
                           status: status, durationSeconds: number("durationSeconds"), progress: number("progress"),
                           error: string("error"), createdAt: createdAt)
    }
}
