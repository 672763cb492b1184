extension Duration {
    /// The duration in seconds, as a Double: what timeouts handed to C (FUSE), SQL intervals
    /// and rates printed for people are written in.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
