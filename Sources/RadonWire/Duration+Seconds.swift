extension Duration {
    /// The duration in seconds, as a Double: what timeouts handed to C (FUSE), SQL intervals
    /// and rates printed for people are written in.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// Whole milliseconds (truncated toward zero, saturating at Int64's bounds): what wire
    /// fields and client libraries that count in milliseconds are given.
    public var milliseconds: Int64 {
        wholeUnits(perSecond: 1000)
    }

    /// Whole nanoseconds (truncated toward zero, saturating at Int64's bounds): what
    /// histograms and wall-clock comparisons count in.
    public var nanoseconds: Int64 {
        wholeUnits(perSecond: 1_000_000_000)
    }

    private func wholeUnits(perSecond: Int64) -> Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: perSecond)
        let (total, overflowAgain) = whole.addingReportingOverflow(attoseconds / (1_000_000_000_000_000_000 / perSecond))
        guard !overflow, !overflowAgain else { return seconds < 0 ? .min : .max }
        return total
    }
}
