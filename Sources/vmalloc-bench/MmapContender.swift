import CShim
import CVmallocBench
import Glibc

/// Anonymous `mmap`/`munmap`: what a program without an allocator of its own does for pages.
/// Alignment is had the usual way — over-map, then unmap the slack on both sides.
final class MmapContender: AlignedAllocating, HugeAllocating, Reallocating, PageMapping {
    let kind = ContenderKind.mmap

    func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
        map(size)
    }

    func free(_ pointer: UnsafeMutableRawPointer, size: Int) {
        munmap(pointer, size)
    }

    func allocate(_ size: Int, align: Int, zeroed: Bool) -> UnsafeMutableRawPointer? {
        // Fresh anonymous memory is zero already; `zeroed` costs nothing here.
        guard align > 0, align & (align - 1) == 0 else { return nil }
        if align <= pageSize { return map(size) }
        let (span, overflow) = size.addingReportingOverflow(align - pageSize)
        guard !overflow, let raw = map(span) else { return nil }
        let base = Int(bitPattern: raw)
        let start = (base + align - 1) & ~(align - 1)
        if start > base { munmap(raw, start - base) }
        let tail = base + span - (start + size)
        if tail > 0 { munmap(UnsafeMutableRawPointer(bitPattern: start + size), tail) }
        return UnsafeMutableRawPointer(bitPattern: start)
    }

    func allocateHuge(_ size: Int) -> UnsafeMutableRawPointer? {
        let hugePage = 2 << 20
        guard let p = size >= hugePage ? allocate(size, align: hugePage, zeroed: true) : map(size) else { return nil }
        madvise(p, size, MADV_HUGEPAGE)
        return p
    }

    func reallocate(_ pointer: UnsafeMutableRawPointer?, from oldSize: Int, to newSize: Int) -> UnsafeMutableRawPointer?
    {
        guard let pointer else { return map(newSize) }
        let old = roundUpToPage(oldSize)
        let new = roundUpToPage(newSize)
        return old == new ? pointer : vmbench_mremap(pointer, old, new)
    }

    func pages(_ count: Int) -> (any MappablePages)? {
        MemfdPages(count: count)
    }

    private func map(_ size: Int) -> UnsafeMutableRawPointer? {
        mapped(mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
    }
}

/// The mmap peer's frames for `vm_map_ram_test`: a memfd, faulted in once, mapped shared with
/// MAP_POPULATE so each map sets up every page table entry as vm_map_ram does.
private final class MemfdPages: MappablePages {
    private let fd: Int32
    private let length: Int

    init?(count: Int) {
        length = count * pageSize
        fd = vmbench_memfd(length)
        guard fd >= 0 else { return nil }
        guard let p = map() else {
            close(fd)
            return nil
        }
        memset(p, 0, length)
        unmap(p)
    }

    func map() -> UnsafeMutableRawPointer? {
        mapped(mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0))
    }

    func unmap(_ pointer: UnsafeMutableRawPointer) {
        munmap(pointer, length)
    }

    func release() {
        close(fd)
    }
}

/// nil for mmap(2)'s MAP_FAILED, a cast macro Swift does not import.
private func mapped(_ p: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    p.map { Int(bitPattern: $0) } == -1 ? nil : p
}

func roundUpToPage(_ size: Int) -> Int {
    (size + pageSize - 1) & ~(pageSize - 1)
}
