import CShim

// The page API's entry points (include/linux/gfp.h): the argument checks of `alloc_pages_node`
// and the owner check of `__free_pages`, which the kernel's `free_pages_prepare` makes.

extension PageAllocator {
    /// `alloc_pages_node`: a block of 2^order frames for a caller of the page API, or nil with
    /// a warning for an order above `MAX_PAGE_ORDER` or a node that does not exist.
    func allocPagesNode(_ node: Int, _ gfp: GFP, order: Int) -> Page? {
        guard order >= 0, order <= Self.maxOrder else {
            if !gfp.contains(.noWarn) {
                log.warnOnce("alloc_pages: order \(order) outside 0...\(Self.maxOrder)", site: "order")
            }
            return nil
        }
        guard memory.validNode(node, "alloc_pages_node", log: log, site: "alloc_pages_node") else { return nil }
        return allocate(gfp, order: order, node: node, owner: VMSHIM_OWNER_PAGES)
    }

    /// `__free_pages` under the name `function`: a block that is not one of that order from the
    /// page API is reported as "Bad page state" and nothing changes.
    func freePages(_ page: Page, order: Int, function: String) {
        guard let h = holder(of: page.pfn), h.owner == VMSHIM_OWNER_PAGES, h.order == order else {
            log.warn(
                "BUG: Bad page state: \(function)(\(page), order \(order)): "
                    + "not a block of that order from alloc_pages",
                site: "bad-page")
            return
        }
        free(pfn: page.pfn, order: order)
    }
}
