import NIOCore
import NIOPosix
import Synchronization

/// A raw socket to a daemon that sends whatever bytes it is given and collects the frames that
/// come back: how the robustness tests throw malformed, truncated or unauthenticated traffic at
/// a real daemon (and how an operator can poke at one). Not for normal use: `WireConnection` is.
public final class WireProbe: Sendable {
    private let channel: any Channel
    private let inbox: Inbox

    private init(channel: any Channel, inbox: Inbox) {
        self.channel = channel
        self.inbox = inbox
    }

    /// Opens a TCP connection and does nothing else (the server's challenge arrives as a frame).
    public static func connect(to address: WireAddress, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> WireProbe {
        let inbox = Inbox()
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        FrameDecoder(slicesReceivedBuffers: true), ProbeCollector(inbox: inbox),
                    ])
                }
            }
            .connect(host: address.host, port: address.port)
            .get()
        return WireProbe(channel: channel, inbox: inbox)
    }

    /// Sends raw bytes; errors (the peer closed) are ignored, `isClosed` tells.
    public func send(_ bytes: ByteBuffer) async {
        try? await channel.writeAndFlush(bytes)
    }

    /// Sends a well-formed header with `payload` behind it.
    public func sendFrame(opcode: UInt8, status: UInt16 = 0, requestID: UInt64, payload: ByteBuffer) async {
        var bytes = ByteBuffer()
        bytes.writeFrameHeader(opcode: opcode, status: status, requestID: requestID, payloadLength: payload.readableBytes)
        bytes.writeImmutableBuffer(payload)
        await send(bytes)
    }

    /// The next frame from the server, or nil when the connection closed or nothing came in time.
    public func nextFrame(timeout: Duration = .seconds(5)) async -> Frame? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let frame = inbox.take() { return frame }
            if inbox.isClosed { return nil }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return inbox.take()
    }

    /// Answers the challenge with `key`; true when the server accepted.
    public func authenticate(with key: ClusterKey) async -> Bool {
        guard let challenge = await nextFrame(), challenge.opcode == ConnectionOpcode.challenge else { return false }
        var answer = ByteBuffer()
        answer.writeBytes(key.authenticationCode(for: challenge.payload.readableBytesView))
        await sendFrame(opcode: ConnectionOpcode.authenticate, requestID: 0, payload: answer)
        guard let verdict = await nextFrame() else { return false }
        return verdict.opcode == ConnectionOpcode.authenticate && verdict.status == WireStatus.ok.rawValue
    }

    /// Whether the server has closed the connection (or it failed).
    public var isClosed: Bool { inbox.isClosed }

    /// Waits up to `timeout` for the server to close the connection; true if it did.
    public func waitUntilClosed(timeout: Duration = .seconds(5)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if inbox.isClosed { return true }
            _ = inbox.take()
            try? await Task.sleep(for: .milliseconds(2))
        }
        return inbox.isClosed
    }

    /// Stops reading from the socket: the server's replies pile up on its side, as with a peer
    /// that asks and never reads.
    public func stopReading() async {
        try? await channel.setOption(.autoRead, value: false)
    }

    public func close() {
        channel.close(promise: nil)
    }
}

/// The frames received so far and whether the connection has ended.
private final class Inbox: Sendable {
    private let state = Mutex<(frames: [Frame], closed: Bool)>(([], false))

    func append(_ frame: Frame) { state.withLock { $0.frames.append(frame) } }
    func markClosed() { state.withLock { $0.closed = true } }
    func take() -> Frame? { state.withLock { $0.frames.isEmpty ? nil : $0.frames.removeFirst() } }
    var isClosed: Bool { state.withLock { $0.closed } }
}

private final class ProbeCollector: ChannelInboundHandler {
    typealias InboundIn = Frame
    let inbox: Inbox

    init(inbox: Inbox) { self.inbox = inbox }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inbox.append(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.markClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        inbox.markClosed()
        context.close(promise: nil)
    }
}
