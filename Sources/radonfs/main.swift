import RadonCLI

await RadonFSCommand.main()
