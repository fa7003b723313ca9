/// The spellings of a boolean accepted for a switch, as Go's `strconv.ParseBool` (which go-flags,
/// and so LND's command line and lnd.conf, use): 1, t, true, 0, f, false, in any letter case.
public enum SwitchValue {
    /// `true`/`false` for an accepted spelling, nil for anything else.
    public static func parse(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "1", "t", "true": return true
        case "0", "f", "false": return false
        default: return nil
        }
    }
}
