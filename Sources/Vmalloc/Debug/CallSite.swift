/// A call site, as the kernel prints one (`caller` in /proc/vmallocinfo).
struct CallSite: Sendable, Hashable, CustomStringConvertible {
    let file: StaticString
    let line: UInt
    var description: String { "\(file):\(line)" }
    static func == (a: CallSite, b: CallSite) -> Bool { a.description == b.description }
    func hash(into h: inout Hasher) { h.combine(description) }
}
