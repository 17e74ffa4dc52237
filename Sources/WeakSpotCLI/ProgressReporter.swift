import Dispatch
import Support

/// Progress of a long run on standard error: a bar redrawn in place with rate and ETA when
/// standard error is a terminal, one plain line per step otherwise (logs, CI), nothing when quiet.
final class ProgressReporter {
    enum Style { case bar, lines, quiet }

    private let console: Console
    private let total: Int
    private let unit: String
    private let style: Style
    private let start: UInt64
    private var drewBar = false

    /// `total` items of `unit` (plural, e.g. "inputs") are expected; rates count from `start`
    /// (`DispatchTime` nanoseconds, default now).
    init(console: Console, total: Int, unit: String, quiet: Bool, start: UInt64 = DispatchTime.now().uptimeNanoseconds) {
        self.start = start
        self.console = console
        self.total = max(0, total)
        self.unit = unit
        self.style = quiet ? .quiet : (console.errorIsTerminal ? .bar : .lines)
    }

    /// Reports that `done` items (of `total`) are finished; `detail` (such as the running loss)
    /// follows the counts.
    func update(done: Int, detail: String? = nil) {
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let remaining = rate > 0 ? Double(max(0, total - done)) / rate : 0
        let counts = "\(done)/\(total) \(unit), \(NumberText.fixed(rate, decimals: 1))/s" + (detail.map { ", \($0)" } ?? "")
        switch style {
        case .quiet:
            return
        case .lines:
            console.printError("progress: \(counts), \(NumberText.fixed(seconds, decimals: 1)) s elapsed")
        case .bar:
            let width = 30
            let filled = total > 0 ? min(width, done * width / total) : width
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            console.writeError("\r[\(bar)] \(counts), ETA \(Self.duration(remaining))   ")
            drewBar = true
        }
    }

    /// Erases the bar (before results are printed to a terminal); the next update redraws it.
    func clear() {
        if drewBar { console.writeError("\r\u{1B}[K") }
        drewBar = false
    }

    /// Ends the bar's line, so that later messages start on a fresh one.
    func finish() {
        if drewBar { console.writeError("\n") }
        drewBar = false
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let whole = Int(seconds.rounded())
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m\(whole % 60)s" }
        return "\(whole / 3600)h\((whole % 3600) / 60)m"
    }
}
