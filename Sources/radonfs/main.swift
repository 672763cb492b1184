import RadonCLI

await RadonFSCommand.runAsync()
