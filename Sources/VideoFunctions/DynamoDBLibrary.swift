#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AWSClient
import VideoService

/// The library in DynamoDB: one table, partition key `sub` and sort key `id`, so every read and
/// write names its owner and a user's videos are one Query. A status change is an `UpdateItem`
/// whose condition is the status machine's (`VideoChange.condition`), so a repeated or late event
/// is refused by the table itself, however many functions run at once.
public struct DynamoDBLibrary: VideoLibrary, UsageLedger {
    let aws: AWSServices
    let table: String

    public init(aws: AWSServices, table: String) {
        self.aws = aws
        self.table = table
    }

    func call(_ action: String, _ body: [String: JSONValue]) async throws -> JSONValue {
        var body = body
        body["TableName"] = .string(table)
        return try await aws.json(service: "dynamodb", endpoint: aws.dynamoDB, target: "DynamoDB_20120810.\(action)",
                                  contentType: "application/x-amz-json-1.0", body: .object(body), operation: "DynamoDB \(action) \(table)")
    }

    static func key(sub: String, id: String) -> JSONValue { ["sub": ["S": .string(sub)], "id": ["S": .string(id)]] }
    private static func s(_ text: String) -> JSONValue { ["S": .string(text)] }
    static func n(_ text: String) -> JSONValue { ["N": .string(text)] }

    public func insert(_ video: VideoRecord) async throws {
        _ = try await call("PutItem", ["Item": Self.item(video), "ConditionExpression": "attribute_not_exists(id)"])
    }

    public func video(sub: String, id: String) async throws -> VideoRecord? {
        try await call("GetItem", ["Key": Self.key(sub: sub, id: id), "ConsistentRead": true])["Item"].flatMap(Self.record)
    }

    public func videos(sub: String) async throws -> [VideoRecord] {
        try await records("Query", ["KeyConditionExpression": "#sub = :sub", "ExpressionAttributeNames": ["#sub": "sub"],
                                    "ExpressionAttributeValues": [":sub": Self.s(sub)], "ConsistentRead": true])
            .sorted { ($0.createdAt, $1.id) > ($1.createdAt, $0.id) }
    }

    /// The videos a `Query` or `Scan` of `body` finds, page after page (`LastEvaluatedKey`); the
    /// items that are no video (usage, limits) left out.
    func records(_ action: String, _ body: [String: JSONValue]) async throws -> [VideoRecord] {
        var records: [VideoRecord] = []
        var start: JSONValue?
        repeat {
            var page = body
            if let start { page["ExclusiveStartKey"] = start }
            let answer = try await call(action, page)
            records += (answer["Items"]?.arrayValue ?? []).compactMap(Self.record)
            start = answer["LastEvaluatedKey"]
        } while start != nil
        return records
    }

    public func remove(sub: String, id: String) async throws -> VideoRecord? {
        try await call("DeleteItem", ["Key": Self.key(sub: sub, id: id), "ReturnValues": "ALL_OLD"])["Attributes"].flatMap(Self.record)
    }

    /// One `UpdateItem` of the change's writes (`SET` a value, `REMOVE` a cleared field) whose
    /// `ConditionExpression` is the change's condition.
    public func apply(_ change: VideoChange, sub: String, id: String) async throws -> Bool {
        var names: [String: JSONValue] = ["#id": "id"]
        var values: [String: JSONValue] = [:]
        var set: [String] = []
        var remove: [String] = []
        for write in change.writes {
            names["#\(write.field)"] = .string(write.field)
            switch write.value {
            case .text(let text)?:
                values[":\(write.field)"] = Self.s(text)
                set.append("#\(write.field) = :\(write.field)")
            case .number(let number)?:
                values[":\(write.field)"] = Self.n(String(number))
                set.append("#\(write.field) = :\(write.field)")
            case nil:
                remove.append("#\(write.field)")
            }
        }
        let condition = change.condition
        var clauses: [String] = []
        if !condition.statuses.isEmpty {
            names["#status"] = "status"
            for (index, status) in condition.statuses.enumerated() { values[":from\(index)"] = Self.s(status.rawValue) }
            clauses.append("#status IN (\(condition.statuses.indices.map { ":from\($0)" }.joined(separator: ", ")))")
        }
        if let rising = condition.rising {
            names["#status"] = "status"
            names["#progress"] = "progress"
            values[":rising"] = Self.s(rising.status.rawValue)
            values[":below"] = Self.n(String(rising.progressBelow))
            clauses.append("(#status = :rising AND (attribute_not_exists(#progress) OR #progress < :below))")
        }
        guard !clauses.isEmpty else { return false }
        let expression = [(set, "SET"), (remove, "REMOVE")].filter { !$0.0.isEmpty }
            .map { "\($0.1) " + $0.0.joined(separator: ", ") }.joined(separator: " ")
        do {
            _ = try await call("UpdateItem", ["Key": Self.key(sub: sub, id: id), "UpdateExpression": .string(expression),
                                              "ConditionExpression": .string("attribute_exists(#id) AND (\(clauses.joined(separator: " OR ")))"),
                                              "ExpressionAttributeNames": .object(names), "ExpressionAttributeValues": .object(values)])
            return true
        } catch let error as AWSError where error.code == "ConditionalCheckFailedException" {
            return false
        }
    }

    // MARK: Usage

    /// The items beside the user's videos that hold what the videos do not: `usage#2026-12` (the
    /// month's `convertedSeconds`) and `limits` (the owner's override, written by `infra/limits`).
    /// Neither is a video (no video id has `#` or is `limits`), so a Query of the user's videos
    /// skips them (`record` answers nil).
    static let limitsItemId = "limits"
    static func usageItemId(month: String) -> String { "usage#\(month)" }

    public func convertedSeconds(sub: String, month: String) async throws -> Double {
        let item = try await call("GetItem", ["Key": Self.key(sub: sub, id: Self.usageItemId(month: month)), "ConsistentRead": true])["Item"]
        return item?["convertedSeconds"]?["N"]?.stringValue.flatMap(Double.init) ?? 0
    }

    /// One `UpdateItem` with `ADD`, so completions that land together all count.
    public func addConverted(sub: String, month: String, seconds: Double) async throws {
        _ = try await call("UpdateItem", ["Key": Self.key(sub: sub, id: Self.usageItemId(month: month)),
                                          "UpdateExpression": "ADD convertedSeconds :seconds",
                                          "ExpressionAttributeValues": [":seconds": Self.n(String(seconds))]])
    }

    public func limitOverride(sub: String) async throws -> LimitOverride? {
        guard let item = try await call("GetItem", ["Key": Self.key(sub: sub, id: Self.limitsItemId), "ConsistentRead": true])["Item"]
        else { return nil }
        func number(_ name: String) -> Int64? { item[name]?["N"]?.stringValue.flatMap { Int64($0) } }
        return LimitOverride(storedGiB: number("storedGiB"), videos: number("videos"), largestGiB: number("largestGiB"),
                             minutesPerMonth: number("minutesPerMonth"))
    }

    // MARK: Items

    static func item(_ video: VideoRecord) -> JSONValue {
        var item: [String: JSONValue] = [
            "sub": s(video.sub), "id": s(video.id), "title": s(video.title), "fileName": s(video.fileName),
            "contentType": s(video.contentType), "sizeBytes": n(String(video.sizeBytes)), "uploadKey": s(video.uploadKey),
            "status": s(video.status.rawValue), "createdAt": n(String(video.createdAt)),
        ]
        if let uploadId = video.uploadId { item["uploadId"] = s(uploadId) }
        if let partSize = video.partSize { item["partSize"] = n(String(partSize)) }
        if let duration = video.durationSeconds { item["durationSeconds"] = n(String(duration)) }
        if let progress = video.progress { item["progress"] = n(String(progress)) }
        if let error = video.error { item["error"] = s(error) }
        if video.hlsLadder { item["hlsLadder"] = n("1") }
        if let cut = video.cutFromSeconds { item["cutFromSeconds"] = n(String(cut)) }
        if let jobId = video.jobId { item["jobId"] = s(jobId) }
        return .object(item)
    }

    static func record(_ item: JSONValue) -> VideoRecord? {
        func string(_ name: String) -> String? { item[name]?["S"]?.stringValue }
        func number(_ name: String) -> Double? { item[name]?["N"]?.stringValue.flatMap(Double.init) }
        guard let sub = string("sub"), let id = string("id"), let title = string("title"), let fileName = string("fileName"),
              let contentType = string("contentType"), let size = number("sizeBytes"), let uploadKey = string("uploadKey"),
              let status = string("status").flatMap(VideoStatus.init), let createdAt = number("createdAt") else { return nil }
        return VideoRecord(id: id, sub: sub, title: title, fileName: fileName, contentType: contentType, sizeBytes: Int64(size),
                           uploadKey: uploadKey, uploadId: string("uploadId"), partSize: number("partSize").map { Int64($0) },
                           status: status, durationSeconds: number("durationSeconds"), progress: number("progress"),
                           error: string("error"), createdAt: createdAt, hlsLadder: number("hlsLadder") == 1,
                           cutFromSeconds: number("cutFromSeconds"), jobId: string("jobId"))
    }
}
