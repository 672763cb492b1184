/// Where a daemon listens: a host name or IP literal and a TCP port, written `host:port`
/// (`[v6]:port` for IPv6 literals).
public struct WireAddress: Sendable, Hashable, Codable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[v6]:port`; nil when the text is not one, or the port is not in
    /// 0...65535 (0 asks the system for a free port when listening).
    public init?(_ text: String) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.contains(":") else { return nil }
        }
        guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port) else { return nil }
        self.init(host: String(host), port: port)
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

extension WireAddress {
    /// Parses a comma-separated list (`a:1,b:2`, as `--meta` takes every metadata server); nil
    /// when any item is not an address or the list is empty.
    public static func list(_ text: String) -> [WireAddress]? {
        let items = text.split(separator: ",", omittingEmptySubsequences: true)
            .map { String($0.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed()) }
        let addresses = items.compactMap(WireAddress.init)
        guard !addresses.isEmpty, addresses.count == items.count else { return nil }
        return addresses
    }
}
