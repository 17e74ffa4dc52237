/// The command line as a library: `WeakSpotCLI.main(arguments, output:, error:)` returns the exit code.
public enum WeakSpotCLI {}
