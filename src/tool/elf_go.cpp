#include "tool/elf_go.hpp"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <string_view>

namespace socksify {
namespace {

constexpr std::string_view kGoSections[] = {".note.go.buildid", ".go.buildinfo"};

bool is_go_name(std::string_view name) {
  return std::find(std::begin(kGoSections), std::end(kGoSections), name) != std::end(kGoSections);
}

}  // namespace

// No allocation (exec_guard runs it in vfork children): fixed buffers on the
// stack, the section headers read a few dozen at a time.
bool elf_is_go(const ReadAt& read_at) {
  Elf64_Ehdr eh;
  if (!read_at(0, std::as_writable_bytes(std::span(&eh, 1)))) return false;
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_ident[EI_DATA] != ELFDATA2LSB) {
    return false;
  }
  // A sane bound: Go binaries have a few dozen sections.
  if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 || eh.e_shnum > 4096 ||
      eh.e_shstrndx >= eh.e_shnum) {
    return false;
  }
  Elf64_Shdr names;
  if (!read_at(eh.e_shoff + std::uint64_t{eh.e_shstrndx} * sizeof names,
               std::as_writable_bytes(std::span(&names, 1)))) {
    return false;
  }
  if (names.sh_size == 0 || names.sh_size > (1u << 20)) return false;
  // The names, read once when they fit (a few hundred bytes in the programs
  // seen), else each candidate's on its own.
  char strtab[4096];
  const bool whole = names.sh_size <= sizeof strtab;
  if (whole &&
      !read_at(names.sh_offset, std::as_writable_bytes(std::span(strtab, names.sh_size)))) {
    return false;
  }
  Elf64_Shdr chunk[32];
  for (unsigned first = 0; first < eh.e_shnum; first += std::size(chunk)) {
    const unsigned n = std::min<unsigned>(std::size(chunk), eh.e_shnum - first);
    if (!read_at(eh.e_shoff + std::uint64_t{first} * sizeof(Elf64_Shdr),
                 std::as_writable_bytes(std::span(chunk, n)))) {
      return false;
    }
    for (unsigned i = 0; i < n; ++i) {
      const std::uint64_t at = chunk[i].sh_name;
      if (at >= names.sh_size) continue;
      char one[20];
      const char* start;
      std::size_t room;
      if (whole) {
        start = strtab + at;
        room = names.sh_size - at;
      } else {
        room = std::min<std::uint64_t>(sizeof one, names.sh_size - at);
        if (!read_at(names.sh_offset + at, std::as_writable_bytes(std::span(one, room)))) continue;
        start = one;
      }
      if (is_go_name(std::string_view(start, strnlen(start, room)))) return true;
    }
  }
  return false;
}

}  // namespace socksify
