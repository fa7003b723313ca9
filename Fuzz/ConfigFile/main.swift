import Options

/// The configuration-file parser (LND's INI syntax) on arbitrary bytes: it must only throw
/// OptionError, and every occurrence it returns must name a known option, a line inside the file
/// and, for a switch, a normalised boolean.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let specs = [
        OptionSpec(names: ["datadir"], placeholder: "DIR"),
        OptionSpec(names: ["rpclisten"], placeholder: "HOST:PORT", repeatable: true),
        OptionSpec(names: ["no-macaroons"], placeholder: nil),
        OptionSpec(names: ["usestatusinitiated", "routerrpc.usestatusinitiated"], placeholder: nil),
        OptionSpec(names: ["sim.seed"], placeholder: "N"),
        OptionSpec(names: ["debuglevel", "d"], placeholder: "LEVEL"),
    ]
    let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).count
    do {
        let occurrences = try ConfigFileParser.parse(text, path: "fuzz.conf", specs: specs)
        var single = Set<Int>()
        for o in occurrences {
            precondition(specs.indices.contains(o.index))
            guard case .file(_, let line) = o.source else { preconditionFailure("source") }
            precondition(line >= 1 && line <= lines, "line \(line) of \(lines)")
            if specs[o.index].isSwitch { precondition(o.value == "true" || o.value == "false") }
            if !specs[o.index].repeatable { precondition(single.insert(o.index).inserted, "duplicate accepted") }
        }
    } catch {
        _ = "\(error)"
    }
    return 0
}
