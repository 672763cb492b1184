import ArgumentParser
import Foundation
import RadonClient
import RadonWire
import Synchronization

/// `radonfs layout apply PATH [--recursive]`: re-encodes the files whose volume is not their
/// directory's, online, with a progress bar. Files open or changed during their copy are tried
/// again after the others (`--retries` rounds, 2 s apart); the exit status is 3 when some are
/// still left then, and they are named.
struct LayoutApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Re-encode files into their directory's layout, online.",
        discussion: """
            A file is read, written into its directory's volume under the same inode, and switched \
            over in one metadata transaction; its old fragments are then deleted. A file open on \
            any client, or changed during its copy, is left as it is and tried again later. \
            Exit status: 0 every file is in its directory's layout, 3 some were busy every time.
            """)

    @OptionGroup var cluster: ClusterLocator
    @Argument(help: "A file, or a directory (its files; with --recursive, its whole tree).") var path: String
    @Flag(name: .shortAndLong, help: "Every file below the directory, in its own directory's layout.") var recursive = false
    @Option(name: .long, help: "Rounds of retries for files busy (open or changing) during their copy.") var retries: Int = 5

    /// A file to move, with the volume its directory names.
    struct Move {
        var inode: UInt64
        var path: String
        var size: UInt64
        var volume: VolumeSettings
    }

    func run() async throws {
        let (meta, pool) = try await cluster.connectMeta()
        defer { Task { await pool.closeAll() } }
        let client = try await cluster.connectClient()
        do {
            let moves = try await plan(meta: meta, client: client)
            let left = try await move(moves, client: client)
            await client.close()
            if !left.isEmpty {
                for file in left { print("  still busy: \(file.path) (open on a client, or being written)") }
                throw ExitCode(3)
            }
        } catch {
            await client.close()
            throw (error as? ExitCode) ?? (error as? CLIError) ?? CLIError("layout apply: \(error)")
        }
    }

    /// The files under `path` whose volume is not their directory's.
    func plan(meta: MetaClient, client: RadonFileSystemClient) async throws -> [Move] {
        let volumes = try await meta.volumes()
        let start = try await RemotePath.resolve(path, in: client)
        var moves: [Move] = []
        func consider(_ inode: UInt64, path: String, size: UInt64, in directoryVolume: VolumeSettings) async throws {
            let current = try await meta.fileLayout(of: inode)
            if current.volume.id != directoryVolume.id { moves.append(Move(inode: inode, path: path, size: size, volume: directoryVolume)) }
        }
        guard start.kind == .directory else {
            guard start.kind == .regular else { throw CLIError("\(path) is neither a file nor a directory") }
            let (parent, _) = try await RemotePath.parentAndName(path, in: client)
            try await consider(start.inode, path: path, size: start.size, in: try await LayoutCommand.volume(of: parent, meta: meta, volumes: volumes))
            return moves
        }
        var directories: [(inode: UInt64, path: String)] = [(start.inode, path.hasSuffix("/") ? String(path.dropLast()) : path)]
        while let directory = directories.popLast() {
            let volume = try await LayoutCommand.volume(of: directory.inode, meta: meta, volumes: volumes)
            var cookie: UInt64 = 0
            while true {
                let entries = try await client.readDirectory(directory.inode, after: cookie, limit: 1000)
                guard let last = entries.last else { break }
                cookie = last.cookie
                for entry in entries where entry.name != .dot && entry.name != .dotDot {
                    let entryPath = directory.path + "/" + entry.name.description
                    switch entry.attributes.kind {
                    case .regular: try await consider(entry.attributes.inode, path: entryPath, size: entry.attributes.size, in: volume)
                    case .directory where recursive: directories.append((entry.attributes.inode, entryPath))
                    default: break
                    }
                }
            }
        }
        return moves
    }

    /// Moves every file, retrying the busy ones; returns those still busy at the end.
    func move(_ moves: [Move], client: RadonFileSystemClient) async throws -> [Move] {
        let total = moves.reduce(0) { $0 + $1.size }
        guard !moves.isEmpty else {
            print("every file is in its directory's layout already")
            return []
        }
        let progress = ApplyProgress(files: moves.count, bytes: total)
        var pending = moves
        for round in 0...retries {
            if round > 0 {
                print("\(pending.count) files were busy; trying again (round \(round) of \(retries))")
                try await Task.sleep(for: .seconds(2))
            }
            var busy: [Move] = []
            for file in pending {
                let before = progress.bytesDone
                let outcome = try await client.relayout(file.inode, to: file.volume.id) { bytes in progress.update(file: bytes, base: before) }
                switch outcome {
                case .moved, .alreadyThere: progress.finish(file.size, base: before)
                case .busy: progress.update(file: 0, base: before); busy.append(file)
                }
            }
            pending = busy
            if pending.isEmpty { break }
        }
        progress.end()
        return pending
    }
}

/// `[#####-----]  42%  12/30 files  30.2/72.0 MB  5.1 MB/s`, redrawn in place on a terminal and
/// printed once per file elsewhere.
final class ApplyProgress: Sendable {
    private struct State {
        var filesDone = 0
        var bytesDone: UInt64 = 0
        var current: UInt64 = 0
    }

    let files: Int
    let bytes: UInt64
    private let started = ContinuousClock.now
    private let state = Mutex(State())
    private let isTerminal = isatty(STDOUT_FILENO) == 1

    init(files: Int, bytes: UInt64) {
        self.files = files
        self.bytes = bytes
    }

    var bytesDone: UInt64 { state.withLock { $0.bytesDone } }

    func update(file bytes: UInt64, base: UInt64) {
        let line = state.withLock { state in
            state.current = base + bytes
            return self.line(state)
        }
        if isTerminal { redraw(line) }
    }

    func finish(_ size: UInt64, base: UInt64) {
        let line = state.withLock { state in
            state.filesDone += 1
            state.bytesDone = base + size
            state.current = state.bytesDone
            return self.line(state)
        }
        if isTerminal { redraw(line) } else { print(line) }
    }

    private func redraw(_ line: String) {
        FileHandle.standardOutput.write(Data(("\r" + line).utf8))
    }

    func end() {
        if isTerminal { print("") }
    }

    private func line(_ state: State) -> String {
        let fraction = bytes == 0 ? Double(state.filesDone) / Double(max(1, files)) : Double(state.current) / Double(bytes)
        let seconds = max(0.001, (ContinuousClock.now - started).seconds)
        return "\(HealingTotals.bar(fraction))  \(state.filesDone)/\(files) files  "
            + "\(HealingTotals.megabytes(state.current))/\(HealingTotals.megabytes(bytes))  \(HealingTotals.megabytes(UInt64(Double(state.current) / seconds)))/s"
    }
}
