@testable import AWSClient
import Testing

@Suite("CloudFormation DescribeStacks")
struct CloudFormationTests {
    /// The answer's shape as CloudFormation documents it (namespaced, outputs as `member`s).
    static let answer = """
        <?xml version="1.0" encoding="UTF-8"?>
        <DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
          <DescribeStacksResult>
            <Stacks>
              <member>
                <StackName>video-prod</StackName>
                <StackId>arn:aws:cloudformation:eu-west-1:123456789012:stack/video-prod/1b2c</StackId>
                <StackStatus>UPDATE_COMPLETE</StackStatus>
                <Parameters><member><ParameterKey>Domain</ParameterKey><ParameterValue>ignored</ParameterValue></member></Parameters>
                <Outputs>
                  <member>
                    <OutputKey>UserPoolId</OutputKey>
                    <OutputValue>eu-west-1_AbC123xyZ</OutputValue>
                    <Description>The Cognito user pool</Description>
                  </member>
                  <member>
                    <OutputKey>ApiBaseUrl</OutputKey>
                    <OutputValue>https://abc.execute-api.eu-west-1.amazonaws.com/v1?a=1&amp;b=2</OutputValue>
                    <ExportName>video-prod-api</ExportName>
                  </member>
                  <member><OutputKey>Empty</OutputKey></member>
                </Outputs>
              </member>
            </Stacks>
          </DescribeStacksResult>
          <ResponseMetadata><RequestId>b9b4b068-3a41-11e5-94eb-example</RequestId></ResponseMetadata>
        </DescribeStacksResponse>
        """

    @Test("outputs are read by OutputKey, entities decoded, parameters ignored, a missing value empty")
    func outputs() throws {
        let outputs = try CloudFormationClient.outputs(fromDescribeStacks: Array(Self.answer.utf8))
        #expect(outputs == [
            "UserPoolId": "eu-west-1_AbC123xyZ",
            "ApiBaseUrl": "https://abc.execute-api.eu-west-1.amazonaws.com/v1?a=1&b=2",
            "Empty": "",
        ])
    }

    @Test("a stack without outputs has none; an answer listing no stack is nil; another document is malformed")
    func edges() throws {
        let bare = "<DescribeStacksResponse><DescribeStacksResult><Stacks><member><StackName>s</StackName></member></Stacks></DescribeStacksResult></DescribeStacksResponse>"
        #expect(try CloudFormationClient.outputs(fromDescribeStacks: Array(bare.utf8)) == [:])
        let none = "<DescribeStacksResponse><DescribeStacksResult><Stacks/></DescribeStacksResult></DescribeStacksResponse>"
        #expect(try CloudFormationClient.outputs(fromDescribeStacks: Array(none.utf8)) == nil)
        #expect(throws: AWSError.self) {
            try CloudFormationClient.outputs(fromDescribeStacks: Array("<ListStacksResponse/>".utf8))
        }
    }

    @Test("the error answer for an unknown stack becomes StackNotFound naming the stack and region")
    func stackNotFound() throws {
        let body = """
            <ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
              <Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id video-prod does not exist</Message></Error>
              <RequestId>5ccc7dcd-744c-11e5-be70-example</RequestId>
            </ErrorResponse>
            """
        let error = AWSError.parse(status: 400, headers: [], body: Array(body.utf8), operation: "CloudFormation DescribeStacks video-prod")
        #expect(error.code == "ValidationError" && error.requestId == "5ccc7dcd-744c-11e5-be70-example" && !error.isRetryable)
        let failure = try #require(CloudFormationClient.failure(error, stack: "video-prod", region: "eu-west-1") as? CloudFormationClient.StackNotFound)
        #expect(failure == .init(stack: "video-prod", region: "eu-west-1"))
        #expect("\(failure)".hasPrefix("stack 'video-prod' does not exist in eu-west-1"))
    }

    @Test("other errors pass through unchanged: a bad name, missing permission")
    func otherErrors() {
        let badName = AWSError(status: 400, code: "ValidationError",
                               message: "1 validation error detected: Value 'no spaces' at 'stackName' failed to satisfy constraint",
                               requestId: nil, operation: "CloudFormation DescribeStacks no spaces")
        #expect(CloudFormationClient.failure(badName, stack: "no spaces", region: "us-east-1") as? AWSError == badName)
        let denied = AWSError(status: 403, code: "AccessDenied", message: "not authorized to perform: cloudformation:DescribeStacks",
                              requestId: "R", operation: "CloudFormation DescribeStacks video-prod")
        #expect(CloudFormationClient.failure(denied, stack: "video-prod", region: "us-east-1") as? AWSError == denied)
    }

    @Test("the request is a signed Query API POST to the cloudformation endpoint")
    func request() {
        let endpoint = Endpoint(scheme: "https", host: "cloudformation.eu-west-1.amazonaws.com")
        let request = AWSRequest.query(
            service: "cloudformation", region: "eu-west-1", endpoint: endpoint,
            parameters: [("Action", "DescribeStacks"), ("StackName", "video prod/1"), ("Version", "2010-05-15")],
            operation: "DescribeStacks")
        #expect(request.method == "POST" && request.path == "/" && request.signed && request.service == "cloudformation")
        guard case .bytes(let body) = request.body else { Issue.record("no body"); return }
        #expect(String(decoding: body, as: UTF8.self) == "Action=DescribeStacks&StackName=video%20prod%2F1&Version=2010-05-15")
        #expect(request.headers.contains { $0.name == "Content-Type" && $0.value.hasPrefix("application/x-www-form-urlencoded") })
    }
}
