import LightningPrimitives

/// Decodes the base64 text in which the generator embeds serialized descriptors (a string
/// literal compiles far faster than a 15 kB array literal). Input is generator output, so
/// invalid text is a build defect and traps.
enum DescriptorBase64 {
    static func decode(_ chunks: [String]) -> [UInt8] {
        guard let bytes = Base64.decode(chunks.joined()) else {
            preconditionFailure("generated descriptor is not valid base64")
        }
        return bytes
    }
}
