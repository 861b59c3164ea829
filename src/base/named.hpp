// Tables of an enum's values and what each stands for (its name in logs and
// config files, a reply code's errno and text): one row per value, read by
// row_for(), instead of one switch per question asked of the value. A value
// with no row gets the caller's fallback, as a switch's default would.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "base/ascii.hpp"

namespace socksify {

// The first row whose key is key; nullptr when none is.
template <typename Row, std::size_t N, typename Key>
constexpr const Row* row_for(const Row (&rows)[N], Key key) {
  for (const Row& row : rows) {
    if (row.key == key) return &row;
  }
  return nullptr;
}

// A value and its name.
template <typename E>
struct Named {
  E key;
  std::string_view name;
};

template <typename E, std::size_t N>
constexpr std::string_view name_of(const Named<E> (&names)[N], E value,
                                   std::string_view otherwise = {}) {
  const Named<E>* row = row_for(names, value);
  return row != nullptr ? row->name : otherwise;
}

// The value named name, compared in ASCII without case (config keywords).
template <typename E, std::size_t N>
constexpr std::optional<E> value_named(const Named<E> (&names)[N], std::string_view name) {
  for (const Named<E>& row : names) {
    if (ascii::iequals(row.name, name)) return row.key;
  }
  return std::nullopt;
}

// A code a peer answers with, the errno it becomes and its text (a proxy's
// reply codes).
template <typename E>
struct CodeMeaning {
  E key;
  int error;
  std::string_view text;
};

template <typename E, std::size_t N>
constexpr int error_of(const CodeMeaning<E> (&codes)[N], E code, int otherwise) {
  const CodeMeaning<E>* row = row_for(codes, code);
  return row != nullptr ? row->error : otherwise;
}

template <typename E, std::size_t N>
constexpr std::string_view text_of(const CodeMeaning<E> (&codes)[N], E code,
                                   std::string_view otherwise) {
  const CodeMeaning<E>* row = row_for(codes, code);
  return row != nullptr ? row->text : otherwise;
}

}  // namespace socksify
