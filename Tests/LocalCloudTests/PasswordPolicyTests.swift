import LocalCloud
import Testing

@Suite("Cognito's default password policy")
struct PasswordPolicyTests {
    @Test("conforming passwords pass", arguments: ["Correct-Horse-9!", "Aa1^aaaa", "Aa1 aaaa", "Zz9~zzzzzzzzzzzzzz"])
    func conforming(password: String) {
        #expect(PasswordPolicy.cognitoDefault.violation(password) == nil)
    }

    @Test("each broken rule gets Cognito's message", arguments: [
        ("Aa1!", "Password not long enough"),
        ("AAAA1111!", "Password must have lowercase characters"),
        ("aaaa1111!", "Password must have uppercase characters"),
        ("Aaaaaaaa!", "Password must have numeric characters"),
        ("Aaaaaaaa1", "Password must have symbol characters"),
        (" Aaaaaa1!", "Password must not begin or end with a space"),
    ])
    func violations(password: String, message: String) {
        #expect(PasswordPolicy.cognitoDefault.violation(password) == "Password did not conform with policy: " + message)
    }
}
