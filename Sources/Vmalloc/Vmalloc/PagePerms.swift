import CShim

/// Access bits of pages, with the values of `PROT_READ`, `PROT_WRITE` and `PROT_EXEC`.
struct PagePerms: OptionSet, Sendable, Hashable {
    let rawValue: Int32
    static let read = PagePerms(rawValue: 1)
    static let write = PagePerms(rawValue: 2)
    static let exec = PagePerms(rawValue: 4)

    init(rawValue: Int32) { self.rawValue = rawValue }
    init(_ prot: PageProtection) {
        switch prot {
        case .readWrite: self = [.read, .write]
        case .readOnly: self = .read
        case .none: self = []
        }
    }

    /// The protection as the shim's `mprotect` takes it: a `PAGE_NONE` page stays inaccessible
    /// whatever else is set, as a PTE without its present bit does.
    var shim: (prot: vmshim_prot, exec: vmshim_exec) {
        guard contains(.read) else { return (VMSHIM_PROT_NONE, VMSHIM_NOEXEC) }
        let prot = contains(.write) ? VMSHIM_PROT_READ_WRITE : VMSHIM_PROT_READ
        return (prot, contains(.exec) ? VMSHIM_EXEC : VMSHIM_NOEXEC)
    }
}
