import Glibc

/// Reads configuration overrides from the process environment.
enum Environment {
    static func string(_ name: String) -> String? {
        guard let p = getenv(name) else { return nil }
        return String(cString: p)
    }
    static func int(_ name: String) -> Int? { string(name).flatMap { Int($0) } }
    static func bytes(_ name: String) -> Int? {
        guard var s = string(name)?.uppercased(), !s.isEmpty else { return nil }
        var scale = 1
        switch s.last {
        case "K": scale = 1 << 10
        case "M": scale = 1 << 20
        case "G": scale = 1 << 30
        default: break
        }
        if scale != 1 { s.removeLast() }
        return Int(s).map { $0 * scale }
    }
}
