/// One option given once: which option (an index into the caller's `[OptionSpec]`), the name it
/// was spelled with (`d`, `debuglevel`, `routerrpc.usestatusinitiated`), its value and its source.
///
/// Contract: a switch's value is always `"true"` or `"false"` (normalised from the accepted
/// spellings, see ``SwitchValue``); any other option's value is the text given, unvalidated.
public struct OptionOccurrence: Sendable, Equatable {
    public let index: Int
    public let name: String
    public let value: String
    public let source: OptionSource

    public init(index: Int, name: String, value: String, source: OptionSource) {
        self.index = index
        self.name = name
        self.value = value
        self.source = source
    }

    /// For a switch: whether it was turned on.
    public var isOn: Bool { value == "true" }
}
