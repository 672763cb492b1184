import NIOCore
import RadonCodec

/// A received fragment's network buffer, read in place by the codec's `decode(_:)`.
extension ByteBuffer: FragmentBytes {
    public func withFragmentBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try withUnsafeReadableBytes(body)
    }
}
