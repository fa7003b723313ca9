/// Combines the options of a configuration file with those of the command line: flags override
/// the file.
///
/// Contract: an option given on the command line replaces every value the file gives it (for a
/// repeatable option too: the command line's list replaces the file's list, as LND's command line
/// replaces lnd.conf's); the result holds the file's remaining occurrences first, in file order,
/// then the command line's, so applying them in order leaves the command line's last.
public enum OptionLayers {
    public static func merge(file: [OptionOccurrence], commandLine: [OptionOccurrence]) -> [OptionOccurrence] {
        let overridden = Set(commandLine.map(\.index))
        return file.filter { !overridden.contains($0.index) } + commandLine
    }
}
