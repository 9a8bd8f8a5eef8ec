import CShim

/// Access rights of a vmap mapping (`PAGE_KERNEL`, `PAGE_KERNEL_RO`, `PAGE_NONE`).
public enum PageProtection: Sendable, Hashable {
    case readWrite, readOnly, none
    /// The protection as the shim maps it.
    var shim: vmshim_prot {
        switch self {
        case .readWrite: VMSHIM_PROT_READ_WRITE
        case .readOnly: VMSHIM_PROT_READ
        case .none: VMSHIM_PROT_NONE
        }
    }
}
