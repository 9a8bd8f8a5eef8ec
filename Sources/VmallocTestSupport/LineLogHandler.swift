import Logging

/// A swift-log handler that hands each message, as one line, to a closure: the tests keep the
/// lines to read the warnings a `Configuration.logger` receives, the bench appends them to its log
/// file. The library itself never bootstraps logging; these loggers are passed in.
public struct LineLogHandler: LogHandler {
    private let sink: @Sendable (String) -> Void
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    /// A handler giving every message at `logLevel` or above to `sink`.
    public init(logLevel: Logger.Level = .trace, _ sink: @escaping @Sendable (String) -> Void) {
        self.logLevel = logLevel
        self.sink = sink
    }

    /// A logger labelled `label` whose messages go to `sink`.
    public static func logger(
        label: String, logLevel: Logger.Level = .trace, _ sink: @escaping @Sendable (String) -> Void
    ) -> Logger {
        Logger(label: label) { _ in LineLogHandler(logLevel: logLevel, sink) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(
        level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
        file: String, function: String, line: UInt
    ) {
        sink("\(message)")
    }
}
