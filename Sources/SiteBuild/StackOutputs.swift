/// The outputs of a deployed CloudFormation stack (`--stack NAME`), fetched by the caller: values
/// for an environment's fields that replace site.yml's and give way to the `SITE_*` variables.
public struct StackOutputs: Sendable, Equatable {
    /// The stack's name, for messages.
    public var stack: String
    /// OutputKey → OutputValue.
    public var outputs: [String: String]

    public init(stack: String, outputs: [String: String]) {
        self.stack = stack
        self.outputs = outputs
    }

    /// The outputs the production template emits, and the field each sets. The Cognito endpoint
    /// (local only), the publish prefix and the idle time are not the stack's to say, nor is the
    /// API's base: the app calls it on its own origin (`/api`), through the stack's distribution.
    public static let fields: [(output: String, key: String)] = [
        ("CognitoRegion", "cognito.region"),
        ("UserPoolId", "cognito.userPoolId"),
        ("UserPoolClientId", "cognito.clientId"),
        ("UploadOrigin", "uploads.origins"),
        ("SiteBucket", "publish.bucket"),
        ("SiteBucketRegion", "publish.region"),
        ("DistributionId", "publish.distributionIds"),
    ]

    /// Outputs applied when the stack has them; without one, site.yml's value (or its default) stands.
    public static let optionalFields: [(output: String, key: String)] = [
        ("SignUpPolicy", "signup"),
    ]
}

extension Environment {
    /// This environment with `stack`'s outputs applied, each checked as the `SITE_*` variable for the
    /// same field is. Fields in `overridden` are left for those variables to set, so a missing output
    /// is an error only when no variable stands in for it. The stack provides whole `cognito` and
    /// `publish` sections, so site.yml needs no placeholders for them.
    public func applying(stack: StackOutputs, except overridden: Set<String> = []) throws -> Environment {
        var result = self
        let wanted = StackOutputs.fields.filter { !overridden.contains($0.key) }
        let missing = wanted.filter { stack.outputs[$0.output] == nil }
        guard missing.isEmpty else {
            let diagnostics = missing.map { output, key -> Diagnostic in
                let variable = Self.overrideVariables.first { $0.key == key }?.variable ?? "its SITE_* variable"
                return Diagnostic("stack '\(stack.stack)' has no output '\(output)' (needed for \(key)); "
                                  + "deploy the stack's current template or set \(variable)", key: "--stack")
            }
            if diagnostics.count == 1 { throw diagnostics[0] }
            throw BuildFailure(diagnostics)
        }
        if wanted.contains(where: { $0.key.hasPrefix("cognito.") }), result.cognito == nil {
            result.cognito = Cognito(region: "", userPoolId: "", clientId: "", endpoint: nil)
        }
        if wanted.contains(where: { $0.key.hasPrefix("publish.") }), result.publish == nil {
            result.publish = Publish(bucket: "", region: "", prefix: nil, distributionIds: [])
        }
        for (output, key) in wanted + StackOutputs.optionalFields.filter({ !overridden.contains($0.key) }) {
            guard let value = stack.outputs[output] else { continue }
            try result.set(key, to: value, from: "stack \(stack.stack) output \(output)")
        }
        if overridden.isDisjoint(with: ["cognito.region", "cognito.userPoolId"]), let cognito = result.cognito,
           let message = FieldRules(isLocal: isLocal).poolRegionMismatch(cognito) {
            throw Diagnostic(message, at: SourceLocation(file: "stack \(stack.stack) outputs"), key: "\(name).cognito.userPoolId")
        }
        return result
    }
}
