import CNuma

/// libnuma's `numa_alloc_onnode`/`numa_free` on node 0: mmap plus a memory policy per call.
final class NumaContender: Reallocating {
    let kind = ContenderKind.libnuma

    private init() {}

    static func make() -> Result<any Contender, ContenderUnavailable> {
        numa_available() < 0
            ? .failure(ContenderUnavailable(description: "numa_available() < 0"))
            : .success(NumaContender())
    }

    func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
        numa_alloc_onnode(size, 0)
    }

    func free(_ pointer: UnsafeMutableRawPointer, size: Int) {
        numa_free(pointer, size)
    }

    func reallocate(_ pointer: UnsafeMutableRawPointer?, from oldSize: Int, to newSize: Int) -> UnsafeMutableRawPointer?
    {
        guard let pointer else { return allocate(newSize) }
        return numa_realloc(pointer, oldSize, newSize)
    }
}
