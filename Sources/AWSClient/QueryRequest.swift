import SigV4

extension AWSRequest {
    /// A call to an AWS Query API (STS, CloudFormation): the action and its parameters form-encoded
    /// in a POST to `/`, answered in XML.
    public static func query(service: String, region: String, endpoint: Endpoint, parameters: [(String, String)],
                             signed: Bool = true, operation: String, permission: Permission? = nil) -> AWSRequest {
        let body = Array(parameters.map { uriEncode($0.0) + "=" + uriEncode($0.1) }.joined(separator: "&").utf8)
        return AWSRequest(
            service: service, region: region, endpoint: endpoint, method: "POST", path: "/",
            headers: [.init("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            body: .bytes(body), payloadHash: hexSHA256(body), signed: signed, operation: operation,
            permission: permission)
    }
}
