import SigV4

/// DescribeStacks on CloudFormation's 2010-05-15 Query API: what a deployed stack hands to the
/// site (its outputs).
public struct CloudFormationClient: Sendable {
    let transport: AWSTransport
    let endpoint: Endpoint
    let region: String

    public init(transport: AWSTransport, endpoint: Endpoint, region: String) {
        self.transport = transport
        self.endpoint = endpoint
        self.region = region
    }

    /// A stack CloudFormation does not know in the region asked.
    public struct StackNotFound: Error, Sendable, Equatable, CustomStringConvertible {
        public var stack: String
        public var region: String
        public var description: String {
            "stack '\(stack)' does not exist in \(region); check the name, and that the region is the one it was deployed to"
        }
    }

    /// The outputs of `stack` (its name or id), OutputKey → OutputValue.
    public func outputs(ofStack stack: String) async throws -> [String: String] {
        let operation = "CloudFormation DescribeStacks \(stack) (\(region))"
        let request = AWSRequest.query(
            service: "cloudformation", region: region, endpoint: endpoint,
            parameters: [("Action", "DescribeStacks"), ("StackName", stack), ("Version", "2010-05-15")],
            operation: operation, permission: Self.permission(stack: stack, region: region))
        let response: AWSResponse
        do {
            response = try await transport.send(request)
        } catch let error as AWSError {
            throw Self.failure(error, stack: stack, region: region)
        }
        guard let outputs = try Self.outputs(fromDescribeStacks: response.body) else {
            throw StackNotFound(stack: stack, region: region)
        }
        return outputs
    }

    /// What DescribeStacks of `stack` needs. By name: the stack's ARN holds the account and the stack id.
    static func permission(stack: String, region: String) -> Permission {
        Permission("cloudformation:DescribeStacks", on: "stack \(stack) in \(region)", policy: Permission.publishPolicy)
    }

    /// The outputs of the first stack in a DescribeStacks answer; nil when it lists no stack.
    /// An output without a value maps to "".
    static func outputs(fromDescribeStacks body: [UInt8]) throws -> [String: String]? {
        let root = try XMLElement.parse(body)
        guard let result = root["DescribeStacksResult"] else {
            throw AWSError(status: 200, code: "MalformedResponse", message: "DescribeStacks answered without DescribeStacksResult",
                           requestId: nil, operation: "CloudFormation DescribeStacks")
        }
        guard let stack = result["Stacks"]?.all("member").first else { return nil }
        var outputs: [String: String] = [:]
        for output in stack["Outputs"]?.all("member") ?? [] {
            guard let key = output.value("OutputKey") else { continue }
            outputs[key] = output.value("OutputValue") ?? ""
        }
        return outputs
    }

    /// CloudFormation says a stack is unknown with `ValidationError` "Stack with id NAME does not
    /// exist"; that becomes `StackNotFound`, anything else stays as it was.
    static func failure(_ error: AWSError, stack: String, region: String) -> any Error {
        error.code == "ValidationError" && error.message.hasSuffix("does not exist")
            ? StackNotFound(stack: stack, region: region) : error
    }
}
