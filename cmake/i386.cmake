# Toolchain file for the 32-bit x86 (i386) build of libsocksify, from the same
# sources as the 64-bit one, on an x86-64 host with gcc-multilib/g++-multilib:
#   cmake -S . -B build-i386 -DCMAKE_TOOLCHAIN_FILE=cmake/i386.cmake
# Not a cross build as far as CMake is concerned (the host runs i386 programs),
# so the unit tests run and are discovered as usual.
set(CMAKE_C_FLAGS_INIT "-m32")
set(CMAKE_CXX_FLAGS_INIT "-m32")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-m32")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-m32")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-m32")
# The 32-bit libraries of Debian's multilib (libc6-i386) and multiarch (:i386)
# packages; headers (fmt, gtest sources) are shared with the 64-bit build.
set(CMAKE_LIBRARY_ARCHITECTURE i386-linux-gnu)
set(SOCKSIFY_ARCH i386 CACHE STRING "Architecture this tree builds for")
