// SharedNameTable: the remote-DNS name table of a whole process tree (issue 10
// item 1), laid out entirely inside one caller-provided memory region that
// every process of the tree maps MAP_SHARED. A fake address handed out by any
// process maps back to its name in every other one. It never allocates,
// opens, maps or locks anything; the caller provides the bytes. Its one
// system call is a best-effort madvise on those bytes (Pages, below).
//
// Same address policy as NameTable (name_table.hpp): the n-th claimed number
// (n = 0, 1, ...) is the address base + 1 + n in both ranges, numbers only grow
// over the whole ranges, an address is never handed to a second name, a
// forgotten name's address maps to nothing (a connect to it fails closed), and
// when the numbers are used up new names get no address. Numbers are also
// capped at 2^32 - 2 (only an IPv6-only table notices), so that a number fits
// the 32-bit tags below.
//
// Layout (every shared word is a uint64_t reached only through
// std::atomic_ref, which must be lock-free and therefore address-free:
// static_asserts in the .cpp):
//   Header   magic, version, the layout sizes, capacity, index size, the two
//            ranges, the address count, a checksum of all of these; then the
//            shared counter `next` (the next number to claim).
//   Slots    capacity x { state; 64 words }. A word is (tag << 32 | 4 bytes);
//            the 256 bytes of the 64 words are [length][name, lower-cased].
//            tag = number + 1 (0: never written). state = tag of the number
//            the slot publishes.
//   Index    index_size (a power of two, >= 2 x capacity) words, open
//            addressing: (fingerprint << 32 | tag), 0 = empty. An entry never
//            goes back to empty; a stale one is overwritten.
//   Notes    in the header: kNotes words of tree-wide facts (note()).
// Bound: region_size(capacity) bytes, about 520 bytes per name plus 16 bytes
// of index, fixed at init (64 Ki names: 32.5 MiB of slots, 1 MiB of index).
// Pages: backed only once touched. The launcher's keeper allocates the index
// and each process maps it at attach (every name touches a random index
// line). The slots fill in number order, ~8 names a page, and every process
// writes some of each page (the numbers interleave), so touching them one
// page at a time cost a page fault per ~4 names in each process (the
// benchmark's p99 was those). Instead a writer maps a 1 MiB window of slots
// (MADV_POPULATE_WRITE, about 2,000 names) into its process when its number
// lands outside the window it mapped last: one call per ~2,000 numbers
// claimed in the tree per process, which allocates the pages the first time.
// A tree that resolves 100 names therefore backs ~2 MiB (1 MiB of index, one
// window), never more than the region. Inserting reads no other name's slot
// (stale() decides from the numbers), so the only slot pages a process maps
// besides its window are those of names it looks up.
// Threads and fork: no lock and no per-process state beyond the mapping, so
// nothing to do at fork; a forked child shares the table through the mapping.
//
// Insert (no lock anywhere, so no lock a crashed process can leave held):
//   1. look the name up in the index (probing at most kProbes entries); an
//      entry counts only if its slot verifies (below);
//   2. take a number from this process's batch, claimed from `next` with
//      fetch_add (see Batches below); number >= address count: exhausted,
//      no address. Its slot is number mod capacity;
//   3. write the words, each by CAS that refuses to replace a word carrying a
//      newer tag (so a writer stalled past its turn never clobbers a newer
//      name), then publish: CAS state up to our tag (release);
//   4. CAS our entry into the first empty or stale index entry of the probe
//      sequence. Meeting a valid entry for the same name on the way (another
//      process won the race): return the winner's number instead - ours stays
//      mapped to the same name until its slot is reused, and is never handed
//      out.
// A slot verifies for number n when state == tag(n) (acquire) and every word
// of the name carries tag(n). Only the writer of n ever writes tag(n), each
// word once, so a word carrying tag(n) holds n's bytes: no seqlock re-check is
// needed. Eviction is by number: claiming n + capacity retires n, and once
// any word of its slot carries the newer tag n maps to nothing, for good.
// In place of NameTable's LRU, renewal: resolving a name whose number is in
// the older half of the window (more than capacity/2 numbers claimed since)
// gives it a new number (the index entry is CAS'd over), so an address just
// handed out stays good for at least capacity/2 more new names, and a name
// resolved that often is never forgotten. Its old address keeps mapping back
// to it until its slot is reused (a connection pool that kept it keeps
// working for a while, as with NameTable until the LRU drops the name).
//
// Batches: step 2 does not fetch_add the shared counter for every name. A
// process claims a batch of numbers with one fetch_add (1 at first, doubling
// with each batch up to 64, and at most capacity/1024, so a table of fewer
// than 2048 names claims one number at a time exactly as before) and hands
// them out itself: one transfer of the counter's cache line between cores
// per batch instead of per name (the 8-process benchmark's median). What it
// changes: numbers are no longer handed out in time order across processes
// (eviction stays by number, so a process's batch ages with the numbers
// claimed after it); the numbers left in a batch when a process exits or
// drops it are never handed out (they cost address space and window: at most
// 63 per process, and never more than the process resolved, since the batch
// only doubles after use); renewal and the capacity/2 promise hold as before,
// because a batch number is handed out only while at most capacity/2 numbers
// were claimed since it (else the batch is dropped and a fresh one claimed).
// A forked child (or a copy of the object) holds a copy of the batch: the
// same number may then be tried by two writers. write_slot() settles it at
// the first word, which each writer CASes first and which refuses a word
// carrying a tag as new as its own: one wins, the other drops its batch and
// claims again, so a number still goes to one name only.
//
// Lookup by address: number -> slot = number mod capacity -> verify and copy.
// Lookup by name: hash probe, fingerprint match, verify and compare.
//
// What a crash (SIGKILL anywhere) can leave:
//   - between 2 and 3: a claimed number never published. Its slot's older
//     name may already be (partly) overwritten: it maps to nothing, as it
//     would after a normal eviction. Nobody waits for the dead writer.
//   - between 3 and 4: a published number that no index entry points to. It
//     maps back to its name; the name's next resolve claims a new number
//     (both map back to the same name).
//   - an index entry is only written after its slot was published, and a
//     slot stops verifying only once a newer number is claimed for it: an
//     entry whose number was so retired is stale and reusable (decided from
//     the numbers alone, without reading the slot), so the index cannot
//     point forever at a dead claim.
// Two numbers for one name: possible only in rare races - a racer that reuses
// a stale entry earlier in the probe sequence than one the other racer just
// filled, a writer that died between 3 and 4, a full probe window (the number
// is then returned without an index entry: counted in unindexed()), and, by
// design, a resolve that reads the entry just before a renewal replaces it
// (it gets the old number, which still maps back). Every such number maps
// back to the same name; no number ever maps to two names.
//
// Trust: attach() accepts a region only if magic, version, every size and the
// checksum match and the ranges are sound; afterwards every index into the
// region is computed from the process's own copies of the sizes (never
// re-read from shared memory), and every length read from it is a byte (at
// most 64 words). A process of the tree that scribbles on the region (a bug:
// they are all the user's own) can make addresses map to nothing or even to a
// wrong name, but cannot make a reader go out of bounds.
//
// How children find the region (built: tool/name_table_region.hpp creates it,
// tool/resident_parent.hpp keeps it, core/tree_names.hpp attaches it): the
// launcher creates a sealed memfd (MFD_CLOEXEC, sized region_size()), calls
// create() on it, and its resident keeper (the tree's subreaper) holds the
// fd. SOCKSIFY_NAME_TABLE=/proc/<keeper>/fd/<n> (dns/tree_table_ref.hpp); a
// process opens it lazily, at its first resolve or first connect to a fake
// address (no fd or thread at start-up), mmaps it MAP_SHARED, closes the fd
// and calls attach(). Programs that close every fd (close_range, closefrom)
// lose nothing, and no file is left behind when the tree ends: the memfd dies
// with its keeper and its last mapping. A process that changed its
// credentials may be refused /proc/<pid>/fd by ptrace access rules: it fails
// closed (core/tree_names.hpp says why not a table of its own).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "base/endpoint.hpp"
#include "config/settings.hpp"
#include "dns/fake_names.hpp"

namespace socksify {

class SharedNameTable final : public FakeNames {
 public:
  static constexpr std::uint32_t kVersion = 2;
  static constexpr std::size_t kMaxCapacity = std::size_t{1} << 20;
  // Index entries probed per lookup or insert.
  static constexpr std::size_t kProbes = 64;
  // The region's start must be aligned to this (mmap gives page alignment).
  static constexpr std::size_t kAlignment = 64;

  // Bytes a table of `capacity` names needs (0 when capacity is 0 or above
  // kMaxCapacity).
  static std::size_t region_size(std::size_t capacity);

  // Done once, by the creator, before any other process attaches: lays out an
  // empty table in region, which must be zero-filled (a fresh memfd after
  // ftruncate, a fresh MAP_ANONYMOUS mapping): only the header is written, so
  // that pages are backed only as names arrive. Ranges as NameTable takes them;
  // capacity is capped by the ranges. nullopt when the ranges are malformed,
  // both absent or too small to hold one address, capacity is 0 or above
  // kMaxCapacity, or the region is misaligned or smaller than
  // region_size(capacity). The magic is written last, with release.
  static std::optional<SharedNameTable> create(std::span<std::byte> region, const Cidr& v4_range,
                                               const Cidr& v6_range, std::size_t capacity);

  // Every other process: validates the header (magic, version, sizes,
  // checksum, ranges) and rejects a corrupt, foreign or truncated region.
  static std::optional<SharedNameTable> attach(std::span<std::byte> region);

  // FakeNames' table side, as NameTable's, except: never throws, and
  // resolving again renews rather than refreshes (see above): the address
  // changes once the name's number is in the older half of the window.
  std::optional<std::uint64_t> number_for(std::string_view lowered) override;
  std::optional<std::uint64_t> held_number(std::string_view lowered) const override;
  std::size_t name_of(std::uint64_t number, std::span<char> out) const override;

  std::size_t capacity() const { return capacity_; }
  // The index part of the region: the creator pre-faults it (every name
  // touches one random index page; the slots fill in order and are left to
  // be backed as names arrive).
  std::span<std::byte> index_region() const {
    return {reinterpret_cast<std::byte*>(index_), (index_mask_ + 1) * sizeof(std::uint64_t)};
  }
  // v4_range(), v6_range(): the ranges the region was created with (the
  // creator's configuration).
  std::uint64_t address_count() const override { return addresses_; }
  bool exhausted() const override;
  // Names held now: scans every slot (diagnostics and tests, not a hot path).
  std::size_t size() const;
  // Numbers handed out without an index entry (a full probe window).
  std::uint64_t unindexed() const;

  // Notes: a few small facts the processes of the tree share besides names
  // (issue 12 item 2: whether a proxy takes the pipelined SOCKS5 handshake,
  // core/runtime.cpp), so a child does not learn again what its parent
  // learnt. Each is a value 1..255 under a key (a hash the caller makes; only
  // its low 56 bits count), 0 meaning "nothing noted". Bounded: kNotes keys
  // per tree, first come; set_note() returns false when the key has no room
  // (the caller keeps its own memory then). One CAS, no lock. A process that
  // scribbles can only make a note wrong, never a read go out of bounds.
  static constexpr std::size_t kNotes = 32;
  std::uint8_t note(std::uint64_t key) const;
  bool set_note(std::uint64_t key, std::uint8_t value);

  struct Header;
  struct Slot;

 private:
  SharedNameTable() = default;
  static std::optional<SharedNameTable> bind(std::span<std::byte> region, const Header& h);

  // position: where the entry found is (for a renewal's CAS), if not null.
  std::optional<std::uint64_t> find_number(std::string_view lowered, std::uint64_t hash,
                                           std::size_t* position) const;
  bool write_slot(std::uint64_t number, std::string_view lowered);
  // Before writing number's slot: maps (MADV_POPULATE_WRITE) the kMapWindow
  // bytes of slots around it into this process if it has not yet (see
  // "Pages" above).
  void map_ahead(std::uint64_t number);
  // A number for a new name (>= address_count(): used up), from this
  // process's batch, refilled from the shared counter (see "Batches" above).
  std::uint64_t claim();
  // Drops what is left of this process's batch (its numbers go unused).
  void drop_batch() { std::atomic_ref<std::uint64_t>(batch_).store(0, std::memory_order_relaxed); }
  // next: a value `next` had (at least our own claim + 1).
  bool stale(std::uint64_t entry, std::uint64_t next) const;
  // Copies the name slot `number` publishes into out (256 bytes); its length,
  // or -1 when the slot does not verify for number.
  int read_slot(std::uint64_t number, char* out) const;

  Header* header_ = nullptr;
  Slot* slots_ = nullptr;
  std::uint64_t* index_ = nullptr;
  // Own copies (the ranges too, in FakeNames), validated once: never re-read
  // from the shared region.
  std::size_t capacity_ = 0;
  std::size_t index_mask_ = 0;
  std::uint64_t addresses_ = 0;
  // This process's mapped window of slots (region offsets), see map_ahead();
  // reached through atomic_ref. kNoMapping: the kernel cannot populate.
  static constexpr std::size_t kMapWindow = std::size_t{1} << 20;
  static constexpr std::uint64_t kNoMapping = ~std::uint64_t{0};
  std::uint64_t map_start_ = 0, map_end_ = 0;
  // This process's batch of claimed numbers, (end << 32 | next): next < end
  // are still to hand out. batch_size_: the size of the last batch claimed
  // (doubles up to max_batch_). Both reached through atomic_ref; a copy of
  // the object (or a forked child) copies them too: see "Batches".
  static constexpr std::uint64_t kMaxBatch = 64;
  std::uint64_t batch_ = 0, batch_size_ = 0, max_batch_ = 1;
  // PREFETCHW exists here (x86: CPUID; see number_for()).
  bool prefetch_for_writing_ = false;
};

}  // namespace socksify
