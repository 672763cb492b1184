import Logging
import Metrics
import NIOCore
import RadonWire

/// The storage daemon's request handler: decodes each request, runs it on the fragment store,
/// encodes the reply. Every failure, including a malformed payload, becomes an error reply.
public struct StorageService: Sendable {
    public let store: FragmentStore
    private let logger: Logger
    private let startTime = ContinuousClock.now
    private let requests = Counter(label: "radonfs_storage_requests_total")
    private let failures = Counter(label: "radonfs_storage_request_failures_total")
    private let bytesWritten = Counter(label: "radonfs_storage_fragment_bytes_written_total")
    private let bytesRead = Counter(label: "radonfs_storage_fragment_bytes_read_total")
    private let corruptSlots = Counter(label: "radonfs_storage_corrupt_slots_total")
    private let writeDuration = Metrics.Timer(label: "radonfs_storage_write_seconds")
    /// Time to answer, per opcode: made once, as making an instrument takes the registry's lock.
    private let durations: [UInt8: Metrics.Timer]

    public init(store: FragmentStore, logger: Logger) {
        self.store = store
        self.logger = logger
        durations = Dictionary(uniqueKeysWithValues: StorageOpcode.allCases.map { opcode in
            (opcode.rawValue, Metrics.Timer(label: "radonfs_storage_request_duration_seconds", dimensions: [("op", "\(opcode)")]))
        })
    }

    /// Answers one request; the `WireServer.Handler` of the daemon.
    public func handle(_ request: WireRequest) async -> WireResponse {
        requests.increment()
        let started = ContinuousClock.now
        defer { durations[request.opcode]?.record(duration: ContinuousClock.now - started) }
        let response: WireResponse
        do {
            response = try await reply(to: request)
        } catch {
            failures.increment()
            response = .failure(for: error)
            if response.status != .badRequest, response.status != .invalidArgument {
                logger.warning("request failed", metadata: ["opcode": "\(request.opcode)", "error": "\(error)"])
            }
        }
        return response
    }

    private func reply(to request: WireRequest) async throws -> WireResponse {
        guard let opcode = StorageOpcode(rawValue: request.opcode) else {
            throw WireError(.unsupported, "opcode \(request.opcode) is not a storage request")
        }
        switch opcode {
        case .writeFragments:
            let message = try request.decode(WriteFragmentsRequest.self)
            let started = ContinuousClock.now
            let outcome = try await store.write(message.file, fragmentCapacity: message.fragmentCapacity, slots: message.slots,
                                                keepPrevious: message.keepPrevious, deferSync: message.deferSync)
            writeDuration.record(duration: ContinuousClock.now - started)
            bytesWritten.increment(by: message.slots.reduce(0) { $0 + $1.bytes.readableBytes })
            return .ok(WriteFragmentsReply(staleSlots: outcome.staleSlots, blocksWithPrevious: outcome.blocksWithPrevious,
                                           syncDeferred: outcome.syncDeferred, boot: HostBoot.current))
        case .syncFile:
            let message = try request.decode(SyncFileRequest.self)
            try await store.synchronize(message.file)
            return .ok(SyncFileReply(boot: HostBoot.current))
        case .readFragments, .readPreviousFragments:
            let message = try request.decode(ReadFragmentsRequest.self)
            let results = try await store.read(message.file, blocks: message.blocks, includeBytes: message.includeBytes,
                                               previous: opcode == .readPreviousFragments)
            var shipped = 0
            for result in results {
                switch result.fragment {
                case let .present(_, _, bytes, _): shipped += bytes.readableBytes
                case .corrupt:
                    corruptSlots.increment()
                    logger.error("corrupt slot", metadata: ["file": "\(message.file)", "block": "\(result.blockIndex)"])
                case .missing: break
                }
            }
            bytesRead.increment(by: shipped)
            // The fragments go out as the buffers they were read into, not copied behind the fields.
            let (payload, trailingPayload) = ReadFragmentsReply(results: results).encodedParts(allocator: ByteBufferAllocator())
            return .ok(payload, trailingPayload: trailingPayload)
        case .readFragmentRange:
            let message = try request.decode(ReadFragmentRangeRequest.self)
            // No bytes wanted: the version from the slot header is the whole answer. Else the
            // chunks the range covers are read and checked against the slot's chunk table (or
            // the whole slot against its stored CRC, where the table cannot vouch for it), and
            // the range goes out with a CRC32C of its own.
            let reply = message.length == 0
                ? ReadFragmentsReply(results: [try await store.slotVersion(message.file, block: message.blockIndex)])
                : ReadFragmentsReply(results: [try await store.readRange(message.file, block: message.blockIndex,
                                                                         offset: Int(message.offset), length: Int(message.length))])
            if case .corrupt = reply.results.first?.fragment {
                corruptSlots.increment()
                logger.error("corrupt slot", metadata: ["file": "\(message.file)", "block": "\(message.blockIndex)"])
            }
            return .ok(reply)
        case .dropPrevious:
            let message = try request.decode(DropPreviousRequest.self)
            try await store.dropPrevious(message.file, slots: message.slots.map { ($0.blockIndex, $0.storedVersion) })
            return .ok(ByteBuffer())
        case .deleteFile:
            let message = try request.decode(DeleteFileRequest.self)
            return .ok(DeleteFileReply(removedFiles: try await store.deleteFile(group: message.group, inode: message.inode)))
        case .truncate:
            let message = try request.decode(TruncateRequest.self)
            try await store.truncate(group: message.group, inode: message.inode, blockCount: message.blockCount)
            return .ok(ByteBuffer())
        case .listFiles:
            let message = try request.decode(ListFilesRequest.self)
            let page = try await store.listFiles(group: message.group, after: message.after, limit: Int(min(message.limit, 100_000)))
            return .ok(ListFilesReply(files: page.files, hasMore: page.hasMore))
        case .listGroups:
            _ = try request.decode(WireEmpty.self)
            return .ok(ListGroupsReply(groups: try await store.listGroups()))
        case .nodeStatus:
            _ = try request.decode(WireEmpty.self)
            return .ok(try await nodeStatus())
        }
    }

    /// What `nodeStatus` answers, and what the daemon reports to the metadata service.
    public func nodeStatus() async throws -> StorageNodeStatus {
        let status = try await store.status()
        return StorageNodeStatus(
            capacityBytes: status.capacityBytes, freeBytes: status.freeBytes, fragmentFileCount: UInt64(status.fragmentFiles),
            groupCount: UInt32(status.groups), uptimeSeconds: UInt64((ContinuousClock.now - startTime).components.seconds)
        )
    }
}
