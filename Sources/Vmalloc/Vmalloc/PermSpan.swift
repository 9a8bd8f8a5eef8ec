/// Pages [page, page + count) of an area that share their access bits.
struct PermSpan: Sendable, Equatable {
    var page: Int
    var count: Int
    var perms: PagePerms
}
