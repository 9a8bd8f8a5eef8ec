/* <linux/list.h>: the circular doubly linked list with the node embedded in its owner. Mirrors
 * include/linux/list.h for the common subset. An unlinked node points at itself after
 * list_del_init; after list_del its pointers are poisoned so a second unlink faults. */
#ifndef _VMALLOC_LINUX_LIST_H
#define _VMALLOC_LINUX_LIST_H

#include <stddef.h>
#include <linux/types.h>

#define LIST_POISON1 ((struct list_head *)0x100)
#define LIST_POISON2 ((struct list_head *)0x122)
#define LIST_HEAD_INIT(name) { &(name), &(name) }
#define LIST_HEAD(name) struct list_head name = LIST_HEAD_INIT(name)

static inline void INIT_LIST_HEAD(struct list_head *list) {
    list->next = list;
    list->prev = list;
}
static inline void __list_add(struct list_head *entry, struct list_head *prev, struct list_head *next) {
    next->prev = entry;
    entry->next = next;
    entry->prev = prev;
    prev->next = entry;
}
/* After head: a stack. */
static inline void list_add(struct list_head *entry, struct list_head *head) { __list_add(entry, head, head->next); }
/* Before head: a queue. */
static inline void list_add_tail(struct list_head *entry, struct list_head *head) {
    __list_add(entry, head->prev, head);
}
static inline void __list_del_entry(struct list_head *entry) {
    entry->next->prev = entry->prev;
    entry->prev->next = entry->next;
}
static inline void list_del(struct list_head *entry) {
    __list_del_entry(entry);
    entry->next = LIST_POISON1;
    entry->prev = LIST_POISON2;
}
static inline void list_del_init(struct list_head *entry) {
    __list_del_entry(entry);
    INIT_LIST_HEAD(entry);
}
static inline void list_move(struct list_head *entry, struct list_head *head) {
    __list_del_entry(entry);
    list_add(entry, head);
}
static inline void list_move_tail(struct list_head *entry, struct list_head *head) {
    __list_del_entry(entry);
    list_add_tail(entry, head);
}
static inline void list_replace(struct list_head *old, struct list_head *entry) {
    entry->next = old->next;
    entry->next->prev = entry;
    entry->prev = old->prev;
    entry->prev->next = entry;
}
static inline bool list_empty(const struct list_head *head) { return head->next == head; }
static inline bool list_is_singular(const struct list_head *head) {
    return !list_empty(head) && head->next == head->prev;
}
static inline bool list_is_first(const struct list_head *entry, const struct list_head *head) {
    return entry->prev == head;
}
static inline bool list_is_last(const struct list_head *entry, const struct list_head *head) {
    return entry->next == head;
}
/* Moves every node of list to the front of head; list is left empty. */
static inline void list_splice_init(struct list_head *list, struct list_head *head) {
    if (list_empty(list)) return;
    struct list_head *first = list->next, *last = list->prev, *at = head->next;
    first->prev = head;
    head->next = first;
    last->next = at;
    at->prev = last;
    INIT_LIST_HEAD(list);
}
static inline size_t list_count_nodes(const struct list_head *head) {
    size_t n = 0;
    for (const struct list_head *p = head->next; p != head; p = p->next) n++;
    return n;
}

#define list_entry(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define list_first_entry(head, type, member) list_entry((head)->next, type, member)
#define list_last_entry(head, type, member) list_entry((head)->prev, type, member)
#define list_first_entry_or_null(head, type, member) \
    (list_empty(head) ? NULL : list_first_entry(head, type, member))
#define list_next_entry(pos, member) list_entry((pos)->member.next, __typeof__(*(pos)), member)
#define list_prev_entry(pos, member) list_entry((pos)->member.prev, __typeof__(*(pos)), member)
#define list_entry_is_head(pos, head, member) (&(pos)->member == (head))

#define list_for_each(pos, head) for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)
#define list_for_each_safe(pos, n, head) \
    for ((pos) = (head)->next, (n) = (pos)->next; (pos) != (head); (pos) = (n), (n) = (pos)->next)
#define list_for_each_entry(pos, head, member) \
    for ((pos) = list_first_entry(head, __typeof__(*(pos)), member); !list_entry_is_head(pos, head, member); \
         (pos) = list_next_entry(pos, member))
#define list_for_each_entry_reverse(pos, head, member) \
    for ((pos) = list_last_entry(head, __typeof__(*(pos)), member); !list_entry_is_head(pos, head, member); \
         (pos) = list_prev_entry(pos, member))
/* Safe against removal of pos: n is fetched before the body runs. */
#define list_for_each_entry_safe(pos, n, head, member) \
    for ((pos) = list_first_entry(head, __typeof__(*(pos)), member), (n) = list_next_entry(pos, member); \
         !list_entry_is_head(pos, head, member); (pos) = (n), (n) = list_next_entry(n, member))

#endif
