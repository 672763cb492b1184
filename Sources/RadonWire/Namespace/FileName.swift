/// A name in a directory, as POSIX has it: bytes, not text.
///
/// Linux lets a name be any bytes but '/' and NUL, 1 to 255 of them, in no encoding; tools
/// create names that are not UTF-8 (Latin-1 archives, random bytes from tests), and a file
/// system that refused or repaired them would fail `tar x`, or merge distinct names into one.
/// So names travel as bytes from the kernel to the database and back, compared and stored
/// byte for byte. The rules a directory enforces (length, '/' and NUL, "." and "..") are the
/// metadata service's (`NameRule`); this type holds any bytes so a refused name can still be
/// carried to the place that refuses it.
///
/// Text is only a view: `init(_:)` takes a Swift string's UTF-8, `description` shows the bytes
/// with anything that is not printable UTF-8 escaped, for logs and the CLI.
public struct FileName: Sendable, Hashable, Codable, ExpressibleByStringInterpolation, CustomStringConvertible {
    public var bytes: [UInt8]

    public init(bytes: some Sequence<UInt8>) {
        self.bytes = Array(bytes)
    }

    /// The UTF-8 bytes of `string`.
    public init(_ string: String) {
        bytes = Array(string.utf8)
    }

    public init(stringLiteral value: String) {
        self.init(value)
    }

    public static let dot: FileName = "."
    public static let dotDot: FileName = ".."

    /// The length in bytes (what NAME_MAX bounds).
    public var count: Int { bytes.count }
    public var isEmpty: Bool { bytes.isEmpty }

    /// The name as text when it is valid UTF-8, nil otherwise.
    public var string: String? { String(validating: bytes, as: UTF8.self) }

    /// The name for people: valid UTF-8 as it is, except control characters and backslash, which
    /// are escaped (`\n`, `\t`, `\\`, `\x1b`, each byte of a C1 control); bytes that are not UTF-8 as
    /// `\xNN`. Distinct names always print differently.
    public var description: String {
        var text = ""
        var index = 0
        while index < bytes.count {
            let width = Self.scalarWidth(in: bytes, at: index)
            if width == 0 {
                text += Self.hexEscape(bytes[index])
                index += 1
                continue
            }
            let scalar = String(decoding: bytes[index..<index + width], as: UTF8.self).unicodeScalars.first!
            switch scalar {
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\t": text += "\\t"
            case "\r": text += "\\r"
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                    // Every byte of the character, so U+0085 (C2 85) never reads as byte 0x85.
                    for byte in bytes[index..<index + width] { text += Self.hexEscape(byte) }
                } else {
                    text.unicodeScalars.append(scalar)
                }
            }
            index += width
        }
        return text
    }

    private static func hexEscape(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return "\\x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0xF)])
    }

    /// The length of the well-formed UTF-8 sequence starting at `index`, or 0 if there is none.
    private static func scalarWidth(in bytes: [UInt8], at index: Int) -> Int {
        let lead = bytes[index]
        let width: Int
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: width = 2
        case 0xE0...0xEF: width = 3
        case 0xF0...0xF4: width = 4
        default: return 0
        }
        guard index + width <= bytes.count else { return 0 }
        return String(validating: bytes[index..<index + width], as: UTF8.self) == nil ? 0 : width
    }
}
