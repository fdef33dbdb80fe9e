import AWSClient
import Testing

@Suite("AWS error answers")
struct AWSErrorTests {
    @Test("JSON protocol errors: DynamoDB's __type, REST-JSON's x-amzn-ErrorType header")
    func json() {
        let dynamo = AWSError.parse(
            status: 400, headers: [("x-amzn-RequestId", "R1")],
            body: Array(#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}"#.utf8),
            operation: "DynamoDB Query videos")
        #expect(dynamo.code == "ResourceNotFoundException" && dynamo.message == "Requested resource not found")
        #expect(dynamo.requestId == "R1" && !dynamo.isRetryable)
        let mediaConvert = AWSError.parse(
            status: 429, headers: [("x-amzn-ErrorType", "TooManyRequestsException:http://internal.amazon.com/coral/")],
            body: Array(#"{"message":"Too many requests"}"#.utf8), operation: "MediaConvert CreateJob")
        #expect(mediaConvert.code == "TooManyRequestsException" && mediaConvert.isRetryable)
    }

    @Test("XML errors still parse, and an empty body falls back to the status")
    func xmlAndEmpty() {
        let s3 = AWSError.parse(status: 403, headers: [], body: Array("<Error><Code>AccessDenied</Code><Message>no</Message></Error>".utf8),
                                operation: "GET s3://b/k")
        #expect(s3.code == "AccessDenied" && s3.message == "no")
        #expect(AWSError.parse(status: 404, headers: [], body: [], operation: "HEAD s3://b/k").code == "NotFound")
    }
}
