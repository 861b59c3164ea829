#include "tool/elf_probe.hpp"

#include <elf.h>

#include <cstring>

namespace socksify {
namespace {

template <class Ehdr, class Phdr>
ElfLinkage scan(std::span<const std::byte> head) {
  Ehdr eh;
  if (head.size() < sizeof eh) return ElfLinkage::NotElf;
  std::memcpy(&eh, head.data(), sizeof eh);
  if (eh.e_phentsize != sizeof(Phdr)) return ElfLinkage::NotElf;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    const std::size_t off = eh.e_phoff + std::size_t{i} * sizeof(Phdr);
    if (off + sizeof(Phdr) > head.size()) break;  // past what we read: assume dynamic
    Phdr ph;
    std::memcpy(&ph, head.data() + off, sizeof ph);
    if (ph.p_type == PT_INTERP) return ElfLinkage::Dynamic;
  }
  // Only a header table we read whole and found no interpreter in means static.
  return eh.e_phoff + std::size_t{eh.e_phnum} * sizeof(Phdr) <= head.size() ? ElfLinkage::Static
                                                                            : ElfLinkage::Dynamic;
}

}  // namespace

ElfLinkage elf_linkage(std::span<const std::byte> head) {
  if (head.size() < EI_NIDENT || std::memcmp(head.data(), ELFMAG, SELFMAG) != 0) {
    return ElfLinkage::NotElf;
  }
  switch (static_cast<unsigned char>(head[EI_CLASS])) {
    case ELFCLASS64:
      return scan<Elf64_Ehdr, Elf64_Phdr>(head);
    case ELFCLASS32:
      return scan<Elf32_Ehdr, Elf32_Phdr>(head);
    default:
      return ElfLinkage::NotElf;
  }
}

ElfMachine elf_machine(std::span<const std::byte> head) {
  if (head.size() < EI_NIDENT || std::memcmp(head.data(), ELFMAG, SELFMAG) != 0) {
    return ElfMachine::NotElf;
  }
  // e_machine is at the same offset in both classes (18); x32 is ELFCLASS32
  // with EM_X86_64, which neither library serves.
  if (head.size() < 20 || static_cast<unsigned char>(head[EI_DATA]) != ELFDATA2LSB) {
    return ElfMachine::Other;
  }
  const unsigned machine = static_cast<unsigned char>(head[18]) |
                           static_cast<unsigned>(static_cast<unsigned char>(head[19])) << 8;
  const auto cls = static_cast<unsigned char>(head[EI_CLASS]);
  if (cls == ELFCLASS64 && machine == EM_X86_64) return ElfMachine::X86_64;
  if (cls == ELFCLASS32 && machine == EM_386) return ElfMachine::I386;
  return ElfMachine::Other;
}

}  // namespace socksify
