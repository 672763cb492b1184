/// Retention times as users write them: `0`, `3600`, `3600s`, `90m`, `12h`, `1d`, `2w`.
enum RetentionDuration {
    static func seconds(parsing text: String) -> UInt64? {
        let digits = text.prefix { $0.isNumber }
        guard let value = UInt64(digits) else { return nil }
        let multiplier: UInt64
        switch text.dropFirst(digits.count).lowercased() {
        case "", "s": multiplier = 1
        case "m", "min": multiplier = 60
        case "h": multiplier = 3600
        case "d": multiplier = 86_400
        case "w": multiplier = 7 * 86_400
        default: return nil
        }
        let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }

    /// `1d`, `12h`, `90m`, `45s`, `off`: the largest unit that divides the count.
    static func describe(_ seconds: UInt64) -> String {
        if seconds == 0 { return "off" }
        for (unit, name) in [(UInt64(86_400), "d"), (3600, "h"), (60, "m")] where seconds % unit == 0 {
            return "\(seconds / unit)\(name)"
        }
        return "\(seconds)s"
    }
}
