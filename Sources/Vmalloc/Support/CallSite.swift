import CShim

/// A call site, as the kernel prints one (`caller` in /proc/vmallocinfo): a Swift caller's
/// `#fileID:#line`, or a C caller's return address, printed as `%pS` prints it
/// (`symbol+0xoff/0xsize`) once someone asks, so the allocation path only stores a word.
package enum CallSite: Sendable, Hashable, CustomStringConvertible {
    case source(file: StaticString, line: UInt)
    case returnAddress(UInt)

    init(file: StaticString, line: UInt) { self = .source(file: file, line: line) }

    /// The C caller's return address (`__builtin_return_address(0)`), or nil.
    package var address: UnsafeRawPointer? {
        if case .returnAddress(let a) = self { return UnsafeRawPointer(bitPattern: a) }
        return nil
    }

    package var description: String {
        switch self {
        case .source(let file, let line): return "\(file):\(line)"
        case .returnAddress(let a):
            return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buf in
                _ = vmshim_symbolize(UnsafeRawPointer(bitPattern: a), buf.baseAddress, 256)
                return String(cString: buf.baseAddress!)
            }
        }
    }

    package static func == (a: CallSite, b: CallSite) -> Bool {
        switch (a, b) {
        case (.returnAddress(let x), .returnAddress(let y)): return x == y
        case (.source, .source): return a.description == b.description
        default: return false
        }
    }

    package func hash(into h: inout Hasher) {
        switch self {
        case .source: h.combine(description)
        case .returnAddress(let a): h.combine(a)
        }
    }
}
