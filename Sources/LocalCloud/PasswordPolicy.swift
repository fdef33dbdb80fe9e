/// A user pool's password policy; `.cognitoDefault` is what a new Cognito pool enforces.
public struct PasswordPolicy: Sendable {
    public var minimumLength = 8
    public var requireUppercase = true
    public var requireLowercase = true
    public var requireNumbers = true
    public var requireSymbols = true

    public static let cognitoDefault = PasswordPolicy()

    /// The characters Cognito counts as symbols (a space counts too, but not at either end).
    static let symbols = Set("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-")

    /// Nil if `password` conforms, else Cognito's InvalidPasswordException message for the first
    /// rule it breaks, in Cognito's order.
    public func violation(_ password: String) -> String? {
        let prefix = "Password did not conform with policy: "
        if password.count < minimumLength { return prefix + "Password not long enough" }
        if password.count > 256 { return prefix + "Password too long" }
        if password.first == " " || password.last == " " {
            return prefix + "Password must not begin or end with a space"
        }
        if requireLowercase, !password.contains(where: { $0.isASCII && $0.isLowercase }) {
            return prefix + "Password must have lowercase characters"
        }
        if requireUppercase, !password.contains(where: { $0.isASCII && $0.isUppercase }) {
            return prefix + "Password must have uppercase characters"
        }
        if requireNumbers, !password.contains(where: { $0.isASCII && $0.isNumber }) {
            return prefix + "Password must have numeric characters"
        }
        if requireSymbols, !password.contains(where: { Self.symbols.contains($0) || $0 == " " }) {
            return prefix + "Password must have symbol characters"
        }
        return nil
    }
}
