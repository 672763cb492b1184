import Foundation

/// The secret that makes a console request an admin's: sent as `Authorization: Bearer TOKEN`
/// (a header, never a cookie, so another site's page cannot make the browser send it). `radonfs
/// up` writes one to DIR/console-admin-token (mode 0600, readable only by whoever runs the
/// cluster); `radonfs meta --console-admin-token-file` reads it. Without one the console is
/// read-only for everybody.
///
/// Invariant: `value` is at least 16 characters with no whitespace.
public struct ConsoleAdminToken: Sendable {
    let value: [UInt8]

    public init(file: String) throws {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ConsoleError("cannot read the console admin token file \(file)")
        }
        try self.init(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    public init(_ token: String) throws {
        guard token.count >= 16, !token.contains(where: \.isWhitespace) else {
            throw ConsoleError("a console admin token needs at least 16 characters and no spaces")
        }
        value = Array(token.utf8)
    }

    /// A new random token: 32 bytes as hex.
    public static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// Whether an `Authorization` header carries this token, compared in constant time.
    public func authorizes(_ header: String?) -> Bool {
        guard let header, header.hasPrefix("Bearer ") else { return false }
        let presented = Array(header.dropFirst("Bearer ".count).utf8)
        guard presented.count == value.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(presented, value) { difference |= a ^ b }
        return difference == 0
    }
}

/// A console setup error with a sentence for the operator.
public struct ConsoleError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
