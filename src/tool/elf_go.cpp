#include "tool/elf_go.hpp"

#include <elf.h>

#include <cstring>
#include <string_view>
#include <vector>

namespace socksify {

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
  std::vector<Elf64_Shdr> sh(eh.e_shnum);
  if (!read_at(eh.e_shoff, std::as_writable_bytes(std::span(sh)))) return false;
  const Elf64_Shdr& names = sh[eh.e_shstrndx];
  if (names.sh_size == 0 || names.sh_size > (1u << 20)) return false;
  std::vector<char> strtab(names.sh_size);
  if (!read_at(names.sh_offset, std::as_writable_bytes(std::span(strtab)))) return false;
  for (const Elf64_Shdr& s : sh) {
    if (s.sh_name >= strtab.size()) continue;
    const char* start = strtab.data() + s.sh_name;
    const std::string_view name(start, strnlen(start, strtab.size() - s.sh_name));
    if (name == ".note.go.buildid" || name == ".go.buildinfo") return true;
  }
  return false;
}

}  // namespace socksify
