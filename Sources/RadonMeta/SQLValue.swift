import Foundation

/// One value in or out of a SQL statement, the same for every engine: the metadata logic reads
/// and binds these and never sees GRDB's or PostgresNIO's types.
///
/// Integers are 64-bit signed, as both engines keep them; a `UInt64` travels as its bit
/// pattern, so values below 2^63 (every size, count and id the store holds) read back as
/// written on either engine.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// A Swift type that binds as a `SQLValue` and reads back from one.
public protocol SQLValueConvertible {
    var sqlValue: SQLValue { get }
    /// The value `sqlValue` holds, or nil when it is NULL or of another kind.
    init?(sqlValue: SQLValue)
}

extension SQLValueConvertible where Self: FixedWidthInteger {
    public var sqlValue: SQLValue { .integer(Int64(self)) }

    public init?(sqlValue: SQLValue) {
        guard case .integer(let value) = sqlValue, let exact = Self(exactly: value) else { return nil }
        self = exact
    }
}

extension Int64: SQLValueConvertible {}
extension Int: SQLValueConvertible {}
extension Int32: SQLValueConvertible {}
extension UInt8: SQLValueConvertible {}
extension UInt16: SQLValueConvertible {}
extension UInt32: SQLValueConvertible {}

extension UInt64: SQLValueConvertible {
    /// The bit pattern: both engines' integers are signed 64-bit.
    public var sqlValue: SQLValue { .integer(Int64(bitPattern: self)) }

    public init?(sqlValue: SQLValue) {
        guard case .integer(let value) = sqlValue else { return nil }
        self = UInt64(bitPattern: value)
    }
}

extension Bool: SQLValueConvertible {
    /// 0 or 1, as SQLite keeps booleans (PostgreSQL's own booleans read back as these too).
    public var sqlValue: SQLValue { .integer(self ? 1 : 0) }

    public init?(sqlValue: SQLValue) {
        guard case .integer(let value) = sqlValue else { return nil }
        self = value != 0
    }
}

extension Double: SQLValueConvertible {
    public var sqlValue: SQLValue { .real(self) }

    public init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .real(let value): self = value
        case .integer(let value): self = Double(value)
        default: return nil
        }
    }
}

extension String: SQLValueConvertible {
    public var sqlValue: SQLValue { .text(self) }

    /// A BLOB reads as text when it is UTF-8, as GRDB reads it.
    public init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .text(let value): self = value
        case .blob(let bytes):
            guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
            self = text
        default: return nil
        }
    }
}

extension Data: SQLValueConvertible {
    public var sqlValue: SQLValue { .blob([UInt8](self)) }

    /// TEXT reads as its UTF-8 bytes (values older SQLite databases kept as TEXT).
    public init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .blob(let bytes): self = Data(bytes)
        case .text(let text): self = Data(text.utf8)
        default: return nil
        }
    }
}

/// One result row: its columns in the order the SELECT names them.
public struct SQLRow: Sendable {
    public var values: [SQLValue]

    public init(_ values: [SQLValue]) { self.values = values }

    /// Column `index`, which must hold a `Value` (a NULL or a mismatch is a broken schema
    /// invariant, and traps as GRDB's row access does).
    public subscript<Value: SQLValueConvertible>(index: Int) -> Value {
        guard let value = Value(sqlValue: values[index]) else {
            fatalError("column \(index) holds \(values[index]), not a \(Value.self)")
        }
        return value
    }

    /// Column `index`, nil when NULL (a value of another kind still traps).
    public subscript<Value: SQLValueConvertible>(index: Int) -> Value? {
        if case .null = values[index] { return nil }
        let value: Value = self[index]
        return value
    }
}

/// The arguments of one statement, written as an array literal of any convertible values
/// (nil binds NULL), as GRDB's `StatementArguments` are.
public struct SQLArguments: Sendable, Hashable, ExpressibleByArrayLiteral {
    public var values: [SQLValue]

    public init(_ values: [SQLValue] = []) { self.values = values }

    public init(arrayLiteral elements: (any SQLValueConvertible)?...) {
        values = elements.map { $0?.sqlValue ?? .null }
    }
}
