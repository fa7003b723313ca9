/// Why text could not be parsed as JSON. `offset` is the byte offset of the problem.
public enum JSONError: Error, Equatable, Sendable {
    /// The input ended inside a value.
    case unexpectedEnd
    /// A byte that cannot start or continue the value being read.
    case unexpectedCharacter(UInt8, offset: Int)
    /// A number that does not follow the JSON grammar (e.g. `01`, `1.`, `-`, `+1`).
    case invalidNumber(offset: Int)
    /// A bad `\` escape, or a `\u` escape that is an unpaired surrogate.
    case invalidEscape(offset: Int)
    /// A raw control character (below 0x20) inside a string.
    case controlCharacterInString(offset: Int)
    /// Bytes that are not UTF-8.
    case invalidUTF8(offset: Int)
    /// Arrays/objects nested deeper than ``JSONParser/Limits/maximumDepth``.
    case tooDeep(offset: Int)
    /// The document is larger than ``JSONParser/Limits/maximumBytes``.
    case tooLarge(Int)
    /// Something other than whitespace follows the top-level value.
    case trailingData(offset: Int)
    /// An object names the same key twice.
    case duplicateKey(String, offset: Int)
}
