// Whether a program can be reached by LD_PRELOAD at all: a statically linked
// ELF (no PT_INTERP) never loads the dynamic loader, so it would bypass us.
#pragma once

#include <cstddef>
#include <span>

namespace socksify {

enum class ElfLinkage { NotElf, Static, Dynamic };

// Looks at the first bytes of a file (the ELF header and program headers; 4 KiB
// covers them in practice).
ElfLinkage elf_linkage(std::span<const std::byte> head);

// Which library a program needs: the loader refuses an object of the other
// class ("wrong ELF class: ignored") and runs the program unproxied.
enum class ElfMachine { NotElf, X86_64, I386, Other };
ElfMachine elf_machine(std::span<const std::byte> head);

}  // namespace socksify
