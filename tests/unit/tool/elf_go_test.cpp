#include "tool/elf_go.hpp"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace socksify {
namespace {

ReadAt reader(const std::vector<std::byte>& file) {
  return [&file](std::uint64_t off, std::span<std::byte> out) {
    if (off > file.size() || out.size() > file.size() - off) return false;
    std::memcpy(out.data(), file.data() + off, out.size());
    return true;
  };
}

// A minimal ELF64: header, a string table of section names, section headers.
std::vector<std::byte> elf_with_sections(const std::vector<std::string>& names) {
  std::string strtab(1, '\0');
  std::vector<std::uint32_t> offsets;
  for (const auto& n : names) {
    offsets.push_back(static_cast<std::uint32_t>(strtab.size()));
    strtab += n;
    strtab += '\0';
  }
  const std::uint32_t shstrtab_name = static_cast<std::uint32_t>(strtab.size());
  strtab += ".shstrtab";
  strtab += '\0';
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_machine = EM_X86_64;
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = static_cast<Elf64_Half>(names.size() + 2);  // null section first
  eh.e_shstrndx = static_cast<Elf64_Half>(names.size() + 1);
  const std::size_t strtab_at = sizeof eh;
  eh.e_shoff = strtab_at + strtab.size();
  std::vector<Elf64_Shdr> sh(eh.e_shnum);
  for (std::size_t i = 0; i < names.size(); ++i) sh[i + 1].sh_name = offsets[i];
  sh.back().sh_name = shstrtab_name;
  sh.back().sh_offset = strtab_at;
  sh.back().sh_size = strtab.size();
  std::vector<std::byte> out(eh.e_shoff + sh.size() * sizeof(Elf64_Shdr));
  std::memcpy(out.data(), &eh, sizeof eh);
  std::memcpy(out.data() + strtab_at, strtab.data(), strtab.size());
  std::memcpy(out.data() + eh.e_shoff, sh.data(), sh.size() * sizeof(Elf64_Shdr));
  return out;
}

TEST(ElfGo, TheGoBuildIdNoteOrBuildInfoMakesAGoProgram) {
  const auto note = elf_with_sections({".text", ".note.go.buildid", ".data"});
  EXPECT_TRUE(elf_is_go(reader(note)));
  const auto info = elf_with_sections({".text", ".go.buildinfo"});
  EXPECT_TRUE(elf_is_go(reader(info)));
}

TEST(ElfGo, FoundPastTheFirstChunkOfHeadersAndInALongNameTable) {
  // The headers are read 32 at a time and a name table over 4 KiB name by
  // name (no allocation: exec_guard asks in vfork children).
  std::vector<std::string> names;
  for (int i = 0; i < 70; ++i) names.push_back(".section." + std::to_string(i));
  names.push_back(".go.buildinfo");
  EXPECT_TRUE(elf_is_go(reader(elf_with_sections(names))));
  names.back() = ".go.buildinfo.not";
  EXPECT_FALSE(elf_is_go(reader(elf_with_sections(names))));
  std::vector<std::string> long_names;
  for (int i = 0; i < 40; ++i) long_names.push_back(std::string(150, 'x') + std::to_string(i));
  long_names.push_back(".note.go.buildid");
  EXPECT_TRUE(elf_is_go(reader(elf_with_sections(long_names))));
  long_names.back() = ".note.go.buildidX";
  EXPECT_FALSE(elf_is_go(reader(elf_with_sections(long_names))));
}

TEST(ElfGo, OtherProgramsAreNot) {
  const auto c = elf_with_sections({".text", ".note.gnu.build-id", ".gopclntab.x"});
  EXPECT_FALSE(elf_is_go(reader(c)));
  std::ifstream in("/bin/sh", std::ios::binary);
  std::vector<char> raw((std::istreambuf_iterator<char>(in)), {});
  std::vector<std::byte> sh(raw.size());
  std::memcpy(sh.data(), raw.data(), raw.size());
  ASSERT_FALSE(sh.empty());
  EXPECT_FALSE(elf_is_go(reader(sh)));
}

TEST(ElfGo, TruncatedOrHostileHeadersAreNotGo) {
  auto file = elf_with_sections({".go.buildinfo"});
  EXPECT_FALSE(elf_is_go(reader(std::vector<std::byte>(file.begin(), file.begin() + 40))));
  auto cut = file;
  cut.resize(cut.size() - 1);  // the last section header is short
  EXPECT_FALSE(elf_is_go(reader(cut)));
  auto bad_index = file;
  Elf64_Ehdr eh;
  std::memcpy(&eh, bad_index.data(), sizeof eh);
  eh.e_shstrndx = eh.e_shnum;  // out of range
  std::memcpy(bad_index.data(), &eh, sizeof eh);
  EXPECT_FALSE(elf_is_go(reader(bad_index)));
  const char script[] = "#!/bin/sh\n";
  std::vector<std::byte> text(sizeof script);
  std::memcpy(text.data(), script, sizeof script);
  EXPECT_FALSE(elf_is_go(reader(text)));
}

}  // namespace
}  // namespace socksify
