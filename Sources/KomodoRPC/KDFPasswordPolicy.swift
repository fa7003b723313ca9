/// KDF's `rpc_password` checks at startup (`mm2_main` `password_policy`): not empty, and unless
/// `allow_weak_password`, at least 8 characters, a digit, a lowercase and an uppercase letter, a
/// special character, no character 3 times in a row, and not containing "password".
/// The messages are KDF's.
public enum KDFPasswordPolicy {
    public static func check(_ password: String, allowWeak: Bool) -> String? {
        if password.isEmpty { return "rpc_password must not be empty" }
        if allowWeak { return nil }
        if password.lowercased().contains("password") { return "Password can't contain the word password" }
        if password.count < 8 { return "Password length should be at least 8 characters long" }
        // KDF's classes are regexes: [0-9], [a-z], [A-Z], and [^A-Za-z0-9] for "special".
        let s = password.unicodeScalars
        if !s.contains(where: { ("0"..."9").contains($0) }) { return "Password should contain at least 1 digit" }
        if !s.contains(where: { ("a"..."z").contains($0) }) { return "Password should contain at least 1 lowercase character" }
        if !s.contains(where: { ("A"..."Z").contains($0) }) { return "Password should contain at least 1 uppercase character" }
        if !s.contains(where: { !("0"..."9").contains($0) && !("a"..."z").contains($0) && !("A"..."Z").contains($0) }) {
            return "Password should contain at least 1 special character"
        }
        let chars = Array(password)
        if chars.count >= 3 {
            for i in 2..<chars.count where chars[i] == chars[i - 1] && chars[i] == chars[i - 2] {
                return "Password can't contain the same character 3 times in a row"
            }
        }
        return nil
    }

    /// A random password that passes `check`: 24 characters from every required class.
    public static func generate(random: (Int) -> [UInt8]) -> String {
        let lower = Array("abcdefghijkmnopqrstuvwxyz"), upper = Array("ABCDEFGHJKLMNPQRSTUVWXYZ")
        let digits = Array("23456789"), special = Array("@#%^*-_+=")
        while true {
            let bytes = random(24)
            var out: [Character] = []
            for (i, b) in bytes.enumerated() {
                let set = [lower, upper, digits, special][i % 4]
                out.append(set[Int(b) % set.count])
            }
            let text = String(out)
            if check(text, allowWeak: false) == nil { return text }
        }
    }
}
