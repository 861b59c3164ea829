#include "dns/shared_name_table.hpp"

#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <limits>
#include <new>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "base/ascii.hpp"
#include "base/v4_mapped.hpp"
#include "dns/fake_range.hpp"

namespace socksify {

// Shared words are plain uint64_t reached through atomic_ref: lock-free atomics
// are address-free, so they work across processes mapping the region at
// different addresses; a lock-based fallback would not.
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);
// Every shared word sits at a multiple of 8 from the region's start (the region
// is checked to be kAlignment-aligned, the header's fields are in 8-byte order,
// slots are whole words), also on i386, where alignof(uint64_t) is only 4: a
// 32-bit and a 64-bit process of one tree lay the region out the same.
static_assert(std::atomic_ref<std::uint64_t>::required_alignment <= 8);

namespace {

constexpr std::uint64_t kMagic = 0x3162746e6b736f73;  // "sosknta1" little-endian
constexpr std::size_t kWords = 64;                    // 256 bytes: length + name
// Numbers must fit a 32-bit tag (number + 1, 0 reserved).
constexpr std::uint64_t kMaxNumbers = std::numeric_limits<std::uint32_t>::max() - 1;

using Ref = std::atomic_ref<std::uint64_t>;

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

using namespace fake_range;  // the range arithmetic NameTable uses too

// How many numbers two ranges give (the smaller decides), capped for the
// tags; 0 when they are malformed or both absent.
std::uint64_t numbers_of(const Cidr& v4, const Cidr& v6) {
  const bool v4_ok = is_absent(v4) || (v4.family == AF_INET && is_valid(v4));
  const bool v6_ok = is_absent(v6) || (v6.family == AF_INET6 && is_valid(v6));
  if (!v4_ok || !v6_ok || (is_absent(v4) && is_absent(v6))) return 0;
  std::uint64_t n = kMaxNumbers;
  if (!is_absent(v4)) n = std::min(n, usable_addresses(v4));
  if (!is_absent(v6)) n = std::min(n, usable_addresses(v6));
  return n;
}

// FNV-1a: the index position (low bits) and a fingerprint (high 32 bits).
std::uint64_t hash_of(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325;
  for (const char c : s) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 0x100000001b3;
  }
  return h;
}

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (i * 8)) & 0xff;
    h *= 0x100000001b3;
  }
  return h;
}

// At least twice the capacity: at most half full, so a probe for a new name
// nearly always ends on the first cache line it reads.
std::size_t index_size_for(std::size_t capacity) {
  std::size_t n = 4;
  while (n < capacity * 2) n <<= 1;
  return n;
}

constexpr std::size_t round_up(std::size_t n, std::size_t to) {
  return (n + to - 1) / to * to;
}

std::uint64_t tag_of(std::uint64_t word) {
  return word >> 32;
}

}  // namespace

struct SharedNameTable::Header {
  std::uint64_t magic;  // atomic: written last by create(), with release
  std::uint32_t version;
  std::uint32_t header_size;
  std::uint32_t slot_size;
  std::uint32_t reserved;
  std::uint64_t capacity;
  std::uint64_t index_size;
  std::uint64_t region_size;
  std::uint64_t address_count;
  Cidr v4;
  Cidr v6;
  std::uint8_t zero[4];                 // explicit padding, must be 0
  std::uint64_t checksum;               // of every field above but magic
  alignas(64) std::uint64_t next;       // atomic: the next number to claim
  alignas(64) std::uint64_t unindexed;  // atomic: see unindexed()
  // atomic: (key << 8 | value), 0 = free; see note(). On their own lines:
  // written about once per proxy, read at each handshake.
  alignas(64) std::uint64_t notes[SharedNameTable::kNotes];
};

// Every byte up to `next` is a field, so a flipped byte anywhere in them fails
// the checksum or a check (the unit test flips each one).
static_assert(offsetof(SharedNameTable::Header, checksum) == 96);
struct SharedNameTable::Slot {
  std::uint64_t state;          // atomic: tag of the published number
  std::uint64_t words[kWords];  // atomic: tag << 32 | 4 bytes of [length][name]
};
static_assert(offsetof(SharedNameTable::Header, capacity) % 8 == 0 &&
              offsetof(SharedNameTable::Header, next) % 8 == 0 &&
              sizeof(SharedNameTable::Slot) % 8 == 0);

namespace {

constexpr std::size_t kHeaderBytes = round_up(sizeof(SharedNameTable::Header), 64);

std::uint64_t checksum_of(const SharedNameTable::Header& h) {
  std::uint64_t c = 0xcbf29ce484222325;
  for (const std::uint64_t v :
       {std::uint64_t{h.version}, std::uint64_t{h.header_size}, std::uint64_t{h.slot_size},
        std::uint64_t{h.reserved}, h.capacity, h.index_size, h.region_size, h.address_count}) {
    c = mix(c, v);
  }
  for (const Cidr* r : {&h.v4, &h.v6}) {
    c = mix(c, r->family);
    c = mix(c, r->prefix);
    for (const std::uint8_t b : r->bytes) c = mix(c, b);
  }
  for (const std::uint8_t b : h.zero) c = mix(c, b);
  return c;
}

}  // namespace

std::size_t SharedNameTable::region_size(std::size_t capacity) {
  if (capacity == 0 || capacity > kMaxCapacity) return 0;
  return kHeaderBytes + capacity * sizeof(Slot) + index_size_for(capacity) * sizeof(std::uint64_t);
}

std::optional<SharedNameTable> SharedNameTable::create(std::span<std::byte> region,
                                                       const Cidr& v4_range, const Cidr& v6_range,
                                                       std::size_t capacity) {
  const Cidr v4 = normalized(v4_range);
  const Cidr v6 = normalized(v6_range);
  const std::uint64_t numbers = numbers_of(v4, v6);
  const std::size_t cap =
      static_cast<std::size_t>(std::min<std::uint64_t>({capacity, numbers, kMaxCapacity}));
  const std::size_t size = region_size(cap);
  if (size == 0 || region.size() < size) return std::nullopt;
  if (reinterpret_cast<std::uintptr_t>(region.data()) % kAlignment != 0) return std::nullopt;

  auto* h = new (region.data()) Header{};
  h->version = kVersion;
  h->header_size = sizeof(Header);
  h->slot_size = sizeof(Slot);
  h->capacity = cap;
  h->index_size = index_size_for(cap);
  h->region_size = size;
  h->address_count = numbers;
  h->v4 = v4;
  h->v6 = v6;
  h->checksum = checksum_of(*h);
  // Last: a process that sees the magic (acquire) sees the fields above.
  Ref(h->magic).store(kMagic, std::memory_order_release);
  return bind(region, *h);
}

std::optional<SharedNameTable> SharedNameTable::attach(std::span<std::byte> region) {
  if (region.size() < kHeaderBytes) return std::nullopt;
  if (reinterpret_cast<std::uintptr_t>(region.data()) % kAlignment != 0) return std::nullopt;
  auto* shared = reinterpret_cast<Header*>(region.data());
  if (Ref(shared->magic).load(std::memory_order_acquire) != kMagic) return std::nullopt;
  // One copy, validated; the shared fields are never read again.
  Header h;
  std::memcpy(static_cast<void*>(&h), shared, sizeof h);
  if (h.version != kVersion || h.header_size != sizeof(Header) || h.slot_size != sizeof(Slot)) {
    return std::nullopt;
  }
  if (h.checksum != checksum_of(h)) return std::nullopt;
  if (std::any_of(std::begin(h.zero), std::end(h.zero), [](std::uint8_t b) { return b != 0; })) {
    return std::nullopt;
  }
  if (h.capacity == 0 || h.capacity > kMaxCapacity) return std::nullopt;
  const auto cap = static_cast<std::size_t>(h.capacity);
  if (h.index_size != index_size_for(cap) || h.region_size != region_size(cap) ||
      region.size() < h.region_size) {
    return std::nullopt;
  }
  if (!(normalized(h.v4) == h.v4) || !(normalized(h.v6) == h.v6)) return std::nullopt;
  const std::uint64_t numbers = numbers_of(h.v4, h.v6);
  if (numbers == 0 || h.address_count != numbers || h.capacity > numbers) return std::nullopt;
  return bind(region, h);
}

namespace {

// A prefetch for writing: the line comes exclusive in one transfer, where a
// read prefetch followed by the CAS takes two when another core holds it (a
// shared index line last written by another process). GCC emits PREFETCHW
// only under -mprfchw, which the build does not assume (an x86 without it
// need not treat it as a no-op): written out, executed only when CPUID says
// the processor has it (volatile: a prefetch alone is no side effect to GCC).
#if defined(__x86_64__) || defined(__i386__)
inline void prefetch_for_writing(const void* p) {
  asm volatile("prefetchw %0" : : "m"(*static_cast<const char*>(p)));
}

bool can_prefetch_for_writing() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid(0x80000001, &a, &b, &c, &d) != 0 && (c & bit_PRFCHW) != 0;
}
#else
void prefetch_for_writing(const void* p) {
  __builtin_prefetch(p, 1);
}
bool can_prefetch_for_writing() {
  return true;
}
#endif

}  // namespace

std::optional<SharedNameTable> SharedNameTable::bind(std::span<std::byte> region, const Header& h) {
  SharedNameTable t;
  t.header_ = reinterpret_cast<Header*>(region.data());
  t.slots_ = reinterpret_cast<Slot*>(region.data() + kHeaderBytes);
  t.capacity_ = static_cast<std::size_t>(h.capacity);
  t.index_ =
      reinterpret_cast<std::uint64_t*>(region.data() + kHeaderBytes + t.capacity_ * sizeof(Slot));
  t.index_mask_ = static_cast<std::size_t>(h.index_size) - 1;
  t.v4_ = h.v4;
  t.v6_ = h.v6;
  t.addresses_ = h.address_count;
  t.prefetch_for_writing_ = can_prefetch_for_writing();
  t.max_batch_ = std::clamp<std::uint64_t>(t.capacity_ / 1024, 1, kMaxBatch);
  return t;
}

std::uint64_t SharedNameTable::claim() {
  Ref batch(batch_);
  std::uint64_t seen = batch.load(std::memory_order_relaxed);
  while ((seen & 0xffffffff) < (seen >> 32)) {
    if (!batch.compare_exchange_weak(seen, seen + 1, std::memory_order_relaxed)) continue;
    const std::uint64_t number = seen & 0xffffffff;
    // The capacity/2 promise (see renewal): a number of a batch that aged
    // (this process resolved nothing while the tree claimed many) is not
    // handed out. A load, not a write: the counter's line stays shared
    // between the cores while every process works from its batch.
    if (Ref(header_->next).load(std::memory_order_relaxed) - number <= capacity_ / 2) {
      return number;
    }
    seen += 1;
    if (batch.compare_exchange_strong(seen, 0, std::memory_order_relaxed)) seen = 0;
    break;
  }
  // Refill. Doubling: a process that resolves one name claims one number.
  Ref size_ref(batch_size_);
  const std::uint64_t size =
      std::clamp<std::uint64_t>(size_ref.load(std::memory_order_relaxed) * 2, 1, max_batch_);
  size_ref.store(size, std::memory_order_relaxed);
  const std::uint64_t first = Ref(header_->next).fetch_add(size, std::memory_order_relaxed);
  if (first >= addresses_) return first;  // used up
  // addresses_ < 2^32 - 1: both halves fit 32 bits.
  const std::uint64_t end = std::min(first + size, addresses_);
  // Another thread of this process may have refilled meanwhile: then the
  // rest of ours goes unused (never handed out, no name behind it).
  if (first + 1 < end) {
    batch.compare_exchange_strong(seen, end << 32 | (first + 1), std::memory_order_relaxed);
  }
  return first;
}

void SharedNameTable::map_ahead(std::uint64_t number) {
  const std::uint64_t offset = kHeaderBytes + (number % capacity_) * sizeof(Slot);
  // Nearly always: the slot lies inside the window this process mapped last
  // (relaxed: racing threads of one process at worst both map it).
  const std::uint64_t start = Ref(map_start_).load(std::memory_order_relaxed);
  const std::uint64_t end = Ref(map_end_).load(std::memory_order_relaxed);
  if ((offset >= start && offset + sizeof(Slot) <= end) || end == kNoMapping) return;
  const auto base = reinterpret_cast<std::uintptr_t>(header_);
  const std::uintptr_t slots_end = base + kHeaderBytes + capacity_ * sizeof(Slot);
  const std::uintptr_t at = base + static_cast<std::uintptr_t>(offset);
  // Page-aligned (kMapWindow is a multiple of any page size we run on) and
  // inside the region's slots: never a byte of someone else's memory.
  std::uintptr_t from = at & ~(std::uintptr_t{kMapWindow} - 1);
  if (from < base) from = (base + 4095) & ~std::uintptr_t{4095};
  const std::uintptr_t to = std::min<std::uintptr_t>(from + kMapWindow, slots_end);
  if (to <= from) return;
  // Inside the program's own calls (getaddrinfo, connect): its errno stays.
  const int saved = errno;
  const bool unsupported =
      ::madvise(reinterpret_cast<void*>(from), to - from, MADV_POPULATE_WRITE) != 0 &&
      errno == EINVAL;
  errno = saved;
  if (unsupported) {
    // Before Linux 5.14 (or an unaligned region): first-touch faults, as before.
    Ref(map_end_).store(kNoMapping, std::memory_order_relaxed);
    return;
  }
  Ref(map_start_).store(from - base, std::memory_order_relaxed);
  Ref(map_end_).store(to - base, std::memory_order_relaxed);
}

bool SharedNameTable::write_slot(std::uint64_t number, std::string_view lowered) {
  const std::uint64_t tag = number + 1;
  Slot& s = slots_[number % capacity_];
  std::array<std::uint8_t, kWords * 4> bytes{};
  bytes[0] = static_cast<std::uint8_t>(lowered.size());
  std::memcpy(bytes.data() + 1, lowered.data(), lowered.size());
  const std::size_t words = (lowered.size() + 1 + 3) / 4;
  for (std::size_t k = 0; k < words; ++k) {
    const std::uint64_t data = std::uint64_t{bytes[k * 4]} | std::uint64_t{bytes[k * 4 + 1]} << 8 |
                               std::uint64_t{bytes[k * 4 + 2]} << 16 |
                               std::uint64_t{bytes[k * 4 + 3]} << 24;
    const std::uint64_t desired = tag << 32 | data;
    Ref word(s.words[k]);
    // No load first: the first CAS guesses the word the previous number of
    // this slot left (zero in the first lap), so a slot line is taken for
    // writing at once instead of read and then upgraded; a wrong guess fails
    // the CAS, which loads what is there, and the loop decides as before.
    std::uint64_t seen = number >= capacity_ ? word.load(std::memory_order_relaxed) : 0;
    do {
      // A newer number owns the slot: we were overtaken, our number is dead.
      if (tag_of(seen) >= tag) return false;
    } while (!word.compare_exchange_weak(seen, desired, std::memory_order_relaxed));
  }
  Ref state(s.state);
  std::uint64_t seen = number >= capacity_ ? state.load(std::memory_order_relaxed) : 0;
  do {
    if (seen >= tag) return false;
  } while (!state.compare_exchange_weak(seen, tag, std::memory_order_release,
                                        std::memory_order_relaxed));
  return true;
}

int SharedNameTable::read_slot(std::uint64_t number, char* out) const {
  const std::uint64_t tag = number + 1;
  Slot& s = slots_[number % capacity_];
  if (Ref(s.state).load(std::memory_order_acquire) != tag) return -1;
  // Only number's writer ever stores its tag, once per word: a word carrying
  // it holds number's bytes. Any other tag: the slot is being (or was) reused.
  const std::uint64_t first = Ref(s.words[0]).load(std::memory_order_relaxed);
  if (tag_of(first) != tag) return -1;
  const std::size_t length = first & 0xff;
  if (length == 0) return -1;
  const std::size_t words = (length + 1 + 3) / 4;
  std::array<std::uint8_t, kWords * 4> bytes;
  for (std::size_t k = 0; k < words; ++k) {
    const std::uint64_t w = k == 0 ? first : Ref(s.words[k]).load(std::memory_order_relaxed);
    if (tag_of(w) != tag) return -1;
    for (std::size_t b = 0; b < 4; ++b) bytes[k * 4 + b] = static_cast<std::uint8_t>(w >> (b * 8));
  }
  std::memcpy(out, bytes.data() + 1, length);
  return static_cast<int>(length);
}

// Only the numbers decide, never the slot: an entry is written only after its
// slot was published, and the slot stops verifying only once a newer number
// was claimed for it, which is what `next` says. Not reading the slot keeps
// an insert off the other processes' slot pages (a probe meets another
// name's entry at about every other insert; reading its slot cost a page
// fault in a process that had not mapped that page yet).
bool SharedNameTable::stale(std::uint64_t entry, std::uint64_t next) const {
  const std::uint64_t tag = entry & 0xffffffff;
  if (tag == 0) return true;
  const std::uint64_t number = tag - 1;
  // Retired: a newer number was claimed for its slot.
  return number >= addresses_ || next > number + capacity_;
}

std::optional<std::uint64_t> SharedNameTable::find_number(std::string_view lowered,
                                                          std::uint64_t hash,
                                                          std::size_t* position) const {
  const std::uint64_t fingerprint = hash >> 32;
  const std::size_t probes = std::min(kProbes, index_mask_ + 1);
  std::array<char, kWords * 4> name;
  for (std::size_t i = 0; i < probes; ++i) {
    const std::size_t at = (hash + i) & index_mask_;
    const std::uint64_t e = Ref(index_[at]).load(std::memory_order_acquire);
    if (e == 0) return std::nullopt;  // entries never go back to empty: the end
    const std::uint64_t tag = e & 0xffffffff;
    if (tag_of(e) != fingerprint || tag == 0) continue;
    const int length = read_slot(tag - 1, name.data());
    if (length == static_cast<int>(lowered.size()) &&
        std::memcmp(name.data(), lowered.data(), lowered.size()) == 0) {
      if (position != nullptr) *position = at;
      return tag - 1;
    }
  }
  return std::nullopt;
}

std::optional<std::uint64_t> SharedNameTable::number_for(std::string_view lowered) {
  const std::uint64_t hash = hash_of(lowered);
  // The two lines a new name needs that other processes write, fetched in
  // parallel rather than one after the other: the index entry (a random line;
  // for writing, as a new name CASes its entry there: a name already held
  // takes the line from the other cores' caches, one transfer that its
  // caller, a resolve, hardly notices) and the counter this process's batch
  // is checked against (read: written once per batch, see claim()).
  if (prefetch_for_writing_) {
    prefetch_for_writing(&index_[hash & index_mask_]);
  } else {
    __builtin_prefetch(&index_[hash & index_mask_], 0);
  }
  __builtin_prefetch(&header_->next, 0);
  const std::uint64_t fingerprint = hash >> 32;
  const std::size_t probes = std::min(kProbes, index_mask_ + 1);
  // More than one round only when a writer of a newer number overtook ours in
  // its slot (capacity claims during our write) or a renewal lost its race:
  // bounded, then no address.
  for (int round = 0; round < 8; ++round) {
    std::size_t at = 0;
    const auto found = find_number(lowered, hash, &at);
    if (found) {
      // Renewal, what stands in for LRU: a name found in the older half of
      // the window (more than capacity/2 numbers claimed since its own) gets
      // a new number, so an address handed out stays good for at least
      // capacity/2 more new names. Its old address keeps mapping back until
      // its slot is reused.
      const std::uint64_t next = Ref(header_->next).load(std::memory_order_relaxed);
      if (capacity_ < 2 || next - *found <= capacity_ / 2 || next >= addresses_) return found;
    }
    const std::uint64_t number = claim();
    if (number >= addresses_) return found;  // used up: never reuse (the old one is still good)
    map_ahead(number);
    if (!write_slot(number, lowered)) {
      // Overtaken, or the number was also in a forked sibling's copy of the
      // batch and it wrote first: the rest of the batch is as suspect.
      drop_batch();
      continue;
    }
    const std::uint64_t mine = fingerprint << 32 | (number + 1);
    if (found) {
      // Replace the old entry in place, or lose to whoever renewed (or
      // replaced) it first: then look again; our number maps back to the
      // name but is never handed out.
      std::uint64_t old = fingerprint << 32 | (*found + 1);
      if (Ref(index_[at])
              .compare_exchange_strong(old, mine, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
        return number;
      }
      continue;
    }
    std::array<char, kWords * 4> name;
    for (std::size_t i = 0; i < probes; ++i) {
      Ref entry(index_[(hash + i) & index_mask_]);
      std::uint64_t e = entry.load(std::memory_order_acquire);
      for (;;) {
        const std::uint64_t tag = e & 0xffffffff;
        if (e != 0 && tag_of(e) == fingerprint && tag != 0) {
          const int length = read_slot(tag - 1, name.data());
          if (length == static_cast<int>(lowered.size()) &&
              std::memcmp(name.data(), lowered.data(), lowered.size()) == 0) {
            return tag - 1;  // another thread or process won: use its number
          }
        }
        if (e != 0 && !stale(e, number + 1)) break;  // another name's: probe on
        if (entry.compare_exchange_strong(e, mine, std::memory_order_acq_rel,
                                          std::memory_order_acquire)) {
          return number;
        }
        // Lost the entry to someone: look at what is there now.
      }
    }
    // Every entry of the window is another live name's (practically never at a
    // load of 1/4): the address still maps back, the name is just not found.
    Ref(header_->unindexed).fetch_add(1, std::memory_order_relaxed);
    return number;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> SharedNameTable::held_number(std::string_view lowered) const {
  return find_number(lowered, hash_of(lowered), nullptr);
}

std::size_t SharedNameTable::name_of(std::uint64_t number, std::span<char> out) const {
  if (number >= addresses_) return 0;
  std::array<char, kWords * 4> name;
  const int length = read_slot(number, name.data());
  if (length <= 0 || static_cast<std::size_t>(length) > out.size()) return 0;
  std::memcpy(out.data(), name.data(), static_cast<std::size_t>(length));
  return static_cast<std::size_t>(length);
}

bool SharedNameTable::exhausted() const {
  // const: the batch is only read. Numbers left in it still serve new names.
  const std::uint64_t batch = std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(batch_))
                                  .load(std::memory_order_relaxed);
  if ((batch & 0xffffffff) < (batch >> 32)) return false;
  return Ref(header_->next).load(std::memory_order_relaxed) >= addresses_;
}

std::size_t SharedNameTable::size() const {
  std::size_t held = 0;
  std::array<char, kWords * 4> name;
  for (std::size_t i = 0; i < capacity_; ++i) {
    const std::uint64_t tag = Ref(slots_[i].state).load(std::memory_order_acquire);
    if (tag == 0 || (tag - 1) % capacity_ != i) continue;
    if (read_slot(tag - 1, name.data()) > 0) ++held;
  }
  return held;
}

std::uint64_t SharedNameTable::unindexed() const {
  return Ref(header_->unindexed).load(std::memory_order_relaxed);
}

namespace {

// A note's key: the low 56 bits, never 0 (0 marks a free entry).
std::uint64_t note_key(std::uint64_t key) {
  key &= 0x00ffffffffffffff;
  return key == 0 ? 1 : key;
}

}  // namespace

std::uint8_t SharedNameTable::note(std::uint64_t key) const {
  const std::uint64_t k = note_key(key);
  for (std::size_t i = 0; i < kNotes; ++i) {
    const std::uint64_t e = Ref(header_->notes[(k + i) % kNotes]).load(std::memory_order_relaxed);
    if (e == 0) return 0;  // entries are never freed: the key is not there
    if (e >> 8 == k) return static_cast<std::uint8_t>(e & 0xff);
  }
  return 0;
}

bool SharedNameTable::set_note(std::uint64_t key, std::uint8_t value) {
  if (value == 0) return false;
  const std::uint64_t k = note_key(key);
  const std::uint64_t mine = k << 8 | value;
  for (std::size_t i = 0; i < kNotes; ++i) {
    Ref entry(header_->notes[(k + i) % kNotes]);
    std::uint64_t e = entry.load(std::memory_order_relaxed);
    // Bounded: each failed CAS means the entry changed, and an entry changes
    // from free to a key once, then only its value (a few values per key).
    for (int tries = 0; tries < 16; ++tries) {
      if (e != 0 && e >> 8 != k) break;  // another key's: probe on
      if (e == mine) return true;
      if (entry.compare_exchange_weak(e, mine, std::memory_order_relaxed)) return true;
    }
    if (e == 0 || e >> 8 == k) return false;  // kept losing races: give up
  }
  return false;
}

}  // namespace socksify
