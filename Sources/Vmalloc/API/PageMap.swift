// `struct page *` for C callers: the frame metadata array is the kernel's vmemmap, one fixed
// 16-byte entry per frame, so a C `struct page *` is an address in it and pages compare by
// pointer. These conversions are what the C surface needs; Swift code uses `Page`.

extension MemorySystem {
    /// The `struct page *` of a frame (`pfn_to_page`).
    package func pagePointer(_ page: Page) -> UnsafeMutableRawPointer { memory.pagePointer(page) }

    /// The frame a `struct page *` names (`page_to_pfn`), or nil when it is not an entry of this
    /// system's frame metadata.
    package func page(at pointer: UnsafeRawPointer) -> Page? { memory.page(at: pointer) }

    /// The frame whose direct-map address range holds `address` (`virt_to_page`), or nil.
    package func page(containingDirectMapAddress address: UnsafeRawPointer) -> Page? {
        memory.page(containingDirectMapAddress: address)
    }

    /// Frames no one owns (`nr_free_pages()`, `MemFree` in pages).
    package var nrFreePages: Int { meminfo().memFree / PhysicalMemory.pageSize }
}

extension MemorySystem {
    /// A warning on the system's printk, rate-limited per `site` (or once per site), for the
    /// layers above the API that check their own input (the C surface).
    package func warn(_ message: String, once: Bool = false, site: String) {
        if once { log.warnOnce(message, site: site) } else { log.warn(message, site: site) }
    }
}
