import RadonWire
import Testing

/// The whole-unit readings of a Duration that wire fields, histograms and client libraries take.
@Suite struct DurationUnitsTests {
    @Test func wholeUnitsTruncateTowardZero() {
        #expect(Duration.seconds(2.5).milliseconds == 2500)
        #expect(Duration.microseconds(1999).milliseconds == 1)
        #expect(Duration.nanoseconds(1_500).nanoseconds == 1500)
        #expect(Duration.seconds(3).nanoseconds == 3_000_000_000)
        #expect(Duration.milliseconds(-3).milliseconds == -3)
        #expect(Duration.seconds(2.5).seconds == 2.5)
    }

    @Test func wholeUnitsSaturateInsteadOfWrapping() {
        #expect(Duration.seconds(Int64.max).nanoseconds == .max)
        #expect(Duration.seconds(Int64.max).milliseconds == .max)
        #expect(Duration.seconds(Int64.min).nanoseconds == .min)
        #expect(Duration.seconds(10_000_000_000).nanoseconds == .max, "about 317 years: past Int64 nanoseconds")
        #expect(Duration.seconds(2.5).wireMilliseconds == 2500)
        #expect(Duration.seconds(5_000_000).wireMilliseconds == .max, "clamped to the u32 field")
    }
}
