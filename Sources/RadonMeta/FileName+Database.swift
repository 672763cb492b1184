import Foundation
import GRDB
import RadonWire

/// Names are stored as BLOBs and compared byte for byte (SQLite's BINARY order), so two names
/// that differ in any byte are two entries, whatever their encoding. Migration
/// `v3-byte-names` turned the TEXT names of older databases into BLOBs: a BLOB never equals a
/// TEXT value in SQLite, so lookups of old names would otherwise find nothing.
extension FileName: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { Data(bytes).databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> FileName? {
        // A TEXT value (never written since v3) reads as its UTF-8 bytes.
        Data.fromDatabaseValue(dbValue).map { FileName(bytes: $0) }
    }
}
