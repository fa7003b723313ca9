/// Lowercase hexadecimal encoding and lenient (either case) decoding: `Hex.encode(_:)`,
/// `Hex.decode(_:)` (nil for odd length or a non-hex character). The one codec lives in
/// LightningPrimitives (dependency-free, so Routing and Payments share it); Crypto re-exports
/// that declaration, so `import Crypto` keeps providing `Hex` (also in default arguments).
@_exported import enum LightningPrimitives.Hex
