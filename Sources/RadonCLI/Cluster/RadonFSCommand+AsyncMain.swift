import ArgumentParser

extension RadonFSCommand {
    /// Parses the command line and runs the chosen subcommand, awaiting async ones.
    ///
    /// `await RadonFSCommand.main()` in main.swift resolves to ArgumentParser's synchronous
    /// `ParsableCommand.main()` on this toolchain (even with an async `main` declared on the type
    /// itself), and that one refuses every async subcommand with "needs availability
    /// annotation". A name of its own avoids the overload.
    public static func runAsync() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
