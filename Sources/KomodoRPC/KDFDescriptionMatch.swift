/// How `KDFPaymentStore` finds the rows whose description contains a filter: the rule is a literal
/// substring, ASCII case-insensitive (SQLite LIKE's folding without its wildcards), for every
/// length; this decides which part of that work the FTS5 trigram index can do.
///
/// Contract:
/// - `usesIndex`: three or more Unicode scalars, the least the trigram tokenizer can look up, and
///   no NUL (the tokenizer stops at a NUL, so such a phrase would not say what the filter says).
/// - `phrase`: the filter as one FTS5 quoted phrase (`"` doubled), a literal substring under the
///   tokenizer's case folding (each code point folded to one, the same as ASCII folding on ASCII):
///   its rows are a superset of the rule's.
/// - `indexAloneDecidesASCIIRows`: for a filter of ASCII characters other than NUL, the phrase
///   match on a row whose description is ASCII too (`kdf_payment_keys.ascii_description`) is
///   exactly the rule, so such a row needs no re-check. Rows with any other character (the Kelvin
///   sign folds to `k`, `İ` to `i`) and filters with any other character are re-checked against
///   the rule (a NUL could end the FTS5 query early and so widen it).
struct KDFDescriptionMatch {
    let phrase: String
    let usesIndex: Bool
    let indexAloneDecidesASCIIRows: Bool

    init(_ needle: String) {
        phrase = "\"" + needle.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        usesIndex = needle.unicodeScalars.count >= 3 && !needle.utf8.contains(0)
        indexAloneDecidesASCIIRows = usesIndex && needle.utf8.allSatisfy { $0 != 0 && $0 < 0x80 }
    }

    /// SQL that is 1 for an ASCII description without NUL, else 0 (`length` counts the characters
    /// before the first NUL, the blob's length counts bytes): what `ascii_description` keeps.
    static func asciiFlagSQL(_ column: String) -> String {
        "(length(\(column)) = length(CAST(\(column) AS BLOB)))"
    }
}
