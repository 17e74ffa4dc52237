import Support

extension OptionSpec {
    /// The scanner's and help's view of a declared option (the declaration is the one source).
    init<Request>(_ declaration: OptionDeclaration<Request>) {
        self.init(name: declaration.name, short: declaration.short,
                  kind: declaration.placeholder.map { .value(placeholder: $0) } ?? .flag,
                  help: declaration.help, defaultText: declaration.defaultText, isRepeating: declaration.isRepeating)
    }

    /// Every option of a request, in declaration order.
    static func declared<Request: OptionRequest>(_ request: Request.Type) -> [OptionSpec] {
        Request.declarations.map(OptionSpec.init)
    }
}

extension ParsedArguments {
    /// The typed request of the scanned arguments; a value out of range or a bad combination is
    /// a usage error (exit 2) naming the option.
    func request<Request: OptionRequest>(_ type: Request.Type) throws(CLIError) -> Request {
        do { return try Request.parse(values: values, flags: flags) } catch { throw usageError(error.message) }
    }
}
