import Glibc

/// `malloc`/`free` of whatever allocator the process has: glibc in the harness, jemalloc or
/// mimalloc in a child that preloads them (`ContenderKind.preload`).
final class MallocContender: AlignedAllocating, Reallocating {
    let kind: ContenderKind

    private init(_ kind: ContenderKind) {
        self.kind = kind
    }

    static func make(_ kind: ContenderKind) -> Result<any Contender, ContenderUnavailable> {
        if let library = kind.preload, access(library, R_OK) != 0 {
            return .failure(ContenderUnavailable(description: "\(library) not installed"))
        }
        return .success(MallocContender(kind))
    }

    func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
        malloc(size)
    }

    func free(_ pointer: UnsafeMutableRawPointer, size: Int) {
        Glibc.free(pointer)
    }

    func allocate(_ size: Int, align: Int, zeroed: Bool) -> UnsafeMutableRawPointer? {
        var p: UnsafeMutableRawPointer?
        guard align > 0, posix_memalign(&p, max(align, MemoryLayout<UnsafeRawPointer>.size), size) == 0, let p else {
            return nil
        }
        if zeroed { memset(p, 0, size) }
        return p
    }

    func reallocate(_ pointer: UnsafeMutableRawPointer?, from oldSize: Int, to newSize: Int) -> UnsafeMutableRawPointer?
    {
        realloc(pointer, newSize)
    }
}
