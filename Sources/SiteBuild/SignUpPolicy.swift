/// Who may make an account (`signup` in an environment of site.yml; the production stack's
/// `SignUpPolicy` parameter). Anything but `open` keeps the app's sign-up form away: the user
/// pool then refuses `SignUp`, and accounts are made by an administrator (`infra/invite`,
/// `site cloud invite`).
public enum SignUpPolicy: String, Sendable, Equatable, CaseIterable {
    /// Anyone may sign up from the app.
    case open
    /// Accounts by invitation only: the app says so instead of showing the form.
    case invite
    /// No new accounts: the app says sign-up is closed.
    case closed

    /// The policy when site.yml does not say: `open` for the `local` environment (the README's
    /// journey signs up through the page), `invite` elsewhere (a deployment is personal).
    public static func fallback(isLocal: Bool) -> SignUpPolicy { isLocal ? .open : .invite }

    /// The error for a value that names no policy.
    static func problem(_ text: String) -> String? {
        SignUpPolicy(rawValue: text) == nil
            ? "signup must be one of \(allCases.map(\.rawValue).joined(separator: ", ")), not '\(text)'" : nil
    }
}
