import NIOCore

/// How a call notices that the server at the other end went silent: a process frozen
/// (SIGSTOP, a VM paused) or a link cut without a reset, where TCP says nothing for minutes and
/// the call would otherwise wait its whole timeout (30 s for metadata calls).
///
/// Once a watched call has heard nothing from the connection for `probeAfter`, the connection
/// sends a ping, which the server's wire layer answers at once however long its requests take.
/// Any byte that arrives counts as an answer (a large reply still streaming in too). When
/// nothing at all arrives within `answerWithin` of the ping, the connection closes and every
/// call on it fails with `.unavailable`, which a caller that can go elsewhere (`MetaFailover`)
/// treats as a transport failure. A server that is merely slow answers the ping and keeps its
/// calls.
public struct SilenceWatch: Sendable, Hashable {
    /// How long a watched call waits, hearing nothing, before it pings.
    public var probeAfter: Duration
    /// How long the ping has to be answered (by any byte) before the connection is given up.
    public var answerWithin: Duration

    public init(probeAfter: Duration, answerWithin: Duration) {
        self.probeAfter = probeAfter
        self.answerWithin = answerWithin
    }

    /// For metadata calls: a frozen active is left about 7 s after its last byte. The ping's
    /// 5 s leaves room for a server whose event loop is late on a busy machine; a standby takes
    /// over after the 5 s lease anyway, so waiting less would mostly meet `notActive`.
    public static let metadata = SilenceWatch(probeAfter: .seconds(2), answerWithin: .seconds(5))

    /// How often a connection with watched calls looks at its silence: a tenth of the shorter
    /// of the two times, between 10 ms and 500 ms.
    var checkInterval: TimeAmount {
        let tenth = min(probeAfter, answerWithin) / 10
        return TimeAmount(min(max(tenth, .milliseconds(10)), .milliseconds(500)))
    }
}
