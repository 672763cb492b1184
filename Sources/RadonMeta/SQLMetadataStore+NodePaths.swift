import RadonWire

/// How the registry keeps a node's extra network paths: one text column, the addresses in
/// registration order separated by spaces (`host:port`, `[v6]:port`), empty for a node with
/// one path. Both engines share it (SQLite migration "v10-node-paths", PostgreSQL version 7).
extension SQLMetadataStore {
    static let nodePathsSchema = "ALTER TABLE node ADD COLUMN extra_addresses TEXT NOT NULL DEFAULT ''"

    static func extraAddressesText(_ addresses: [WireAddress]) -> String {
        addresses.map(\.description).joined(separator: " ")
    }

    static func extraAddresses(from text: String) throws -> [WireAddress] {
        try text.split(separator: " ").map { part in
            guard let address = WireAddress(String(part)) else { throw WireError(.corrupt, "bad node address \"\(part)\" in the registry") }
            return address
        }
    }
}
