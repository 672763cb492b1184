import Crypto
import Foundation

/// The secret every connection of a cluster proves it knows (HMAC-SHA256 over the server's
/// challenge). 32 random bytes, made once when a cluster is created and kept as `cluster.key`
/// (hex text, mode 0600) in the cluster directory.
public struct ClusterKey: Sendable, Hashable {
    /// The key bytes.
    public let bytes: [UInt8]

    public static let byteCount = 32

    /// A fresh random key.
    public static func generate() -> ClusterKey {
        ClusterKey(validBytes: SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
    }

    /// A key from its bytes; they must be exactly `byteCount` long.
    public init(bytes: [UInt8]) throws {
        guard bytes.count == Self.byteCount else {
            throw WireError(.invalidArgument, "a cluster key is \(Self.byteCount) bytes, not \(bytes.count)")
        }
        self.bytes = bytes
    }

    private init(validBytes: [UInt8]) {
        self.bytes = validBytes
    }

    /// A key from its hex text (64 hex digits; surrounding whitespace is ignored).
    public init(hex: String) throws {
        let digits = Array(hex.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        guard digits.count == Self.byteCount * 2 else {
            throw WireError(.invalidArgument, "a cluster key is \(Self.byteCount * 2) hex digits, not \(digits.count)")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.byteCount)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = Self.hexValue(digits[index]), let low = Self.hexValue(digits[index + 1]) else {
                throw WireError(.invalidArgument, "a cluster key holds only hex digits")
            }
            bytes.append(high << 4 | low)
        }
        self.bytes = bytes
    }

    /// Reads a key file written by `write(to:)`.
    public init(contentsOf path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw WireError(.notFound, "cannot read the cluster key \(path): \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw WireError(.invalidArgument, "the cluster key \(path) is not hex text")
        }
        do {
            try self.init(hex: text)
        } catch let error as WireError {
            throw WireError(error.status, "\(path): \(error.message)")
        }
    }

    /// 64 lowercase hex digits.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Writes the key as hex text with mode 0600, created so that no other user can ever read it.
    public func write(to path: String) throws {
        try PrivateState.writeFile(Array((hexString + "\n").utf8), to: path)
    }

    /// HMAC-SHA256 of `challenge` under this key: what a client answers a server's challenge with.
    public func authenticationCode(for challenge: some Collection<UInt8>) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: bytes))
        hmac.update(data: Array(challenge))
        return Array(hmac.finalize())
    }

    /// Whether `code` is this key's answer to `challenge` (compared in constant time).
    public func isValid(authenticationCode code: some Collection<UInt8>, for challenge: some Collection<UInt8>) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(Array(code), authenticating: Array(challenge), using: SymmetricKey(data: bytes))
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
