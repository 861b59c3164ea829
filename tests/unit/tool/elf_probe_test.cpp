#include "tool/elf_probe.hpp"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

namespace socksify {
namespace {

std::vector<std::byte> head_of(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> raw((std::istreambuf_iterator<char>(in)), {});
  raw.resize(std::min<std::size_t>(raw.size(), 4096));
  std::vector<std::byte> out(raw.size());
  std::memcpy(out.data(), raw.data(), raw.size());
  return out;
}

TEST(ElfProbe, ADynamicProgramHasAnInterpreter) {
  EXPECT_EQ(elf_linkage(head_of("/bin/sh")), ElfLinkage::Dynamic);
}

TEST(ElfProbe, ScriptsAndGarbageAreNotElf) {
  const char script[] = "#!/bin/sh\necho hi\n";
  EXPECT_EQ(elf_linkage(std::as_bytes(std::span(script))), ElfLinkage::NotElf);
  EXPECT_EQ(elf_linkage({}), ElfLinkage::NotElf);
}

TEST(ElfProbe, AHeaderWithoutPtInterpIsStatic) {
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_phoff = sizeof eh;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 1;
  Elf64_Phdr ph{};
  ph.p_type = PT_LOAD;
  std::vector<std::byte> image(sizeof eh + sizeof ph);
  std::memcpy(image.data(), &eh, sizeof eh);
  std::memcpy(image.data() + sizeof eh, &ph, sizeof ph);
  EXPECT_EQ(elf_linkage(image), ElfLinkage::Static);
  ph.p_type = PT_INTERP;
  std::memcpy(image.data() + sizeof eh, &ph, sizeof ph);
  EXPECT_EQ(elf_linkage(image), ElfLinkage::Dynamic);
  // A truncated program header table is not proof of static linkage.
  image.resize(sizeof eh + 8);
  EXPECT_EQ(elf_linkage(image), ElfLinkage::Dynamic);
}

template <class Ehdr>
std::vector<std::byte> header(unsigned char cls, unsigned machine) {
  Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = cls;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_machine = static_cast<decltype(eh.e_machine)>(machine);
  std::vector<std::byte> out(sizeof eh);
  std::memcpy(out.data(), &eh, sizeof eh);
  return out;
}

TEST(ElfProbe, TheMachineSaysWhichLibraryAProgramNeeds) {
  EXPECT_EQ(elf_machine(header<Elf64_Ehdr>(ELFCLASS64, EM_X86_64)), ElfMachine::X86_64);
  EXPECT_EQ(elf_machine(header<Elf32_Ehdr>(ELFCLASS32, EM_386)), ElfMachine::I386);
  // x32: 32-bit class, x86-64 instructions; and a foreign machine.
  EXPECT_EQ(elf_machine(header<Elf32_Ehdr>(ELFCLASS32, EM_X86_64)), ElfMachine::Other);
  EXPECT_EQ(elf_machine(header<Elf64_Ehdr>(ELFCLASS64, EM_AARCH64)), ElfMachine::Other);
  const char script[] = "#!/bin/sh\n";
  EXPECT_EQ(elf_machine(std::as_bytes(std::span(script))), ElfMachine::NotElf);
  EXPECT_EQ(elf_machine({}), ElfMachine::NotElf);
}

}  // namespace
}  // namespace socksify
