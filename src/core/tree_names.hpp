// TreeNames: the one remote-DNS name table of a process, behind every resolver
// entry point of the library (getaddrinfo, the gethostbyname family,
// getnameinfo, gethostbyaddr in shim/resolve.cpp; the connect and sendto
// path's fake-address lookup in core/route.cpp; UDP sources in
// core/udp_recv.cpp; the DNS stub and the res_* hooks through
// dns::NameTableSource over it). Runtime::names() returns it when remote DNS
// is on.
//
// Two modes, fixed at load:
//   - tree: the launcher started us with remote DNS and SOCKSIFY_NAME_TABLE
//     names its keeper's memfd (dns/tree_table_ref.hpp). The first call that
//     needs the table opens /proc/<pid>/fd/<n>, maps it MAP_SHARED, closes the
//     fd and attaches the SharedNameTable (no fd or thread at start-up; a
//     program that closes every fd afterwards loses nothing; a forked child
//     inherits the mapping). Lock-free: racing threads each map, one wins a
//     CAS, the others unmap, so fork needs no handler.
//     When the table cannot be attached (the keeper is gone, /proc is not
//     mounted, a process that changed its credentials is refused the
//     keeper's /proc entry, the region is foreign or its ranges differ from
//     this process's configuration) the process FAILS CLOSED: new names get
//     EAI_FAIL / NO_RECOVERY, a connect to a fake address is refused as
//     having no name behind it, and one error line says why (once per
//     process; each later use tries to attach again). It never falls back to
//     a per-process table: that table's addresses would collide with the
//     tree's (240.0.0.1 would be another name in the parent), breaking the
//     rule that an address never leads to a second name.
//   - per process: plain LD_PRELOAD without the launcher (or its variable):
//     a NameTable of this process only, as before the tree table.
// in_range(), and endpoint_for() of an address outside the ranges, answer
// from the configured ranges (FakeNames) without attaching, so the routing of
// non-fake addresses never touches the table.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

#include "base/cidr.hpp"
#include "dns/fake_names.hpp"

namespace socksify {

class NameTable;
class SharedNameTable;

class TreeNames final : public FakeNames {
 public:
  static std::unique_ptr<TreeNames> per_process(const Cidr& v4, const Cidr& v6,
                                                std::size_t capacity);
  // path: the value of SOCKSIFY_NAME_TABLE (parsed when first needed).
  static std::unique_ptr<TreeNames> tree(std::string path, const Cidr& v4, const Cidr& v6);
  ~TreeNames() override;

  std::optional<std::uint64_t> number_for(std::string_view lowered) override;
  std::optional<std::uint64_t> held_number(std::string_view lowered) const override;
  std::size_t name_of(std::uint64_t number, std::span<char> out) const override;
  bool serves(int family) const override;
  bool exhausted() const override;
  std::uint64_t address_count() const override;

  bool is_tree() const { return own_ == nullptr; }
  // The tree's table, attaching it if needed; nullptr when it cannot be
  // (logged) or in per-process mode. For tests and diagnostics.
  SharedNameTable* shared() const;

  // For pthread_atfork (the per-process table has a mutex; the tree's none).
  void lock_for_fork();
  void unlock_after_fork();

 private:
  TreeNames() = default;
  // The table to ask: the own one, or the tree's (nullptr: fail closed).
  FakeNames* table() const;
  SharedNameTable* attach() const;

  std::unique_ptr<NameTable> own_;
  std::string path_;
  mutable std::atomic<SharedNameTable*> shared_{nullptr};
  mutable std::atomic<bool> reported_{false};
};

}  // namespace socksify
