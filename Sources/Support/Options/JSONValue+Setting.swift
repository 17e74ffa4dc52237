
extension JSONValue {
    /// A recorded option value in a report's or plan's `settings`.
    public init(_ setting: SettingValue) {
        switch setting {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .strings(let list): self = .array(list.map { .string($0) })
        }
    }
}
