/// A test-harness failure with a message meant for a human (a command's output, what timed
/// out), thrown where `#require` is not available or says too little.
public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
