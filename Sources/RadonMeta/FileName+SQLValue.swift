import RadonWire

/// Names are stored as BLOB (SQLite) or BYTEA (PostgreSQL) and compared byte for byte, so two
/// names that differ in any byte are two entries, whatever their encoding. SQLite migration
/// `v3-byte-names` turned the TEXT names of older databases into BLOBs: a BLOB never equals a
/// TEXT value in SQLite, so lookups of old names would otherwise find nothing.
extension FileName: SQLValueConvertible {
    public var sqlValue: SQLValue { .blob(bytes) }

    public init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .blob(let bytes): self.init(bytes: bytes)
        // A TEXT value (never written since v3) reads as its UTF-8 bytes.
        case .text(let text): self.init(bytes: Array(text.utf8))
        default: return nil
        }
    }
}
