import JSON

/// One mmrpc 2.0 error as KDF's `MmError` serializes it: the Display text (`error`), the
/// adjacently tagged enum variant (`error_type`, and `error_data` unless the variant is a unit
/// one), the HTTP status of the variant, and the trace of (file stem, line) locations where the
/// error was made and converted, innermost first.
///
/// `error_trace` is the locations outermost first, each `file:line]`, joined by spaces;
/// `error_path` the file stems in that order with consecutive duplicates removed, joined by `.`.
/// The line numbers imitate KDF's format only: clients must not depend on them.
public struct MMRPCError: Error, Equatable, Sendable {
    public var display: String
    public var errorType: String
    /// nil for a unit variant: the `error_data` key is then absent.
    public var errorData: JSONValue?
    public var httpStatus: Int
    /// Innermost first, as `MmError` records them.
    public var locations: [(file: String, line: Int)]

    public init(display: String, errorType: String, errorData: JSONValue?, httpStatus: Int,
                locations: [(file: String, line: Int)]) {
        self.display = display
        self.errorType = errorType
        self.errorData = errorData
        self.httpStatus = httpStatus
        self.locations = locations
    }

    public static func == (a: MMRPCError, b: MMRPCError) -> Bool {
        a.display == b.display && a.errorType == b.errorType && a.errorData == b.errorData && a.httpStatus == b.httpStatus
            && a.locations.map { "\($0.file):\($0.line)" } == b.locations.map { "\($0.file):\($0.line)" }
    }

    public var errorTrace: String {
        locations.reversed().map { "\($0.file):\($0.line)]" }.joined(separator: " ")
    }

    public var errorPath: String {
        var stems: [String] = []
        for l in locations.reversed() where stems.last != l.file { stems.append(l.file) }
        return stems.joined(separator: ".")
    }

    // MARK: dispatcher errors (KDF `DispatcherError`)

    /// Where envelope and auth errors are made (KDF's dispatcher).
    static let envelopeSite = ("dispatcher", 84)
    /// Where params errors are made.
    static let paramsSite = ("dispatcher", 125)

    public static func noSuchMethod() -> MMRPCError {
        MMRPCError(display: "No such method", errorType: "NoSuchMethod", errorData: nil, httpStatus: 400,
                   locations: [("dispatcher", 133)])
    }

    /// A bad envelope (`site` dispatcher:84) or bad params (dispatcher:125).
    public static func invalidRequest(_ serde: String, params: Bool) -> MMRPCError {
        let site = params ? paramsSite : envelopeSite
        return MMRPCError(display: "Error parsing request: \(serde)", errorType: "InvalidRequest", errorData: .string(serde),
                          httpStatus: 400, locations: [site])
    }

    public static func invalidMmRpcVersion(_ serde: String) -> MMRPCError {
        MMRPCError(display: "Error parsing mmrpc version: \(serde)", errorType: "InvalidMmRpcVersion",
                   errorData: .string(serde), httpStatus: 400, locations: [("rpc", 139)])
    }

    public static func localHostOnly() -> MMRPCError {
        MMRPCError(display: "Selected method can be called from localhost only!", errorType: "LocalHostOnly",
                   errorData: nil, httpStatus: 403, locations: [("dispatcher", 91)])
    }

    public static func userpassIsNotSet() -> MMRPCError {
        MMRPCError(display: "Userpass is not set!", errorType: "UserpassIsNotSet", errorData: nil, httpStatus: 403,
                   locations: [("dispatcher", 103)])
    }

    /// KDF's nested, itself adjacently tagged `RateLimitError::NbAttemptsLeft(n)`.
    public static func userpassIsInvalid(attemptsLeft: Int) -> MMRPCError {
        MMRPCError(display: "Userpass is invalid! - Rate Limit attempts left: \(attemptsLeft)", errorType: "UserpassIsInvalid",
                   errorData: .object([JSONMember("error_type", .string("NbAttemptsLeft")),
                                       JSONMember("error_data", .integer(attemptsLeft))]),
                   httpStatus: 403, locations: [("dispatcher", 107)])
    }

    public static func banned() -> MMRPCError {
        MMRPCError(display: "Your ip is banned.", errorType: "Banned", errorData: nil, httpStatus: 403,
                   locations: [("dispatcher", 99)])
    }

    // MARK: errors shared by the lightning methods

    /// `lp_coinfind_or_err` failing inside `method` (made in lp_coins, converted in the method).
    public static func noSuchCoin(_ coin: String, method: String, line: Int) -> MMRPCError {
        MMRPCError(display: "No such coin \(coin)", errorType: "NoSuchCoin", errorData: .string(coin), httpStatus: 404,
                   locations: [("lp_coins", 5070), (method, line)])
    }

    public static func dbError(_ text: String, method: String, line: Int) -> MMRPCError {
        MMRPCError(display: "DB error \(text)", errorType: "DbError", errorData: .string(text), httpStatus: 500,
                   locations: [(method, line)])
    }
}
