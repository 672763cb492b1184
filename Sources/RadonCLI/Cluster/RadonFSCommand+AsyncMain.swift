import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

extension RadonFSCommand {
    /// Parses the command line and runs the chosen subcommand, awaiting async ones.
    ///
    /// `await RadonFSCommand.main()` in main.swift resolves to ArgumentParser's synchronous
    /// `ParsableCommand.main()` on this toolchain (even with an async `main` declared on the type
    /// itself), and that one refuses every async subcommand with "needs availability
    /// annotation". A name of its own avoids the overload.
    ///
    /// Any subcommand takes `--config FILE` (see `ConfigFile`): its options are put in front of
    /// the command line's before parsing, and a parse or validation error about one of them
    /// names the file and the key.
    public static func runAsync() async {
        let commandLine = Array(CommandLine.arguments.dropFirst())
        let arguments: [String]
        let config: ConfigFile?
        do {
            (arguments, config) = try ConfigFile.expand(commandLine, root: Self.self)
        } catch {
            exit(withError: error)
        }
        var command: any ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            exit(withError: config.map { blame(error, on: $0) } ?? error)
        }
        if command is MetaServeCommand || command is StorageCommand {
            runsTasksOnEventLoops()
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    /// `error` with the config file and key it is about, when it is a failure about one of the
    /// file's options; `error` itself otherwise (help requests, command-line mistakes).
    static func blame(_ error: any Error, on config: ConfigFile) -> any Error {
        guard exitCode(for: error) != .success else { return error }
        let text = message(for: error)
        guard let key = config.key(blamedBy: text) else { return error }
        return ValidationError("\(config.path): key \"\(key)\": \(text)")
    }

    /// Makes NIO's event loops the process's executor for Swift tasks, before the command
    /// starts any: a request's task then runs on the loop that read it, and its reply is
    /// written from there, so a metadata request crosses no thread unless its engine does.
    ///
    /// The metadata service and the storage daemons do this. Their requests are short, or wait
    /// elsewhere: SQLite runs in place (`SQLiteEngine`), PostgreSQL on threads of its own, and a
    /// storage daemon's disk I/O on its store's pool, except small range reads served from the
    /// page cache in place (`FragmentStore.readRange`). Most of a small request's cost there
    /// was thread wake-ups: with the loops as executor, a loop of creates took about 15 % less
    /// of the metadata service's CPU, and a 4 KiB random read about 25 % less of the storage
    /// daemons' (README, "Benchmarks"). The mount keeps Swift's own pool: its longer work
    /// (codecs, FUSE requests) would hold up a socket's loop, and with the loops as executor it
    /// measured no faster.
    private static func runsTasksOnEventLoops() {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}
