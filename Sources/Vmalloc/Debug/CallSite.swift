/// A call site, as the kernel prints one (`caller` in /proc/vmallocinfo).
package struct CallSite: Sendable, Hashable, CustomStringConvertible {
    let file: StaticString
    let line: UInt
    package var description: String { "\(file):\(line)" }
    package static func == (a: CallSite, b: CallSite) -> Bool { a.description == b.description }
    package func hash(into h: inout Hasher) { h.combine(description) }
}
