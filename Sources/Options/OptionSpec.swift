/// What the shared parser needs to know of one option, whatever program declares it.
///
/// Contract: `names[0]` is the canonical name; every name of more than one character is a long
/// name (`--name`, and the key of a configuration file), a one-character name is a short one
/// (`-n`, command line only). A `placeholder` of nil makes the option a switch (a boolean that
/// takes no separate value on the command line). Only a `repeatable` option may be given more
/// than once in one source (its values accumulate in order).
public struct OptionSpec: Sendable, Equatable {
    public let names: [String]
    public let placeholder: String?
    public let repeatable: Bool

    public init(names: [String], placeholder: String?, repeatable: Bool = false) {
        precondition(!names.isEmpty, "an option needs a name")
        self.names = names
        self.placeholder = placeholder
        self.repeatable = repeatable
    }

    public var canonicalName: String { names[0] }
    public var isSwitch: Bool { placeholder == nil }

    /// True when `name` (without dashes) is one of this option's names.
    public func matches(_ name: String) -> Bool { names.contains(name) }
}
