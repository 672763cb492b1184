import NIOCore

/// The primitive encodings every `WireMessage` is built from. Integers are big-endian and fixed
/// width; strings and byte strings carry a u32 length prefix; every reader checks the length
/// against what is actually there before allocating, so a hostile length costs nothing.
extension ByteBuffer {
    /// Reads a big-endian integer or throws `WireError.truncated`.
    @inlinable
    public mutating func readWireInteger<T: FixedWidthInteger>(as: T.Type = T.self) throws -> T {
        guard let value = readInteger(as: T.self) else { throw WireError.truncated }
        return value
    }

    @inlinable
    public mutating func writeWireInteger<T: FixedWidthInteger>(_ value: T) {
        writeInteger(value)
    }

    /// Reads a u8-coded enum; a value it has no case for is a `badRequest` naming `what`.
    public mutating func readWireEnum<T: RawRepresentable>(_ type: T.Type, _ what: String) throws -> T where T.RawValue == UInt8 {
        let raw = try readWireInteger(as: UInt8.self)
        guard let value = T(rawValue: raw) else { throw WireError.badRequest("unknown \(what) \(raw)") }
        return value
    }

    public mutating func writeWireBool(_ value: Bool) {
        writeInteger(value ? 1 as UInt8 : 0)
    }

    public mutating func readWireBool() throws -> Bool {
        switch try readWireInteger(as: UInt8.self) {
        case 0: return false
        case 1: return true
        case let other: throw WireError(.badRequest, "invalid boolean \(other)")
        }
    }

    /// Writes a u32 length and the UTF-8 bytes.
    public mutating func writeWireString(_ string: String) {
        let lengthIndex = writerIndex
        writeInteger(UInt32(0))
        let length = writeString(string)
        setInteger(UInt32(length), at: lengthIndex)
    }

    /// Reads a string written by `writeWireString`, refusing one longer than `maximumLength`
    /// bytes. Invalid UTF-8 is refused rather than repaired: a name must round-trip exactly.
    public mutating func readWireString(maximumLength: Int = Int(UInt32.max)) throws -> String {
        let length = try readWireLength(maximumLength: maximumLength)
        guard let bytes = readSlice(length: length) else { throw WireError.truncated }
        guard let string = String(validating: bytes.readableBytesView, as: UTF8.self) else {
            throw WireError(.badRequest, "string is not valid UTF-8")
        }
        return string
    }

    /// Writes a u32 length and the bytes.
    public mutating func writeWireBytes(_ bytes: some Collection<UInt8>) {
        writeInteger(UInt32(bytes.count))
        writeBytes(bytes)
    }

    /// Writes a u32 length and the readable bytes of `buffer` (not consuming it).
    public mutating func writeWireBytes(_ buffer: ByteBuffer) {
        writeInteger(UInt32(buffer.readableBytes))
        writeImmutableBuffer(buffer)
    }

    /// Reads length-prefixed bytes into an array.
    public mutating func readWireBytes(maximumLength: Int = Int(UInt32.max)) throws -> [UInt8] {
        let length = try readWireLength(maximumLength: maximumLength)
        guard let bytes = readBytes(length: length) else { throw WireError.truncated }
        return bytes
    }

    /// Reads length-prefixed bytes as a slice of this buffer: no copy, the storage is shared.
    public mutating func readWireBuffer(maximumLength: Int = Int(UInt32.max)) throws -> ByteBuffer {
        let length = try readWireLength(maximumLength: maximumLength)
        guard let slice = readSlice(length: length) else { throw WireError.truncated }
        return slice
    }

    /// Writes a presence flag and, when present, the value.
    public mutating func writeWireOptional<Value>(_ value: Value?, _ write: (inout ByteBuffer, Value) -> Void) {
        if let value {
            writeWireBool(true)
            write(&self, value)
        } else {
            writeWireBool(false)
        }
    }

    public mutating func readWireOptional<Value>(_ read: (inout ByteBuffer) throws -> Value) throws -> Value? {
        try readWireBool() ? try read(&self) : nil
    }

    /// Writes a u32 count and each element.
    public mutating func writeWireArray<Element>(_ elements: some Collection<Element>, _ write: (inout ByteBuffer, Element) -> Void) {
        writeInteger(UInt32(elements.count))
        for element in elements { write(&self, element) }
    }

    /// Reads a u32 count and that many elements. Every element takes at least one byte, so a
    /// count larger than the bytes left is refused before anything is reserved.
    public mutating func readWireArray<Element>(maximumCount: Int = Int(UInt32.max), _ read: (inout ByteBuffer) throws -> Element) throws -> [Element] {
        let count = Int(try readWireInteger(as: UInt32.self))
        guard count <= maximumCount else { throw WireError(.badRequest, "\(count) elements, at most \(maximumCount) allowed") }
        guard count <= readableBytes else { throw WireError.truncated }
        var elements: [Element] = []
        elements.reserveCapacity(count)
        for _ in 0..<count { elements.append(try read(&self)) }
        return elements
    }

    /// Writes any message inline (no length prefix).
    public mutating func writeWireMessage(_ message: some WireMessage) {
        message.encode(into: &self)
    }

    public mutating func readWireMessage<Message: WireMessage>(_ type: Message.Type = Message.self) throws -> Message {
        try Message(from: &self)
    }

    private mutating func readWireLength(maximumLength: Int) throws -> Int {
        let length = Int(try readWireInteger(as: UInt32.self))
        guard length <= maximumLength else {
            throw WireError(.badRequest, "length \(length) exceeds the limit of \(maximumLength)")
        }
        guard length <= readableBytes else { throw WireError.truncated }
        return length
    }
}
