import Foundation

/// The files of a cluster's TLS material in one directory, as `radonfs ca init` and
/// `radonfs cert issue` lay them out:
///
/// - `ca.pem`: the cluster CA's certificate, the only trust root of every connection;
/// - `ca.key`: the CA's private key (needed only where certificates are issued);
/// - `NAME.pem`, `NAME.key`: the certificate and key of the identity NAME;
/// - `revoked`: the serials refused even though the CA signed them, one hex serial a line.
///
/// Every file is 0600 and the directory 0700 (`PrivateState`).
public struct TLSDirectory: Sendable, Hashable {
    public var path: String

    public init(_ path: String) {
        self.path = path
    }

    public var authorityCertificate: String { "\(path)/ca.pem" }
    public var authorityKey: String { "\(path)/ca.key" }
    public var revocations: String { "\(path)/revoked" }

    public func certificate(of name: String) -> String { "\(path)/\(name).pem" }
    public func privateKey(of name: String) -> String { "\(path)/\(name).key" }

    /// Whether `name` can name an identity: letters, digits, `.`, `_` and `-`, not `ca`, at
    /// most 64 characters (it becomes file names and a certificate's common name).
    public static func isValidName(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 64, name != "ca", name != "revoked", !name.hasPrefix(".") else { return false }
        return name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar))
        }
    }

    /// `parse` of the PEM text at `path`, or a clear error naming the file and `what` it
    /// should hold: missing or unreadable (`.notFound`), or not that PEM (`.invalidArgument`).
    static func readPEM<Value>(_ path: String, what: String, _ parse: (String) throws -> Value) throws -> Value {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw WireError(.notFound, "cannot read \(what) \(path): \(error.localizedDescription)")
        }
        do {
            return try parse(text)
        } catch {
            throw WireError(.invalidArgument, "\(path) is not \(what) in PEM: \(error)")
        }
    }
}
