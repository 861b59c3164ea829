// Whether an ELF file is a Go program: Go's linker always writes a
// .note.go.buildid section, and .go.buildinfo (module and build settings)
// since Go 1.13; `strip` keeps both. Go makes its own system calls, so
// LD_PRELOAD never sees them, even when it links libc for cgo.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

namespace socksify {

// Reads exactly out.size() bytes at `offset` of the file; false past its end.
using ReadAt = std::function<bool(std::uint64_t offset, std::span<std::byte> out)>;

// Looks through the section headers (64-bit little-endian ELF only; anything
// else is not Go for x86-64).
bool elf_is_go(const ReadAt& read_at);

}  // namespace socksify
